using System.Numerics;
using System.Numerics.Tensors;

namespace Cifar.Simd.Kernels;

/// <summary>
/// Numerically stable row-wise softmax and log-softmax of a (N, C) matrix: each row's maximum is
/// subtracted before exponentiating, so large logits do not overflow (unlike
/// <c>TensorPrimitives.SoftMax</c>, which does not shift). A row holding NaN gives a NaN row.
/// </summary>
public static class Softmax
{
    // Scratch chunk for exp values when the destination cannot hold them (in-place log-softmax).
    private const int Chunk = 256;

    /// <summary>
    /// <c>y[i, :] = exp(x[i, :] − max_j x[i, j]) / Σ_j exp(x[i, j] − max_j x[i, j])</c>.
    /// x: (N, C), y: (N, C); y may be the same span as x.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void Rows<T>(ReadOnlySpan<T> x, Span<T> y, int n, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckArgs(x.Length, y.Length, n, c);
        if (c == 0) return;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<T> xi = x.Slice(i * c, c);
            Span<T> yi = y.Slice(i * c, c);
            T max = TensorPrimitives.Max(xi);
            TensorPrimitives.Subtract(xi, max, yi);
            TensorPrimitives.Exp(yi, yi);
            T sum = TensorPrimitives.Sum<T>(yi);
            TensorPrimitives.Divide(yi, sum, yi);
        }
    }

    /// <summary>
    /// <c>y[i, :] = (x[i, :] − m_i) − log Σ_j exp(x[i, j] − m_i)</c> with <c>m_i = max_j x[i, j]</c>.
    /// x: (N, C), y: (N, C); y may be the same span as x.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void LogRows<T>(ReadOnlySpan<T> x, Span<T> y, int n, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckArgs(x.Length, y.Length, n, c);
        if (c == 0) return;
        Span<T> scratch = stackalloc T[Chunk];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<T> xi = x.Slice(i * c, c);
            Span<T> yi = y.Slice(i * c, c);
            T max = TensorPrimitives.Max(xi);
            TensorPrimitives.Subtract(xi, max, yi);
            T logSum = T.Log(SumExp(yi, scratch));
            TensorPrimitives.Subtract(yi, logSum, yi);
        }
    }

    /// <summary>
    /// <c>Σ_j exp(x[j])</c> summed chunk by chunk through <paramref name="scratch"/>; the order
    /// depends only on the length, so it is reproducible.
    /// </summary>
    internal static T SumExp<T>(ReadOnlySpan<T> x, Span<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        for (int start = 0; start < x.Length; start += scratch.Length)
        {
            int len = Math.Min(scratch.Length, x.Length - start);
            Span<T> s = scratch.Slice(0, len);
            TensorPrimitives.Exp(x.Slice(start, len), s);
            sum += TensorPrimitives.Sum<T>(s);
        }
        return sum;
    }

    private static void CheckArgs(int xLength, int yLength, int n, int c)
    {
        Reductions.CheckMatrix(n, c);
        ThrowHelper.CheckLength(xLength, (long)n * c, "x", $"a ({n}, {c}) matrix");
        ThrowHelper.CheckLength(yLength, (long)n * c, "y", $"a ({n}, {c}) matrix");
    }
}
