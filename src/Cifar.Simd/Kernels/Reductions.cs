using System.Numerics;
using System.Runtime.InteropServices;

namespace Cifar.Simd.Kernels;

/// <summary>
/// Column reductions of a row-major (N, D) matrix in a fixed order: each column is summed row by
/// row (vectorized across columns), so a result never depends on the vector width, the buffer's
/// address or the thread count.
/// </summary>
public static class Reductions
{
    /// <summary>Column sums: <c>sums[j] = Σ_i x[i, j]</c>. x: (N, D), sums: (D,). N = 0 gives zeros.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void ColumnSums<T>(ReadOnlySpan<T> x, Span<T> sums, int n, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix(n, d);
        ThrowHelper.CheckLength(sums.Length, d, nameof(sums), $"column sums over D = {d}");
        sums.Slice(0, d).Clear();
        AddColumnSums(x, sums, n, d);
    }

    /// <summary>Accumulating column sums: <c>sums[j] += Σ_i x[i, j]</c>. x: (N, D), sums: (D,).</summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void AddColumnSums<T>(ReadOnlySpan<T> x, Span<T> sums, int n, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix(n, d);
        ThrowHelper.CheckLength(x.Length, (long)n * d, nameof(x), $"a ({n}, {d}) matrix");
        ThrowHelper.CheckLength(sums.Length, d, nameof(sums), $"column sums over D = {d}");
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T ps = ref MemoryMarshal.GetReference(sums);
        int w = Vector.IsHardwareAccelerated ? Vector<T>.Count : int.MaxValue;
        for (int r = 0; r < n; r++)
        {
            nuint row = (nuint)r * (nuint)d;
            int j = 0;
            for (; j <= d - w; j += w)
                (Vector.LoadUnsafe(ref ps, (nuint)j) + Vector.LoadUnsafe(ref px, row + (nuint)j)).StoreUnsafe(ref ps, (nuint)j);
            // Each column is an independent sequential sum, so the scalar tail matches the vector lanes bit for bit.
            for (; j < d; j++)
                System.Runtime.CompilerServices.Unsafe.Add(ref ps, j) += System.Runtime.CompilerServices.Unsafe.Add(ref px, row + (nuint)j);
        }
    }

    /// <summary>Accumulating column sums of a product: <c>sums[j] += Σ_i x[i, j]·y[i, j]</c>. x, y: (N, D), sums: (D,).</summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void AddColumnDots<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> sums, int n, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix(n, d);
        ThrowHelper.CheckLength(x.Length, (long)n * d, nameof(x), $"a ({n}, {d}) matrix");
        ThrowHelper.CheckLength(y.Length, (long)n * d, nameof(y), $"a ({n}, {d}) matrix");
        ThrowHelper.CheckLength(sums.Length, d, nameof(sums), $"column sums over D = {d}");
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(y);
        ref T ps = ref MemoryMarshal.GetReference(sums);
        int w = Vector.IsHardwareAccelerated ? Vector<T>.Count : int.MaxValue;
        for (int r = 0; r < n; r++)
        {
            nuint row = (nuint)r * (nuint)d;
            int j = 0;
            // Multiply then add (not FMA) so the vector lanes and the scalar tail round identically.
            for (; j <= d - w; j += w)
                (Vector.LoadUnsafe(ref ps, (nuint)j) + Vector.LoadUnsafe(ref px, row + (nuint)j) * Vector.LoadUnsafe(ref py, row + (nuint)j))
                    .StoreUnsafe(ref ps, (nuint)j);
            for (; j < d; j++)
                System.Runtime.CompilerServices.Unsafe.Add(ref ps, j) +=
                    System.Runtime.CompilerServices.Unsafe.Add(ref px, row + (nuint)j) * System.Runtime.CompilerServices.Unsafe.Add(ref py, row + (nuint)j);
        }
    }

    internal static void CheckMatrix(int n, int d)
    {
        if (n < 0 || d < 0)
            ThrowHelper.Argument($"Matrix dimensions must be ≥ 0; got N = {n}, D = {d}.");
    }
}
