using System.Numerics;

namespace Cifar.Simd.Optim;

/// <summary>Vanilla stochastic gradient descent: <c>w -= learning_rate * dw</c>.</summary>
public sealed class Sgd<T> : UpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the rule; CS231n's default learning rate is 1e-2.</summary>
    public Sgd(double learningRate = 1e-2) : base(learningRate) { }

    /// <inheritdoc/>
    public override string Name => "sgd";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => [];

    /// <inheritdoc/>
    protected override void AllocateState(int length) { }

    /// <inheritdoc/>
    protected override Span<T> StateBuffer(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, "sgd has no state.");

    /// <inheritdoc/>
    protected override void Apply(Span<T> w, ReadOnlySpan<T> dw, int offset)
    {
        T lr = Cast(LearningRate);
        var vlr = new Vector<T>(lr);
        int i = 0;
        for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var vw = new Vector<T>(w.Slice(i)) - vlr * new Vector<T>(dw.Slice(i));
            vw.CopyTo(w.Slice(i));
        }
        // In-place updates cannot use an overlapping last vector (it would update twice).
        for (; i < w.Length; i++) w[i] -= lr * dw[i];
    }
}

/// <summary>SGD with momentum: <c>v = momentum * v - learning_rate * dw; w += v</c>.</summary>
public sealed class SgdMomentum<T> : UpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _velocity = [];

    /// <summary>Creates the rule with CS231n's defaults (learning rate 1e-2, momentum 0.9).</summary>
    public SgdMomentum(double learningRate = 1e-2, double momentum = 0.9) : base(learningRate) =>
        Momentum = CheckUnitInterval(momentum, nameof(momentum));

    /// <summary>The momentum coefficient in [0, 1).</summary>
    public double Momentum { get; }

    /// <summary>The velocity, parallel to the parameters (empty before the first update).</summary>
    public Span<T> Velocity => _velocity;

    /// <inheritdoc/>
    public override string Name => "sgd_momentum";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames { get; } = ["velocity"];

    /// <inheritdoc/>
    protected override Span<T> StateBuffer(int index) => _velocity;

    /// <inheritdoc/>
    protected override void AllocateState(int length) => _velocity = new T[length];

    /// <inheritdoc/>
    protected override void Apply(Span<T> w, ReadOnlySpan<T> dw, int offset)
    {
        T lr = Cast(LearningRate), mu = Cast(Momentum);
        Span<T> v = _velocity.AsSpan(offset, w.Length);
        var vlr = new Vector<T>(lr);
        var vmu = new Vector<T>(mu);
        int i = 0;
        for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var vv = vmu * new Vector<T>(v.Slice(i)) - vlr * new Vector<T>(dw.Slice(i));
            vv.CopyTo(v.Slice(i));
            (new Vector<T>(w.Slice(i)) + vv).CopyTo(w.Slice(i));
        }
        for (; i < w.Length; i++)
        {
            v[i] = mu * v[i] - lr * dw[i];
            w[i] += v[i];
        }
    }
}

/// <summary>
/// RMSProp: <c>cache = decay_rate * cache + (1 - decay_rate) * dw²;
/// w -= learning_rate * dw / (sqrt(cache) + epsilon)</c>.
/// </summary>
public sealed class RmsProp<T> : UpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _cache = [];

    /// <summary>Creates the rule with CS231n's defaults (learning rate 1e-2, decay 0.99, epsilon 1e-8).</summary>
    public RmsProp(double learningRate = 1e-2, double decayRate = 0.99, double epsilon = 1e-8) : base(learningRate)
    {
        DecayRate = CheckUnitInterval(decayRate, nameof(decayRate));
        Epsilon = CheckPositive(epsilon, nameof(epsilon));
    }

    /// <summary>The decay of the squared-gradient cache, in [0, 1).</summary>
    public double DecayRate { get; }

    /// <summary>Added to the root to avoid division by zero.</summary>
    public double Epsilon { get; }

    /// <summary>The moving average of squared gradients (empty before the first update).</summary>
    public Span<T> Cache => _cache;

    /// <inheritdoc/>
    public override string Name => "rmsprop";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames { get; } = ["cache"];

    /// <inheritdoc/>
    protected override Span<T> StateBuffer(int index) => _cache;

    /// <inheritdoc/>
    protected override void AllocateState(int length) => _cache = new T[length];

    /// <inheritdoc/>
    protected override void Apply(Span<T> w, ReadOnlySpan<T> dw, int offset)
    {
        T lr = Cast(LearningRate), decay = Cast(DecayRate), oneMinus = Cast(1 - DecayRate), eps = Cast(Epsilon);
        Span<T> cache = _cache.AsSpan(offset, w.Length);
        int i = 0;
        for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var g = new Vector<T>(dw.Slice(i));
            var c = new Vector<T>(decay) * new Vector<T>(cache.Slice(i)) + new Vector<T>(oneMinus) * g * g;
            c.CopyTo(cache.Slice(i));
            (new Vector<T>(w.Slice(i)) - new Vector<T>(lr) * g / (Vector.SquareRoot(c) + new Vector<T>(eps))).CopyTo(w.Slice(i));
        }
        for (; i < w.Length; i++)
        {
            T g = dw[i];
            cache[i] = decay * cache[i] + oneMinus * g * g;
            w[i] -= lr * g / (T.Sqrt(cache[i]) + eps);
        }
    }
}

/// <summary>
/// Adam with bias correction, <c>t</c> incremented before it is used:
/// <c>m = β1·m + (1−β1)·dw; v = β2·v + (1−β2)·dw²; w -= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)</c>.
/// </summary>
public sealed class Adam<T> : UpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _m = [], _v = [];

    /// <summary>Creates the rule with CS231n's defaults (learning rate 1e-3, β1 0.9, β2 0.999, ε 1e-8).</summary>
    public Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : base(learningRate)
    {
        Beta1 = CheckUnitInterval(beta1, nameof(beta1));
        Beta2 = CheckUnitInterval(beta2, nameof(beta2));
        Epsilon = CheckPositive(epsilon, nameof(epsilon));
    }

    /// <summary>Decay of the first moment, in [0, 1).</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second moment, in [0, 1).</summary>
    public double Beta2 { get; }

    /// <summary>Added to the root to avoid division by zero.</summary>
    public double Epsilon { get; }

    /// <summary>The number of updates done so far (CS231n's <c>config['t']</c>), ≥ 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long TimeStep
    {
        get;
        set
        {
            if (value < 0) ThrowHelper.OutOfRange(nameof(TimeStep), value, $"The Adam time step t counts updates and must be ≥ 0; got {value}.");
            field = value;
        }
    }

    /// <summary>The first moment (empty before the first update).</summary>
    public Span<T> M => _m;

    /// <summary>The second moment (empty before the first update).</summary>
    public Span<T> V => _v;

    /// <inheritdoc/>
    public override string Name => "adam";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames { get; } = ["m", "v"];

    /// <inheritdoc/>
    protected override Span<T> StateBuffer(int index) => index == 0 ? _m : _v;

    /// <inheritdoc/>
    protected override void AllocateState(int length)
    {
        _m = new T[length];
        _v = new T[length];
    }

    /// <inheritdoc/>
    protected override void BeginStep() => TimeStep++;

    /// <inheritdoc/>
    protected override void Apply(Span<T> w, ReadOnlySpan<T> dw, int offset)
    {
        T b1 = Cast(Beta1), b2 = Cast(Beta2), eps = Cast(Epsilon), lr = Cast(LearningRate);
        // 1 − β rounded once from double, as numpy rounds the Python scalar to the array's type.
        T c1 = Cast(1 - Beta1), c2 = Cast(1 - Beta2);
        // Bias corrections in double, as numpy computes beta**t in float64 before the array ops.
        T corr1 = Cast(1 - Math.Pow(Beta1, TimeStep)), corr2 = Cast(1 - Math.Pow(Beta2, TimeStep));
        Span<T> m = _m.AsSpan(offset, w.Length), v = _v.AsSpan(offset, w.Length);
        int i = 0;
        for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var g = new Vector<T>(dw.Slice(i));
            var vm = new Vector<T>(b1) * new Vector<T>(m.Slice(i)) + new Vector<T>(c1) * g;
            var vv = new Vector<T>(b2) * new Vector<T>(v.Slice(i)) + new Vector<T>(c2) * (g * g);
            vm.CopyTo(m.Slice(i));
            vv.CopyTo(v.Slice(i));
            var mt = vm / new Vector<T>(corr1);
            var vt = vv / new Vector<T>(corr2);
            (new Vector<T>(w.Slice(i)) - new Vector<T>(lr) * mt / (Vector.SquareRoot(vt) + new Vector<T>(eps))).CopyTo(w.Slice(i));
        }
        for (; i < w.Length; i++)
        {
            T g = dw[i];
            m[i] = b1 * m[i] + c1 * g;
            v[i] = b2 * v[i] + c2 * (g * g);
            T mt = m[i] / corr1, vt = v[i] / corr2;
            w[i] -= lr * mt / (T.Sqrt(vt) + eps);
        }
    }
}

/// <summary>AdaGrad: <c>cache += dw²; w -= learning_rate * dw / (sqrt(cache) + epsilon)</c>.</summary>
public sealed class AdaGrad<T> : UpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _cache = [];

    /// <summary>Creates the rule (learning rate 1e-2, epsilon 1e-8 by default).</summary>
    public AdaGrad(double learningRate = 1e-2, double epsilon = 1e-8) : base(learningRate) =>
        Epsilon = CheckPositive(epsilon, nameof(epsilon));

    /// <summary>Added to the root to avoid division by zero.</summary>
    public double Epsilon { get; }

    /// <summary>The running sum of squared gradients (empty before the first update).</summary>
    public Span<T> Cache => _cache;

    /// <inheritdoc/>
    public override string Name => "adagrad";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames { get; } = ["cache"];

    /// <inheritdoc/>
    protected override Span<T> StateBuffer(int index) => _cache;

    /// <inheritdoc/>
    protected override void AllocateState(int length) => _cache = new T[length];

    /// <inheritdoc/>
    protected override void Apply(Span<T> w, ReadOnlySpan<T> dw, int offset)
    {
        T lr = Cast(LearningRate), eps = Cast(Epsilon);
        Span<T> cache = _cache.AsSpan(offset, w.Length);
        int i = 0;
        for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var g = new Vector<T>(dw.Slice(i));
            var c = new Vector<T>(cache.Slice(i)) + g * g;
            c.CopyTo(cache.Slice(i));
            (new Vector<T>(w.Slice(i)) - new Vector<T>(lr) * g / (Vector.SquareRoot(c) + new Vector<T>(eps))).CopyTo(w.Slice(i));
        }
        for (; i < w.Length; i++)
        {
            T g = dw[i];
            cache[i] += g * g;
            w[i] -= lr * g / (T.Sqrt(cache[i]) + eps);
        }
    }
}
