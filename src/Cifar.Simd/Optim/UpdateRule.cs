using System.Numerics;
using Cifar.Simd.Kernels;

namespace Cifar.Simd.Optim;

/// <summary>
/// A first-order update rule from CS231n's <c>optim.py</c>, applied in one vectorized pass over a
/// flat parameter buffer. State (velocity, caches, moments) lives in buffers parallel to the
/// parameters, allocated on the first <see cref="Update"/> for a given length and reused after.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public abstract class UpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private double _learningRate;

    /// <summary>Creates a rule with the given learning rate.</summary>
    protected UpdateRule(double learningRate)
    {
        LearningRate = learningRate;
        _range = new RangeApply(this);
    }

    private readonly RangeApply _range;

    /// <summary>CS231n's <c>config['learning_rate']</c>; must be &gt; 0 and finite, also once rounded to <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not &gt; 0, or is not finite in <typeparamref name="T"/>.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0) || !double.IsFinite(value))
                ThrowHelper.OutOfRange("learningRate", value, $"The learning rate must be a finite number > 0; got {value}.");
            // 1e300 is infinite as a float and would turn every update into NaN; one that decays below float's range is harmless.
            if (!T.IsFinite(T.CreateTruncating(value)))
                ThrowHelper.OutOfRange("learningRate", value, $"The learning rate must be finite as a {typeof(T).Name}; got {value}.");
            _learningRate = value;
        }
    }

    /// <summary>The CS231n name of the rule: <c>sgd</c>, <c>sgd_momentum</c>, <c>rmsprop</c>, <c>adam</c> or <c>adagrad</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Updates <paramref name="w"/> in place from its gradient <paramref name="dw"/> (same length).
    /// The first call sizes the rule's state to <c>w.Length</c>; later calls must pass the same length.
    /// Long buffers are updated on the worker pool in fixed ranges; every element's arithmetic is the
    /// same on any number of threads.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, or differ from the state's length.</exception>
    public unsafe void Update(Span<T> w, ReadOnlySpan<T> dw)
    {
        if (w.Length != dw.Length)
            ThrowHelper.Argument($"The gradient has {dw.Length} elements but the parameters have {w.Length}.", nameof(dw));
        InitializeState(w.Length);
        BeginStep();
        fixed (T* pw = w)
        fixed (T* pdw = dw)
        {
            _range.W = pw;
            _range.Dw = pdw;
            try
            {
                ParallelLoops.For(w.Length, _range);
            }
            finally
            {
                _range.W = null;
                _range.Dw = null;
            }
        }
    }

    // The per-chunk call of Apply; pointers because the caller's spans cannot be stored in a field (they are pinned for the call).
    private sealed unsafe class RangeApply(UpdateRule<T> rule) : RangeWork
    {
        public T* W, Dw;

        public override void Run(int start, int count) =>
            rule.Apply(new Span<T>(W + start, count), new ReadOnlySpan<T>(Dw + start, count), start);
    }

    /// <summary>The number of parameters the state is sized for, or −1 before the first update.</summary>
    public int StateLength { get; private set; } = -1;

    /// <summary>
    /// Sizes the state for <paramref name="length"/> parameters (zeroed) so it can be read or
    /// preset before the first update; does nothing when it is already that size.
    /// </summary>
    /// <exception cref="ArgumentException">The state is already sized for another length.</exception>
    public void InitializeState(int length)
    {
        if (length < 0)
            ThrowHelper.OutOfRange(nameof(length), length, "A parameter count must be ≥ 0.");
        if (StateLength == length) return;
        if (StateLength >= 0)
            ThrowHelper.Argument($"This {Name} rule holds state for {StateLength} parameters; it cannot update {length}. Use one rule per parameter buffer.", "w");
        AllocateState(length);
        StateLength = length;
    }

    /// <summary>Allocates zeroed state buffers for <paramref name="length"/> parameters.</summary>
    protected abstract void AllocateState(int length);

    /// <summary>
    /// The names of the rule's state buffers, as CS231n's <c>config</c> keys: <c>velocity</c> (sgd_momentum),
    /// <c>cache</c> (rmsprop, adagrad), <c>m</c> and <c>v</c> (adam); none for sgd. Scalar state (adam's <c>t</c>)
    /// is a property of the rule.
    /// </summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>
    /// The state buffer named <paramref name="name"/>, parallel to the parameters; empty until the state is sized
    /// by <see cref="InitializeState"/> or the first <see cref="Update"/>. Writing to it presets the state (e.g. from a checkpoint).
    /// </summary>
    /// <exception cref="KeyNotFoundException">The rule has no state of that name; the message lists the names it has.</exception>
    public Span<T> GetState(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = 0; i < StateNames.Count; i++)
            if (StateNames[i] == name) return StateBuffer(i);
        throw new KeyNotFoundException($"The {Name} rule has no state '{name}'; it has {(StateNames.Count == 0 ? "none" : string.Join(", ", StateNames))}.");
    }

    /// <summary>The state buffer at position <paramref name="index"/> of <see cref="StateNames"/>.</summary>
    protected abstract Span<T> StateBuffer(int index);

    /// <summary>
    /// The update of one range of the parameters: <paramref name="w"/> and <paramref name="dw"/> are elements
    /// [offset, offset + length) of the buffers, so state is sliced at <paramref name="offset"/>. Ranges are
    /// disjoint and may run on several threads at once, so an implementation touches nothing outside its range.
    /// </summary>
    protected abstract void Apply(Span<T> w, ReadOnlySpan<T> dw, int offset);

    /// <summary>Called once per <see cref="Update"/> before <see cref="Apply"/> (Adam counts its time step here).</summary>
    protected virtual void BeginStep() { }

    /// <summary>Converts a double hyperparameter to the element type once per update.</summary>
    protected static T Cast(double value) => T.CreateChecked(value);

    /// <summary>Throws unless <paramref name="value"/> lies in [0, 1).</summary>
    protected static double CheckUnitInterval(double value, string name)
    {
        if (!(value >= 0 && value < 1))
            ThrowHelper.OutOfRange(name, value, $"{name} must lie in [0, 1); got {value}.");
        return value;
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and &gt; 0, in double and once rounded to <typeparamref name="T"/>.</summary>
    protected static double CheckPositive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value))
            ThrowHelper.OutOfRange(name, value, $"{name} must be a finite number > 0; got {value}.");
        // 1e300 is infinite and 1e-50 zero as a float; either turns updates into NaN.
        T rounded = T.CreateTruncating(value);
        if (!(rounded > T.Zero) || !T.IsFinite(rounded))
            ThrowHelper.OutOfRange(name, value, $"{name} must be a finite number > 0 as a {typeof(T).Name}; got {value}, which rounds to {rounded}.");
        return value;
    }
}
