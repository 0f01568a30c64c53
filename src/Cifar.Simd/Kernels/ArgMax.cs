using System.Numerics;

namespace Cifar.Simd.Kernels;

/// <summary>Row-wise argmax: the predicted class of each row of a score matrix.</summary>
public static class ArgMax
{
    /// <summary>
    /// Writes the index of the largest value of each row of <paramref name="scores"/> (rows × cols)
    /// into <paramref name="destination"/>; the first index wins ties, as in <c>np.argmax</c>. A
    /// NaN in a row is returned as that row's argmax (numpy's convention: NaN is the maximum).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short or cols &lt; 1.</exception>
    public static void Rows<T>(ReadOnlySpan<T> scores, int rows, int cols, Span<int> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows < 0 || cols < 1)
            ThrowHelper.Argument($"ArgMax needs rows ≥ 0 and cols ≥ 1; got rows = {rows}, cols = {cols}.");
        ThrowHelper.CheckLength(scores.Length, (long)rows * cols, "scores", $"a {rows}×{cols} score matrix");
        ThrowHelper.CheckLength(destination.Length, rows, "destination", $"{rows} rows");
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<T> row = scores.Slice(i * cols, cols);
            int best = 0;
            T max = row[0];
            for (int j = 1; j < cols && !T.IsNaN(max); j++)
            {
                if (row[j] > max || T.IsNaN(row[j])) { max = row[j]; best = j; }
            }
            destination[i] = best;
        }
    }
}
