using System.Numerics;

namespace Cifar.Simd.Models;

// Temporary: row kernels the models need until the Kernels layer provides them.
internal static class ModelKernels
{
    public static double SoftmaxLossInPlace<T>(Span<T> scores, ReadOnlySpan<int> y, int n, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double loss = 0;
        T invN = T.One / T.CreateChecked(n);
        for (int i = 0; i < n; i++)
        {
            var row = scores.Slice(i * c, c);
            T max = System.Numerics.Tensors.TensorPrimitives.Max<T>(row);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, max, row);
            T logSum = T.Log(SumExp(row));
            loss -= double.CreateChecked(row[y[i]] - logSum);
            for (int j = 0; j < c; j++) row[j] = T.Exp(row[j] - logSum) * invN;
            row[y[i]] -= invN;
        }
        return loss / n;
    }

    private static T SumExp<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = T.Zero;
        foreach (var v in row) s += T.Exp(v);
        return s;
    }

    public static void ColumnSums<T>(ReadOnlySpan<T> m, int n, int c, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        sums.Slice(0, c).Clear();
        for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(sums, m.Slice(i * c, c), sums);
    }

    public static void ReluMaskColumnSums<T>(Span<T> dh, ReadOnlySpan<T> h, int n, int c, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        sums.Slice(0, c).Clear();
        for (int i = 0; i < n; i++)
        {
            var row = dh.Slice(i * c, c);
            var hr = h.Slice(i * c, c);
            for (int j = 0; j < c; j++) if (!(hr[j] > T.Zero)) row[j] = T.Zero;
            System.Numerics.Tensors.TensorPrimitives.Add(sums, row, sums);
        }
    }
}
