using System.Numerics;
using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>The row and elementwise kernels against plain-loop twins, over every length 0..260 (vector widths ±1 included).</summary>
public class ElementwiseKernelTests
{
    private const int MaxLength = 260;

    private static T[] Values<T>(int seed, int count, double lo = -3, double hi = 3) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(seed);
        var v = new T[count];
        for (int i = 0; i < count; i++) v[i] = T.CreateChecked(lo + (hi - lo) * rng.NextDouble());
        // Exact zeros exercise the strict "> 0" of the ReLU mask.
        if (count > 2) v[count / 2] = T.Zero;
        return v;
    }

    private static void NaiveRelu<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] = T.IsNaN(x[i]) ? x[i] : (x[i] > T.Zero ? x[i] : T.Zero);
    }

    private static void NaiveReluBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > T.Zero ? dout[i] : T.Zero;
    }

    private static void NaiveColumnSums<T>(ReadOnlySpan<T> x, Span<T> sums, int n, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < d; j++)
        {
            T s = T.Zero;
            for (int i = 0; i < n; i++) s += x[i * d + j];
            sums[j] = s;
        }
    }

    private static void NaiveSoftmax(ReadOnlySpan<double> x, Span<double> y, bool log)
    {
        double max = double.NegativeInfinity, z = 0;
        foreach (double v in x) max = Math.Max(max, v);
        foreach (double v in x) z += Math.Exp(v - max);
        for (int i = 0; i < x.Length; i++) y[i] = log ? x[i] - max - Math.Log(z) : Math.Exp(x[i] - max) / z;
    }

    [Fact] public void Relu_Float() => Relu<float>();
    [Fact] public void Relu_Double() => Relu<double>();

    private static void Relu<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int len = 0; len <= MaxLength; len++)
        {
            var x = Values<T>(len, len);
            var dout = Values<T>(len + 1000, len);
            var expected = new T[len];
            var actual = new T[len];
            NaiveRelu<T>(x, expected);
            Elementwise.Relu<T>(x, actual);
            Assert.Equal(expected, actual);

            NaiveReluBackward<T>(dout, x, expected);
            Elementwise.ReluBackward<T>(dout, x, actual);
            Assert.Equal(expected, actual);

            // In place over dout.
            var inPlace = (T[])dout.Clone();
            Elementwise.ReluBackward<T>(inPlace, x, inPlace);
            Assert.Equal(expected, inPlace);
        }
    }

    [Fact] public void ColumnSumsAndFusedReluBackward_Float() => ColumnKernels<float>();
    [Fact] public void ColumnSumsAndFusedReluBackward_Double() => ColumnKernels<double>();

    private static void ColumnKernels<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in new[] { 0, 1, 3, 7 })
            for (int d = 0; d <= MaxLength; d++)
            {
                var x = Values<T>(d * 7 + n, n * d);
                var dout = Values<T>(d * 11 + n, n * d);
                var expected = new T[d];
                var actual = new T[d];
                // Same per-column row order as the twin, so equality is exact, not approximate.
                NaiveColumnSums<T>(x, expected, n, d);
                Reductions.ColumnSums<T>(x, actual, n, d);
                Assert.Equal(expected, actual);

                var dh = new T[n * d];
                var dhExpected = new T[n * d];
                NaiveReluBackward<T>(dout, x, dhExpected);
                // Accumulating into db = 1 adds row by row onto the existing value: ((1 + r0) + r1) + …
                for (int j = 0; j < d; j++)
                {
                    T s = T.One;
                    for (int i = 0; i < n; i++) s += dhExpected[i * d + j];
                    expected[j] = s;
                }
                var db = Enumerable.Repeat(T.One, d).ToArray();
                Elementwise.ReluBackwardAddColumnSums<T>(dout, x, dh, db, n, d);
                Assert.Equal(dhExpected, dh);
                Assert.Equal(expected, db);

                var dots = new T[d];
                Reductions.AddColumnDots<T>(x, dout, dots, n, d);
                for (int j = 0; j < d; j++)
                {
                    T s = T.Zero;
                    for (int i = 0; i < n; i++) s += x[i * d + j] * dout[i * d + j];
                    Assert.Equal(s, dots[j]);
                }
            }
    }

    [Fact]
    public void ColumnKernels_RejectTooShortBuffers()
    {
        Assert.Throws<ArgumentException>(() => Reductions.ColumnSums<double>(new double[5], new double[3], 2, 3));
        Assert.Throws<ArgumentException>(() => Reductions.ColumnSums<double>(new double[6], new double[2], 2, 3));
        Assert.Throws<ArgumentException>(() => Elementwise.ReluBackwardAddColumnSums<double>(new double[6], new double[6], new double[5], new double[3], 2, 3));
        Assert.Throws<ArgumentException>(() => Elementwise.ReluBackward<float>(new float[4], new float[5], new float[5]));
    }

    [Fact] public void Softmax_Float() => SoftmaxRows<float>(2e-6);
    [Fact] public void Softmax_Double() => SoftmaxRows<double>(1e-14);

    private static void SoftmaxRows<T>(double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 3;
        for (int c = 0; c <= MaxLength; c++)
        {
            // Logits far from 0 check the max shift: unshifted exp(±60) over/underflows float.
            var x = Values<T>(c, n * c, -60, 60);
            var expected = new double[n * c];
            var expectedLog = new double[n * c];
            var xd = x.Select(double.CreateChecked).ToArray();
            for (int i = 0; i < n; i++)
            {
                NaiveSoftmax(xd.AsSpan(i * c, c), expected.AsSpan(i * c, c), log: false);
                NaiveSoftmax(xd.AsSpan(i * c, c), expectedLog.AsSpan(i * c, c), log: true);
            }
            var y = new T[n * c];
            Softmax.Rows<T>(x, y, n, c);
            AssertClose(expected, y, tol, c);
            Softmax.LogRows<T>(x, y, n, c);
            AssertClose(expectedLog, y, tol * 100, c); // log-probabilities reach ~120 in magnitude

            var inPlace = (T[])x.Clone();
            Softmax.Rows<T>(inPlace, inPlace, n, c);
            AssertClose(expected, inPlace, tol, c);
            inPlace = (T[])x.Clone();
            Softmax.LogRows<T>(inPlace, inPlace, n, c);
            AssertClose(expectedLog, inPlace, tol * 100, c);
        }

        static void AssertClose(double[] expected, T[] actual, double tol, int c)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                double a = double.CreateChecked(actual[i]);
                Assert.True(Math.Abs(a - expected[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"C={c} [{i}]: {a} vs {expected[i]}");
            }
        }
    }

    [Fact]
    public void Softmax_NaNRowStaysNaN_OtherRowsUnaffected()
    {
        double[] x = [1, double.NaN, 2, 0, 1, 2];
        var y = new double[6];
        Softmax.Rows<double>(x, y, 2, 3);
        Assert.All(y[..3], v => Assert.True(double.IsNaN(v)));
        Assert.All(y[3..], v => Assert.True(double.IsFinite(v)));
        Softmax.LogRows<double>(x, y, 2, 3);
        Assert.All(y[..3], v => Assert.True(double.IsNaN(v)));
        Assert.All(y[3..], v => Assert.True(double.IsFinite(v)));
    }
}
