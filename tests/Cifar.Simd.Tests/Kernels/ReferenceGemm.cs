using System.Numerics;
using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>The naive twin of <see cref="Gemm"/>: a plain triple loop accumulating in double.</summary>
internal static class ReferenceGemm
{
    /// <summary>op(A)[i, p] for A stored M×K, or K×M when transposed.</summary>
    public static double A<T>(ReadOnlySpan<T> a, bool transposeA, int m, int k, int i, int p) where T : INumberBase<T> =>
        double.CreateChecked(transposeA ? a[p * m + i] : a[i * k + p]);

    /// <summary>op(B)[p, j] for B stored K×N, or N×K when transposed.</summary>
    public static double B<T>(ReadOnlySpan<T> b, bool transposeB, int k, int n, int p, int j) where T : INumberBase<T> =>
        double.CreateChecked(transposeB ? b[j * k + p] : b[p * n + j]);

    /// <summary>
    /// Returns the expected C in double and, per element, the magnitude Σ|a||b| + |c₀| + |bias| that
    /// scales its rounding error.
    /// </summary>
    public static (double[] C, double[] Magnitude) Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c0, GemmEpilogue epilogue, ReadOnlySpan<T> bias)
        where T : INumberBase<T>
    {
        var c = new double[m * n];
        var mag = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double prod = A(a, transposeA, m, k, i, p) * B(b, transposeB, k, n, p, j);
                    sum += prod;
                    abs += Math.Abs(prod);
                }
                if (epilogue == GemmEpilogue.Accumulate)
                {
                    double old = double.CreateChecked(c0[i * n + j]);
                    sum += old;
                    abs += Math.Abs(old);
                }
                if (epilogue is GemmEpilogue.Bias or GemmEpilogue.BiasRelu)
                {
                    double bj = double.CreateChecked(bias[j]);
                    sum += bj;
                    abs += Math.Abs(bj);
                }
                if (epilogue == GemmEpilogue.BiasRelu) sum = double.IsNaN(sum) ? sum : Math.Max(0, sum);
                c[i * n + j] = sum;
                mag[i * n + j] = abs;
            }
        }
        return (c, mag);
    }
}
