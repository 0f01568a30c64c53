using Cifar.Simd.Checks;
using Cifar.Simd.Tensors;
using FsCheck;
using FsCheck.Fluent;

namespace Cifar.Simd.Tests.Layers;

/// <summary>A random problem size and the seed its values are drawn from.</summary>
public sealed record Dims(int N, int D, int M, int Seed)
{
    public override string ToString() => $"N={N} D={D} M={M} seed={Seed}";
}

/// <summary>Problem sizes for gradient properties: N and D span 1..67 (primes included), capped so a numeric check stays fast.</summary>
public static class LayerArbitraries
{
    private static Gen<int> SeedGen => Gen.Choose(0, int.MaxValue - 1);

    /// <summary>(N, D) up to 67 each with N·D ≤ 1200; M is the class count 1..13 for losses.</summary>
    public static Arbitrary<Dims> Dims() => Arb.From(
        from n in Gen.Choose(1, 67)
        from d in Gen.Choose(1, 67)
        from m in Gen.Choose(1, 13)
        from s in SeedGen
        where n * d <= 1200
        select new Dims(n, d, m, s));
}

/// <summary>Affine sizes: N 1..13, D 1..67, M 1..11, so the O((ND)·NDM) numeric check stays small.</summary>
public static class AffineArbitraries
{
    /// <summary>The affine problem sizes.</summary>
    public static Arbitrary<Dims> Dims() => Arb.From(
        from n in Gen.Choose(1, 13)
        from d in Gen.Choose(1, 67)
        from m in Gen.Choose(1, 11)
        from s in Gen.Choose(0, int.MaxValue - 1)
        select new Dims(n, d, m, s));
}

internal static class LayerTestData
{
    /// <summary>numpy's <c>linspace(start, stop, num)</c>: <c>start + i·step</c>, the last element exactly stop.</summary>
    public static double[] Linspace(double start, double stop, int num) => Support.Numpy.Linspace(start, stop, num);

    public static double[] Uniform(System.Random rng, int count, double lo = -1, double hi = 1)
    {
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = lo + (hi - lo) * rng.NextDouble();
        return v;
    }

    /// <summary>Values in ±[gap, gap + 1]: no ReLU kink within <paramref name="gap"/> of any of them.</summary>
    public static double[] AwayFromZero(System.Random rng, int count, double gap = 1e-2)
    {
        var v = new double[count];
        for (int i = 0; i < count; i++)
        {
            double u = rng.NextDouble();
            v[i] = (rng.Next(2) == 0 ? -1 : 1) * (gap + u);
        }
        return v;
    }

    public static Tensor<double> T(double[] data, params int[] dims) => Tensor<double>.FromArray(data, dims);

    public static Tensor<float> ToFloat(Tensor<double> t)
    {
        var f = Tensor<float>.Zeros(t.Shape.ToArray());
        var s = t.AsReadOnlySpan();
        var d = f.AsSpan();
        for (int i = 0; i < s.Length; i++) d[i] = (float)s[i];
        return f;
    }

    /// <summary>
    /// CS231n's rel_error over the gradient, with a floor of 1e-2 on the denominator: a centred difference carries an
    /// absolute roundoff of about ulp(out)·sqrt(outputs touched)/h ≈ 1e-10, so entries below 1e-2 are held to an
    /// absolute error of tol·1e-2 instead of a ratio of two roundoffs.
    /// </summary>
    public static void AssertGradClose(ReadOnlySpan<double> analytic, ReadOnlySpan<double> numeric, string what, double tol = 1e-7, double floor = 1e-2)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < analytic.Length; i++)
        {
            double a = analytic[i], n = numeric[i];
            double e = Math.Abs(a - n) / Math.Max(floor, Math.Abs(a) + Math.Abs(n));
            if (!(e <= worst)) { worst = e; at = i; }
        }
        Assert.True(worst < tol, $"{what}: rel error {worst:E3} at [{at}] (analytic {(at >= 0 ? analytic[at] : 0)}, numeric {(at >= 0 ? numeric[at] : 0)}); unfloored RelError = {GradientCheck.RelError(analytic, numeric):E3}");
    }

    /// <summary>
    /// The denominator floor for a normalization layer: centring x costs ulp(max|x|), which invStd, gamma and dout
    /// amplify and the centred difference divides by 2h, over sqrt(k) outputs touched. Entries below floor are held to
    /// an absolute error of tol·floor, i.e. to that roundoff; a degenerate draw (tiny spread) raises it above 1e-2.
    /// </summary>
    public static double NormFloor(double maxAbsX, double maxInvStd, double maxAbsGamma, double maxAbsDout, int k, double tol = 1e-7, double h = 1e-5)
    {
        double noise = 4 * Math.BitIncrement(maxAbsX) - 4 * maxAbsX + 4e-16; // a few ulps of x plus of the outputs
        noise *= maxInvStd * maxAbsGamma * maxAbsDout * Math.Sqrt(k) / (2 * h);
        return Math.Max(1e-2, noise / tol);
    }

    /// <summary>Float results agree with double ones to a tolerance relative to the largest magnitude.</summary>
    public static void AssertFloatClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what, double tol = 2e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1;
        foreach (double v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * scale, $"{what}[{i}]: float {actual[i]} vs double {expected[i]} (scale {scale})");
    }
}
