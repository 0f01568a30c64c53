using System.Numerics;

namespace Cifar.Simd.Kernels;

/// <summary>What the GEMM does with each finished output element before storing it.</summary>
public enum GemmEpilogue
{
    /// <summary><c>C = op(A)·op(B)</c>.</summary>
    None,
    /// <summary><c>C = op(A)·op(B) + bias</c>, the bias broadcast over rows (length N).</summary>
    Bias,
    /// <summary><c>C = max(0, op(A)·op(B) + bias)</c>: the fused affine-ReLU forward.</summary>
    BiasRelu,
    /// <summary><c>C += op(A)·op(B)</c>.</summary>
    Accumulate,
}

/// <summary>
/// General matrix multiply over dense row-major spans: <c>C (M×N) = op(A)·op(B)</c>, where
/// op(A) is M×K and op(B) is K×N. With <c>transposeA</c> A is stored K×M; with <c>transposeB</c>
/// B is stored N×K. This covers the three products of an affine layer: X·W, dout·Wᵀ, Xᵀ·dout.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// Computes <c>C = op(A)·op(B)</c> followed by <paramref name="epilogue"/>. Allocates nothing.
    /// NaN in A or B propagates to the outputs it touches.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative, a span is too short, or the bias is missing or too short.</exception>
    public static void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c,
        GemmEpilogue epilogue = GemmEpilogue.None, ReadOnlySpan<T> bias = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(m, n, k, a.Length, b.Length, c.Length, epilogue, bias.Length);
        // Placeholder row-streaming kernel until the packed, blocked implementation lands.
        for (int i = 0; i < m; i++)
        {
            Span<T> ci = c.Slice(i * n, n);
            if (epilogue != GemmEpilogue.Accumulate) ci.Clear();
            for (int p = 0; p < k; p++)
            {
                T aip = transposeA ? a[p * m + i] : a[i * k + p];
                if (!transposeB)
                {
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), aip, ci, ci);
                }
                else
                {
                    for (int j = 0; j < n; j++) ci[j] += aip * b[j * k + p];
                }
            }
            if (epilogue is GemmEpilogue.Bias or GemmEpilogue.BiasRelu)
                System.Numerics.Tensors.TensorPrimitives.Add(ci, bias.Slice(0, n), ci);
            if (epilogue == GemmEpilogue.BiasRelu)
                System.Numerics.Tensors.TensorPrimitives.Max(ci, T.Zero, ci);
        }
    }

    internal static void Validate(int m, int n, int k, int aLength, int bLength, int cLength, GemmEpilogue epilogue, int biasLength)
    {
        if (m < 0 || n < 0 || k < 0)
            ThrowHelper.Argument($"GEMM dimensions must be ≥ 0; got M = {m}, N = {n}, K = {k}.");
        ThrowHelper.CheckLength(aLength, (long)m * k, "a", $"an {m}×{k} operand");
        ThrowHelper.CheckLength(bLength, (long)k * n, "b", $"a {k}×{n} operand");
        ThrowHelper.CheckLength(cLength, (long)m * n, "c", $"an {m}×{n} output");
        if (epilogue is GemmEpilogue.Bias or GemmEpilogue.BiasRelu)
            ThrowHelper.CheckLength(biasLength, n, "bias", $"a bias epilogue over N = {n} columns");
    }
}
