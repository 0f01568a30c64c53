using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Layers;

/// <summary>
/// The layer functions of CS231n assignment 2 (<c>layers.py</c>, <c>layer_utils.py</c>) in C#
/// casing. Each forward returns the output and a cache; each backward takes dout and the cache and
/// returns the gradients. Span overloads write into caller-owned buffers and allocate nothing.
/// (Named <c>Layer</c>, not <c>Layers</c>, so it does not collide with its namespace.)
/// </summary>
public static partial class Layer
{
    /// <summary>
    /// Affine forward: <c>out = x·w + b</c>, with x (N, d1, …, dk) viewed as (N, D), w (D, M), b (M,); out (N, M).
    /// NaN in x, w or b propagates to the outputs it touches.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit; the message names both shapes.</exception>
    public static (Tensor<T> Out, AffineCache<T> Cache) AffineForward<T>(Tensor<T> x, Tensor<T> w, Tensor<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, d, m) = CheckAffine(x, w, b);
        var output = Tensor<T>.Uninitialized(n, m); // (N, M)
        AffineForward<T>(x.AsReadOnlySpan(), w.AsReadOnlySpan(), b.AsReadOnlySpan(), output.AsSpan(), n, d, m);
        return (output, new AffineCache<T>(x, w, b));
    }

    /// <summary>
    /// Affine forward over spans: <c>out = x·w + b</c>; x: (N, D), w: (D, M), b: (M,), out: (N, M). Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void AffineForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> output, int n, int d, int m)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Gemm.Multiply(false, false, n, m, d, x, w, output, GemmEpilogue.Bias, b);

    /// <summary>
    /// Affine backward: <c>dx = dout·wᵀ</c> (shape of x), <c>dw = xᵀ·dout</c> (D, M), <c>db = Σ_i dout[i, :]</c> (M,);
    /// dout: (N, M).
    /// </summary>
    /// <exception cref="ArgumentException">dout is not (N, M); the message names both shapes.</exception>
    public static AffineGradients<T> AffineBackward<T>(Tensor<T> dout, AffineCache<T> cache)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(dout);
        ArgumentNullException.ThrowIfNull(cache);
        var (n, d, m) = CheckAffine(cache.X, cache.W, cache.B);
        ThrowHelper.CheckSameShape(Shape.Matrix(n, m), dout.Shape, "the affine output", nameof(dout));
        var dx = Tensor<T>.Uninitialized(cache.X.Shape.ToArray()); // (N, d1, …, dk)
        var dw = Tensor<T>.Uninitialized(d, m);                   // (D, M)
        var db = Tensor<T>.Uninitialized(m);                      // (M,)
        AffineBackward<T>(dout.AsReadOnlySpan(), cache.X.AsReadOnlySpan(), cache.W.AsReadOnlySpan(),
            dx.AsSpan(), dw.AsSpan(), db.AsSpan(), n, d, m);
        return new AffineGradients<T>(dx, dw, db);
    }

    /// <summary>
    /// Affine backward over spans: <c>dx = dout·wᵀ</c>, <c>dw = xᵀ·dout</c>, <c>db = Σ_i dout[i, :]</c>.
    /// dout: (N, M), x: (N, D), w: (D, M), dx: (N, D) or empty to skip it (a first layer), dw: (D, M), db: (M,).
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void AffineBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        Span<T> dx, Span<T> dw, Span<T> db, int n, int d, int m)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.IsEmpty)
            Gemm.Multiply(false, true, n, d, m, dout, w, dx);
        Gemm.Multiply(true, false, d, m, n, x, dout, dw);
        Reductions.ColumnSums(dout, db, n, m);
    }

    /// <summary>ReLU forward: <c>out = max(0, x)</c> elementwise, any shape. NaN stays NaN.</summary>
    public static (Tensor<T> Out, ReluCache<T> Cache) ReluForward<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        var output = Tensor<T>.Uninitialized(x.Shape.ToArray());
        Elementwise.Relu<T>(x.AsReadOnlySpan(), output.AsSpan());
        return (output, new ReluCache<T>(x));
    }

    /// <summary>ReLU forward over spans: <c>y = max(0, x)</c>; y may be x.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    public static void ReluForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.Relu(x, y);

    /// <summary>ReLU backward: <c>dx = dout · (x &gt; 0)</c>, dout the shape of x.</summary>
    /// <exception cref="ArgumentException">dout's shape differs from x's; the message names both.</exception>
    public static Tensor<T> ReluBackward<T>(Tensor<T> dout, ReluCache<T> cache) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(dout);
        ArgumentNullException.ThrowIfNull(cache);
        ThrowHelper.CheckSameShape(cache.X.Shape, dout.Shape, "x", nameof(dout));
        var dx = Tensor<T>.Uninitialized(dout.Shape.ToArray());
        Elementwise.ReluBackward<T>(dout.AsReadOnlySpan(), cache.X.AsReadOnlySpan(), dx.AsSpan());
        return dx;
    }

    /// <summary>ReLU backward over spans: <c>dx = dout · (x &gt; 0)</c>; dx may be dout.</summary>
    /// <exception cref="ArgumentException">The lengths differ or dx is too short.</exception>
    public static void ReluBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T> =>
        Elementwise.ReluBackward(dout, x, dx);

    /// <summary>
    /// Fused affine-ReLU forward (CS231n's <c>affine_relu_forward</c>): <c>out = max(0, x·w + b)</c> in one GEMM
    /// whose epilogue adds the bias and applies the ReLU. x: (N, d1, …, dk) viewed as (N, D), w: (D, M), b: (M,); out: (N, M).
    /// The cache holds out itself as the ReLU mask, so do not modify out before the backward pass.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit; the message names both shapes.</exception>
    public static (Tensor<T> Out, AffineReluCache<T> Cache) AffineReluForward<T>(Tensor<T> x, Tensor<T> w, Tensor<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, d, m) = CheckAffine(x, w, b);
        var h = Tensor<T>.Uninitialized(n, m); // (N, M)
        AffineReluForward<T>(x.AsReadOnlySpan(), w.AsReadOnlySpan(), b.AsReadOnlySpan(), h.AsSpan(), n, d, m);
        return (h, new AffineReluCache<T>(x, w, h));
    }

    /// <summary>Fused affine-ReLU forward over spans: <c>h = max(0, x·w + b)</c>; x: (N, D), w: (D, M), b: (M,), h: (N, M).</summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void AffineReluForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> h, int n, int d, int m)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Gemm.Multiply(false, false, n, m, d, x, w, h, GemmEpilogue.BiasRelu, b);

    /// <summary>
    /// Fused affine-ReLU backward: <c>dH = dout · (H &gt; 0)</c> and <c>db = Σ_i dH[i, :]</c> in one pass, then
    /// <c>dx = dH·wᵀ</c> (shape of x) and <c>dw = xᵀ·dH</c> (D, M). dout: (N, M).
    /// </summary>
    /// <exception cref="ArgumentException">dout is not (N, M); the message names both shapes.</exception>
    public static AffineGradients<T> AffineReluBackward<T>(Tensor<T> dout, AffineReluCache<T> cache)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(dout);
        ArgumentNullException.ThrowIfNull(cache);
        int n = cache.X.Rows, d = cache.X.RowLength, m = cache.W.RowLength;
        ThrowHelper.CheckSameShape(cache.H.Shape, dout.Shape, "the affine-ReLU output", nameof(dout));
        var dh = Tensor<T>.Uninitialized(n, m);                   // (N, M)
        var dx = Tensor<T>.Uninitialized(cache.X.Shape.ToArray()); // (N, d1, …, dk)
        var dw = Tensor<T>.Uninitialized(d, m);                   // (D, M)
        var db = Tensor<T>.Uninitialized(m);                      // (M,)
        AffineReluBackward<T>(dout.AsReadOnlySpan(), cache.X.AsReadOnlySpan(), cache.W.AsReadOnlySpan(), cache.H.AsReadOnlySpan(),
            dh.AsSpan(), dx.AsSpan(), dw.AsSpan(), db.AsSpan(), n, d, m);
        return new AffineGradients<T>(dx, dw, db);
    }

    /// <summary>
    /// Fused affine-ReLU backward over spans. dout: (N, M), x: (N, D), w: (D, M), h: (N, M) the forward output,
    /// dh: (N, M) scratch for <c>dout · (h &gt; 0)</c> (may be dout itself), dx: (N, D) or empty to skip it,
    /// dw: (D, M), db: (M,).
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void AffineReluBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> h,
        Span<T> dh, Span<T> dx, Span<T> dw, Span<T> db, int n, int d, int m)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.CheckLength(db.Length, m, nameof(db), $"a bias gradient over M = {m}");
        db.Slice(0, m).Clear();
        Elementwise.ReluBackwardAddColumnSums(dout, h, dh, db, n, m);
        if (!dx.IsEmpty)
            Gemm.Multiply<T>(false, true, n, d, m, dh, w, dx);
        Gemm.Multiply<T>(true, false, d, m, n, x, dh, dw);
    }

    private static (int N, int D, int M) CheckAffine<T>(Tensor<T> x, Tensor<T> w, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(b);
        if (w.Rank != 2)
            ThrowHelper.Argument($"w must be a (D, M) matrix; got shape {w.Shape}.", nameof(w));
        int n = x.Rows, d = x.Rank == 1 ? 1 : x.RowLength, m = w.RowLength;
        if (d != w.Rows)
            ThrowHelper.Argument($"Shape mismatch: x has shape {x.Shape}, viewed as ({n}, {d}), but w has shape {w.Shape}; w needs {d} rows.", nameof(w));
        ThrowHelper.CheckSameShape(new Shape(m), b.Shape, "w's columns", nameof(b));
        return (n, d, m);
    }
}
