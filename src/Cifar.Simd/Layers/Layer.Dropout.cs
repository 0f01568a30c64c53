using System.Numerics;
using System.Runtime.InteropServices;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cifar.Simd.Layers;

public static partial class Layer
{
    // Draws are made in chunks through the stack so the span overload allocates nothing.
    private const int DrawChunk = 256;

    /// <summary>
    /// Inverted dropout forward (CS231n's <c>dropout_forward</c>). Train mode draws
    /// <c>mask = (np.random.rand(*x.shape) &lt; p) / p</c> from <see cref="DropoutParam.Generator"/> (reseeded with
    /// <see cref="DropoutParam.Seed"/> first when one is set) and returns <c>out = x·mask</c>; test mode returns x itself,
    /// unchanged and uncopied, like numpy's <c>out = x</c>. x: any shape; out and mask: the shape of x.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">p is not in (0, 1].</exception>
    public static (Tensor<T> Out, DropoutCache<T> Cache) DropoutForward<T>(Tensor<T> x, DropoutParam dropoutParam)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dropoutParam);
        CheckKeepProbability(dropoutParam.P);
        if (dropoutParam.Mode == LayerMode.Test)
            return (x, new DropoutCache<T>(LayerMode.Test, null));
        NumpyRandom rng = GeneratorFor(dropoutParam);
        var mask = Tensor<T>.Uninitialized(x.Shape.ToArray());
        var output = Tensor<T>.Uninitialized(x.Shape.ToArray());
        DropoutForward<T>(x.AsReadOnlySpan(), rng, dropoutParam.P, mask.AsSpan(), output.AsSpan());
        return (output, new DropoutCache<T>(LayerMode.Train, mask));
    }

    /// <summary>
    /// Train-mode inverted dropout over spans, drawing <c>u = rng.rand(len(x))</c> in order (the same stream as
    /// one <c>np.random.rand</c> call): <c>mask = (u &lt; p) / p</c>, <c>out = x·mask</c>. x, mask, out: same length; out may be x.
    /// </summary>
    /// <exception cref="ArgumentException">p is not in (0, 1] or a span is too short.</exception>
    public static void DropoutForward<T>(ReadOnlySpan<T> x, NumpyRandom rng, double p, Span<T> mask, Span<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckKeepProbability(p);
        ThrowHelper.CheckLength(mask.Length, x.Length, nameof(mask), "a mask the length of x");
        ThrowHelper.CheckLength(output.Length, x.Length, nameof(output), "an output the length of x");
        Span<double> draws = stackalloc double[DrawChunk];
        for (int start = 0; start < x.Length; start += DrawChunk)
        {
            int len = Math.Min(DrawChunk, x.Length - start);
            Span<double> u = draws.Slice(0, len);
            rng.Rand(u);
            DropoutForward(x.Slice(start, len), u, p, mask.Slice(start, len), output.Slice(start, len));
        }
    }

    /// <summary>
    /// Train-mode inverted dropout from precomputed uniform draws u in [0, 1): <c>mask = (u &lt; p) / p</c> (the
    /// comparison made in double, the mask stored in T), <c>out = x·mask</c>. x, u, mask, out: same length; out may be x.
    /// </summary>
    /// <exception cref="ArgumentException">p is not in (0, 1] or a span is too short.</exception>
    public static void DropoutForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<double> uniform, double p, Span<T> mask, Span<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckKeepProbability(p);
        ThrowHelper.CheckLength(uniform.Length, x.Length, nameof(uniform), "one draw per element of x");
        ThrowHelper.CheckLength(mask.Length, x.Length, nameof(mask), "a mask the length of x");
        ThrowHelper.CheckLength(output.Length, x.Length, nameof(output), "an output the length of x");
        T keep = T.CreateChecked(1.0 / p);
        int i = 0;
        if (Vector.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // The comparison in double, as below; the mask is exactly 0 or keep either way.
            int w = Vector<double>.Count;
            var vp = new Vector<double>(p);
            var vkeep = new Vector<double>(1.0 / p);
            for (; i + 2 * w <= x.Length; i += 2 * w)
            {
                var m0 = Vector.ConditionalSelect(Vector.LessThan(new Vector<double>(uniform.Slice(i)), vp), vkeep, Vector<double>.Zero);
                var m1 = Vector.ConditionalSelect(Vector.LessThan(new Vector<double>(uniform.Slice(i + w)), vp), vkeep, Vector<double>.Zero);
                if (typeof(T) == typeof(float))
                {
                    Vector.Narrow(m0, m1).CopyTo(MemoryMarshal.Cast<T, float>(mask.Slice(i)));
                }
                else
                {
                    m0.CopyTo(MemoryMarshal.Cast<T, double>(mask.Slice(i)));
                    m1.CopyTo(MemoryMarshal.Cast<T, double>(mask.Slice(i + w)));
                }
            }
        }
        for (; i < x.Length; i++)
            mask[i] = uniform[i] < p ? keep : T.Zero;
        TensorPrimitives.Multiply(x, mask.Slice(0, x.Length), output.Slice(0, x.Length));
    }

    /// <summary>
    /// Dropout backward: <c>dx = dout·mask</c> in train mode; in test mode dx is dout itself (uncopied).
    /// dout: the shape of x.
    /// </summary>
    /// <exception cref="ArgumentException">dout's shape differs from the mask's.</exception>
    public static Tensor<T> DropoutBackward<T>(Tensor<T> dout, DropoutCache<T> cache) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(dout);
        ArgumentNullException.ThrowIfNull(cache);
        if (cache.Mode == LayerMode.Test || cache.Mask is null)
            return dout;
        ThrowHelper.CheckSameShape(cache.Mask.Shape, dout.Shape, "the dropout mask", nameof(dout));
        var dx = Tensor<T>.Uninitialized(dout.Shape.ToArray());
        TensorPrimitives.Multiply(dout.AsReadOnlySpan(), cache.Mask.AsReadOnlySpan(), dx.AsSpan());
        return dx;
    }

    /// <summary>Dropout backward over spans: <c>dx = dout·mask</c>; dx may be dout.</summary>
    /// <exception cref="ArgumentException">A span is too short.</exception>
    public static void DropoutBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> mask, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.CheckLength(mask.Length, dout.Length, nameof(mask), "a mask the length of dout");
        ThrowHelper.CheckLength(dx.Length, dout.Length, nameof(dx), "a gradient the length of dout");
        TensorPrimitives.Multiply(dout, mask.Slice(0, dout.Length), dx.Slice(0, dout.Length));
    }

    private static NumpyRandom GeneratorFor(DropoutParam param)
    {
        if (param.Seed is uint seed)
        {
            // CS231n calls np.random.seed(seed) on every forward pass, so a seeded layer draws the same mask each time.
            if (param.Generator is null) param.Generator = new NumpyRandom(seed);
            else param.Generator.Seed(seed);
            return param.Generator;
        }
        return param.Generator ??= new NumpyRandom((uint)System.Random.Shared.Next());
    }

    internal static void CheckKeepProbability(double p)
    {
        if (!(p > 0 && p <= 1))
            ThrowHelper.OutOfRange("p", p, $"Dropout's p is the probability of keeping a unit and must be in (0, 1]; got {p}.");
    }

    internal static LayerMode CheckMode(LayerMode mode)
    {
        if (mode is not (LayerMode.Train or LayerMode.Test))
            ThrowHelper.OutOfRange("mode", mode, $"The layer mode must be Train or Test; got {(int)mode}.");
        return mode;
    }
}
