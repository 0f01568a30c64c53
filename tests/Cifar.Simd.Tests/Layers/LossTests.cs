using Cifar.Simd.Checks;
using Cifar.Simd.Layers;
using Cifar.Simd.Tensors;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Cifar.Simd.Tests.Layers.LayerTestData;

namespace Cifar.Simd.Tests.Layers;

public class LossTests
{
    private static (Tensor<double> X, int[] Y) Scores(Dims s)
    {
        var rng = new System.Random(s.Seed);
        int c = s.M + 1; // C ≥ 2
        var y = new int[s.N];
        for (int i = 0; i < s.N; i++) y[i] = rng.Next(c);
        return (T(Uniform(rng, s.N * c, -3, 3), s.N, c), y);
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 30, Replay = "(1111,3333)")]
    public void SoftmaxLoss_GradientMatchesNumerical(Dims s)
    {
        var (x, y) = Scores(s);
        int c = x.RowLength;
        var (_, dx) = Layer.SoftmaxLoss(x, y);
        var num = GradientCheck.EvalNumericalGradient(v => Layer.SoftmaxLoss(T(v, s.N, c), y).Loss, x.ToArray());
        AssertGradClose(dx.AsReadOnlySpan(), num, $"dx {s}");
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 30, Replay = "(2222,4445)")]
    public void SvmLoss_GradientMatchesNumerical(Dims s)
    {
        var (x, y) = Scores(s);
        int c = x.RowLength;
        // A perturbation of 1e-5 moves a margin by at most 2e-5; skip draws with a hinge nearer than that.
        for (int i = 0; i < s.N; i++)
            for (int j = 0; j < c; j++)
                if (j != y[i] && Math.Abs(x[i, j] - x[i, y[i]] + 1) < 1e-4) return;
        var (_, dx) = Layer.SvmLoss(x, y);
        var num = GradientCheck.EvalNumericalGradient(v => Layer.SvmLoss(T(v, s.N, c), y).Loss, x.ToArray());
        AssertGradClose(dx.AsReadOnlySpan(), num, $"dx {s}");
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 30, Replay = "(5555,7777)")]
    public void Losses_MatchNaiveReference(Dims s)
    {
        var (x, y) = Scores(s);
        int n = s.N, c = x.RowLength;
        double softmax = 0, svm = 0;
        for (int i = 0; i < n; i++)
        {
            double max = double.NegativeInfinity, z = 0;
            for (int j = 0; j < c; j++) max = Math.Max(max, x[i, j]);
            for (int j = 0; j < c; j++) z += Math.Exp(x[i, j] - max);
            softmax += Math.Log(z) - (x[i, y[i]] - max);
            for (int j = 0; j < c; j++)
                if (j != y[i]) svm += Math.Max(0, x[i, j] - x[i, y[i]] + 1);
        }
        Assert.Equal(softmax / n, Layer.SoftmaxLoss(x, y).Loss, 1e-12);
        Assert.Equal(svm / n, Layer.SvmLoss(x, y).Loss, 1e-12);
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 30, Replay = "(9999,1113)")]
    public void Losses_FloatAgreeWithDouble_AndInPlaceSpansAgree(Dims s)
    {
        var (x, y) = Scores(s);
        var (ld, dd) = Layer.SoftmaxLoss(x, y);
        var (lf, df) = Layer.SoftmaxLoss(ToFloat(x), y);
        Assert.Equal(ld, lf, 1e-5);
        AssertFloatClose(dd.AsReadOnlySpan(), df.AsReadOnlySpan(), "softmax dx", 1e-5);
        var (sd, sdd) = Layer.SvmLoss(x, y);
        var (sf, sdf) = Layer.SvmLoss(ToFloat(x), y);
        Assert.Equal(sd, sf, 1e-4);
        // Margins within float roundoff of 0 may flip; the random draws make that vanishingly rare.
        AssertFloatClose(sdd.AsReadOnlySpan(), sdf.AsReadOnlySpan(), "svm dx", 1e-6);

        // In place: scores become dscores in the same buffer.
        var buf = x.ToArray();
        double l2 = Layer.SoftmaxLoss<double>(buf, y, buf, s.N, x.RowLength);
        Assert.Equal(ld, l2);
        Assert.Equal(dd.ToArray(), buf);
        buf = x.ToArray();
        l2 = Layer.SvmLoss<double>(buf, y, buf, s.N, x.RowLength);
        Assert.Equal(sd, l2);
        Assert.Equal(sdd.ToArray(), buf);
    }

    // Batches past one block of rows (64) and class counts around the vector widths (4, 8, 16).
    private static Arbitrary<(int N, int C, int Seed)> WideScores() => Arb.From(
        from n in Gen.Frequency((2, Gen.Choose(1, 70)), (1, Gen.Choose(120, 260)))
        from c in Gen.Frequency((2, Gen.Choose(1, 20)), (1, Gen.Choose(30, 70)))
        from seed in Gen.Choose(0, int.MaxValue - 1)
        select (n, c, seed));

    // Plain per-row softmax loss in double, numpy's arithmetic: the reference for the blocked kernel.
    private static (double Loss, double[] Dx) ReferenceSoftmaxLoss(double[] x, int[] y, int n, int c)
    {
        double loss = 0;
        var dx = new double[n * c];
        for (int i = 0; i < n; i++)
        {
            double max = double.NegativeInfinity, z = 0;
            for (int j = 0; j < c; j++) max = Math.Max(max, x[i * c + j]);
            for (int j = 0; j < c; j++) z += Math.Exp(x[i * c + j] - max);
            loss += Math.Log(z) - (x[i * c + y[i]] - max);
            for (int j = 0; j < c; j++) dx[i * c + j] = (Math.Exp(x[i * c + j] - max) / z - (j == y[i] ? 1 : 0)) / n;
        }
        return (loss / n, dx);
    }

    [Property(MaxTest = 60, Replay = "(4242,8485)")]
    public Property SoftmaxLoss_MatchesPlainReference_InBlocksOfRows() => Prop.ForAll(WideScores(), s =>
    {
        var (n, c, seed) = s;
        var rng = new System.Random(seed);
        var x = Uniform(rng, n * c, -20, 20);
        var y = new int[n];
        for (int i = 0; i < n; i++) y[i] = rng.Next(c);
        var (refLoss, refDx) = ReferenceSoftmaxLoss(x, y, n, c);
        var dx = new double[n * c];
        Assert.Equal(refLoss, Layer.SoftmaxLoss<double>(x, y, dx, n, c), 1e-12);
        for (int e = 0; e < dx.Length; e++)
            Assert.True(Math.Abs(dx[e] - refDx[e]) <= 1e-15 + 1e-12 * Math.Abs(refDx[e]), $"dx[{e}] = {dx[e]}, reference {refDx[e]} (N={n} C={c})");
        var xf = Array.ConvertAll(x, v => (float)v);
        var dxf = new float[n * c];
        Assert.Equal(refLoss, Layer.SoftmaxLoss<float>(xf, y, dxf, n, c), 2e-5 * Math.Max(1, Math.Abs(refLoss)));
        for (int e = 0; e < dxf.Length; e++)
            Assert.True(Math.Abs(dxf[e] - refDx[e]) <= 1e-8 + 1e-5 * Math.Abs(refDx[e]), $"float dx[{e}] = {dxf[e]}, reference {refDx[e]} (N={n} C={c})");
        // In place, the scores turn into dscores bitwise as into a separate buffer.
        float lf = Layer.SoftmaxLoss<float>(xf, y, dxf, n, c);
        Assert.Equal(lf, Layer.SoftmaxLoss<float>(xf, y, xf, n, c));
        Assert.Equal(dxf, xf);
    });

    [Fact]
    public void SoftmaxLoss_LargeLogitsDoNotOverflow()
    {
        var x = T([1000, 0, -1000, 2000, 2000, 2000], 2, 3);
        var (loss, dx) = Layer.SoftmaxLoss(x, [0, 1]);
        Assert.Equal(Math.Log(3) / 2, loss, 1e-12);
        Assert.All(dx.ToArray(), v => Assert.True(double.IsFinite(v)));
        var (lf, _) = Layer.SoftmaxLoss(ToFloat(x), [0, 1]);
        Assert.Equal(Math.Log(3) / 2, lf, 1e-6);
    }

    [Fact]
    public void SvmLoss_KnownValue()
    {
        // Row 0: margins 2 − 1 + 1 = 2 and 0 − 1 + 1 = 0 → 2. Row 1: correct 3: 1 − 3 + 1 < 0, 5 − 3 + 1 = 3 → 3.
        var x = T([1, 2, 0, 1, 3, 5], 2, 3);
        var (loss, dx) = Layer.SvmLoss(x, [0, 1]);
        Assert.Equal(2.5, loss);
        Assert.Equal([-0.5, 0.5, 0, 0, -0.5, 0.5], dx.ToArray());
    }

    [Theory]
    [InlineData(5)]
    [InlineData(-1)]
    public void Losses_LabelOutOfRange_NamesLabelAndC(int bad)
    {
        var x = Tensor<double>.Zeros(2, 5);
        int[] y = [0, bad];
        foreach (var loss in new Func<(double, Tensor<double>)>[] { () => Layer.SoftmaxLoss(x, y), () => Layer.SvmLoss(x, y) })
        {
            var e = Assert.Throws<ArgumentException>(() => loss());
            Assert.Contains($"= {bad}", e.Message);
            Assert.Contains("C = 5", e.Message);
        }
        Assert.Throws<ArgumentException>(() => Layer.SoftmaxLoss<float>(new float[10], y, new float[10], 2, 5));
    }

    [Fact]
    public void Losses_EmptyBatch_Throws()
    {
        var x = Tensor<double>.Zeros(0, 5);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Layer.SoftmaxLoss(x, [])).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Layer.SvmLoss(x, [])).Message);
        Assert.Throws<ArgumentException>(() => Layer.SvmLoss<double>([], [], new double[0], 0, 5));
    }

    [Fact]
    public void Losses_LabelCountMismatch_NamesBothShapes()
    {
        var x = Tensor<double>.Zeros(2, 5);
        var e = Assert.Throws<ArgumentException>(() => Layer.SoftmaxLoss(x, [0, 1, 2]));
        Assert.Contains("(3,)", e.Message);
        Assert.Contains("(2, 5)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Layer.SvmLoss(x, [0]));
        Assert.Contains("(1,)", e.Message);
        Assert.Contains("(2, 5)", e.Message);
    }

    [Fact]
    public void Losses_NaNFlowsThrough()
    {
        var x = T([1, double.NaN, 0, 1, 2, 3], 2, 3);
        var (loss, dx) = Layer.SoftmaxLoss(x, [0, 2]);
        Assert.True(double.IsNaN(loss));
        Assert.True(double.IsNaN(dx[0, 0]));
        Assert.False(double.IsNaN(dx[1, 0]));
        var (svm, _) = Layer.SvmLoss(x, [0, 2]);
        Assert.True(double.IsNaN(svm));
        var (lf, _) = Layer.SoftmaxLoss(ToFloat(x), [0, 2]);
        Assert.True(float.IsNaN(lf));
    }
}
