using Cifar.Simd.Checks;
using Cifar.Simd.Layers;
using Cifar.Simd.Tensors;
using FsCheck.Xunit;
using static Cifar.Simd.Tests.Layers.LayerTestData;

namespace Cifar.Simd.Tests.Layers;

public class NormTests
{
    private static (Tensor<double> X, Tensor<double> Gamma, Tensor<double> Beta, Tensor<double> Dout) Problem(Dims s)
    {
        var rng = new System.Random(s.Seed);
        // Offset and scaled like the notebook's 5·randn + 12, so normalization has something to undo.
        var x = Uniform(rng, s.N * s.D, 2, 20);
        // A row or column whose spread is near sqrt(eps) makes the centred difference's truncation error dominate,
        // so such draws get a ramp (rows first; the column ramp is constant along a row and keeps row spreads).
        for (int i = 0; i < s.N; i++)
            if (Spread(x, i * s.D, 1, s.D) < 0.1)
                for (int j = 0; j < s.D; j++) x[i * s.D + j] += 0.5 * j;
        for (int j = 0; j < s.D; j++)
            if (Spread(x, j, s.D, s.N) < 0.1)
                for (int i = 0; i < s.N; i++) x[i * s.D + j] += 0.5 * i;
        return (T(x, s.N, s.D), T(Uniform(rng, s.D, 0.5, 2), s.D), T(Uniform(rng, s.D), s.D), T(Uniform(rng, s.N * s.D), s.N, s.D));
    }

    private static double Spread(double[] x, int start, int stride, int count)
    {
        if (count < 2) return double.PositiveInfinity;
        double mean = 0, sq = 0;
        for (int k = 0; k < count; k++) mean += x[start + k * stride];
        mean /= count;
        for (int k = 0; k < count; k++) sq += Math.Pow(x[start + k * stride] - mean, 2);
        return Math.Sqrt(sq / count);
    }

    private static double Floor(Tensor<double> x, Tensor<double> invStd, Tensor<double> gamma, Tensor<double> dout, int k) =>
        NormFloor(x.ToArray().Max(Math.Abs), invStd.ToArray().Max(), gamma.ToArray().Max(Math.Abs), dout.ToArray().Max(Math.Abs), k);

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 20, Replay = "(1001,2003)")]
    public void BatchnormBackward_BothVariantsMatchNumericalGradient(Dims s)
    {
        var (x, gamma, beta, dout) = Problem(s);
        var (_, cache) = Layer.BatchnormForward(x, gamma, beta, new BatchnormParam<double>());
        var full = Layer.BatchnormBackward(dout, cache);
        var alt = Layer.BatchnormBackwardAlt(dout, cache);

        Tensor<double> Fwd(Tensor<double> xx, Tensor<double> g, Tensor<double> bb) => Layer.BatchnormForward(xx, g, bb, new BatchnormParam<double>()).Out;
        var dxNum = GradientCheck.EvalNumericalGradientArray(v => Fwd(T(v, s.N, s.D), gamma, beta).ToArray(), x.ToArray(), dout.ToArray());
        var dgNum = GradientCheck.EvalNumericalGradientArray(v => Fwd(x, T(v, s.D), beta).ToArray(), gamma.ToArray(), dout.ToArray());
        var dbNum = GradientCheck.EvalNumericalGradientArray(v => Fwd(x, gamma, T(v, s.D)).ToArray(), beta.ToArray(), dout.ToArray());
        foreach (var (g, name) in new[] { (full, "full"), (alt, "alt") })
        {
            AssertGradClose(g.Dx.AsReadOnlySpan(), dxNum, $"{name} dx {s}", floor: Floor(x, cache.InvStd, gamma, dout, s.N));
            AssertGradClose(g.Dgamma.AsReadOnlySpan(), dgNum, $"{name} dgamma {s}");
            AssertGradClose(g.Dbeta.AsReadOnlySpan(), dbNum, $"{name} dbeta {s}");
        }
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 60, Replay = "(31337,4243)")]
    public void BatchnormBackwardAlt_EqualsFull(Dims s)
    {
        var (x, gamma, beta, dout) = Problem(s);
        var (_, cache) = Layer.BatchnormForward(x, gamma, beta, new BatchnormParam<double>());
        var full = Layer.BatchnormBackward(dout, cache);
        var alt = Layer.BatchnormBackwardAlt(dout, cache);
        Assert.True(GradientCheck.RelError(full.Dgamma, alt.Dgamma) < 1e-10);
        Assert.True(GradientCheck.RelError(full.Dbeta, alt.Dbeta) < 1e-10);
        // dx is a difference of terms of size |dout·gamma·invStd| that can cancel to ~0, so that is the scale of its roundoff.
        double scale = dout.ToArray().Max(Math.Abs) * gamma.ToArray().Max(Math.Abs) * cache.InvStd.ToArray().Max();
        for (int i = 0; i < full.Dx.Length; i++)
            Assert.True(Math.Abs(full.Dx[i] - alt.Dx[i]) <= 1e-10 * scale, $"dx[{i}] {alt.Dx[i]} vs {full.Dx[i]} {s}");
    }

    [Fact]
    public void BatchnormForward_TrainNormalizesAndUpdatesRunningStats()
    {
        var rng = new System.Random(5);
        int n = 200, d = 3;
        var x = T(Uniform(rng, n * d, 2, 20), n, d);
        var gamma = T([1.0, 2.0, 3.0], d);
        var beta = T([11.0, 12.0, 13.0], d);
        var bn = new BatchnormParam<double>();

        var (output, _) = Layer.BatchnormForward(x, gamma, beta, bn);

        for (int j = 0; j < d; j++)
        {
            double mean = 0, sq = 0, xmean = 0, xsq = 0;
            for (int i = 0; i < n; i++) { mean += output[i, j]; xmean += x[i, j]; }
            mean /= n; xmean /= n;
            for (int i = 0; i < n; i++) { sq += Math.Pow(output[i, j] - mean, 2); xsq += Math.Pow(x[i, j] - xmean, 2); }
            Assert.Equal(beta[j], mean, 1e-10);
            Assert.Equal(gamma[j], Math.Sqrt(sq / n), 1e-4); // eps shrinks the std slightly
            Assert.Equal(0.1 * xmean, bn.RunningMean![j], 1e-12);
            Assert.Equal(0.1 * xsq / n, bn.RunningVar![j], 1e-10);
        }
    }

    [Fact]
    public void BatchnormForward_TestModeUsesRunningStats()
    {
        var rng = new System.Random(6);
        int n = 50, d = 4;
        var gamma = T(Uniform(rng, d, 0.5, 2), d);
        var beta = T(Uniform(rng, d), d);
        var bn = new BatchnormParam<double>();
        for (int t = 0; t < 50; t++)
            Layer.BatchnormForward(T(Uniform(rng, n * d, 2, 20), n, d), gamma, beta, bn);
        bn.Mode = LayerMode.Test;
        var x = T(Uniform(rng, n * d, 2, 20), n, d);

        var (output, cache) = Layer.BatchnormForward(x, gamma, beta, bn);

        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double expected = gamma[j] * (x[i, j] - bn.RunningMean![j]) / Math.Sqrt(bn.RunningVar![j] + 1e-5) + beta[j];
                Assert.Equal(expected, output[i, j], 1e-12);
            }
        // Test mode's backward is the plain affine map's: dx = dout·gamma·invStd, for both variants.
        var dout = Tensor<double>.Filled(1, n, d);
        var g1 = Layer.BatchnormBackward(dout, cache);
        var g2 = Layer.BatchnormBackwardAlt(dout, cache);
        for (int j = 0; j < d; j++)
        {
            Assert.Equal(gamma[j] / Math.Sqrt(bn.RunningVar![j] + 1e-5), g1.Dx[0, j], 1e-12);
            Assert.Equal(g1.Dx[0, j], g2.Dx[0, j], 1e-12);
        }
    }

    [Fact]
    public void BatchnormForward_RejectsEmptyBatchAndMismatchedGamma()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Layer.BatchnormForward(Tensor<double>.Zeros(0, 3), Tensor<double>.Zeros(3), Tensor<double>.Zeros(3), new BatchnormParam<double>()));
        Assert.Contains("empty", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() =>
            Layer.BatchnormForward(Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(4), Tensor<double>.Zeros(3), new BatchnormParam<double>()));
        Assert.Contains("(4,)", e2.Message);
        Assert.Contains("(3,)", e2.Message);
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 20, Replay = "(5005,6007)")]
    public void LayernormBackward_MatchesNumericalGradient(Dims s)
    {
        var (x, gamma, beta, dout) = Problem(s);
        var (_, cache) = Layer.LayernormForward(x, gamma, beta);
        var g = Layer.LayernormBackward(dout, cache);

        var dxNum = GradientCheck.EvalNumericalGradientArray(v => Layer.LayernormForward(T(v, s.N, s.D), gamma, beta).Out.ToArray(), x.ToArray(), dout.ToArray());
        var dgNum = GradientCheck.EvalNumericalGradientArray(v => Layer.LayernormForward(x, T(v, s.D), beta).Out.ToArray(), gamma.ToArray(), dout.ToArray());
        var dbNum = GradientCheck.EvalNumericalGradientArray(v => Layer.LayernormForward(x, gamma, T(v, s.D)).Out.ToArray(), beta.ToArray(), dout.ToArray());
        AssertGradClose(g.Dx.AsReadOnlySpan(), dxNum, $"dx {s}", floor: Floor(x, cache.InvStd, gamma, dout, s.D));
        AssertGradClose(g.Dgamma.AsReadOnlySpan(), dgNum, $"dgamma {s}");
        AssertGradClose(g.Dbeta.AsReadOnlySpan(), dbNum, $"dbeta {s}");
    }

    [Fact]
    public void LayernormForward_NormalizesEachSample()
    {
        var rng = new System.Random(8);
        int n = 4, d = 37;
        var x = T(Uniform(rng, n * d, 2, 20), n, d);
        var (output, _) = Layer.LayernormForward(x, Tensor<double>.Filled(1, d), Tensor<double>.Zeros(d));
        for (int i = 0; i < n; i++)
        {
            var row = output.Row(i).ToArray();
            double mean = row.Average();
            Assert.Equal(0, mean, 1e-12);
            Assert.Equal(1, Math.Sqrt(row.Select(v => (v - mean) * (v - mean)).Average()), 1e-4);
        }
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 25, Replay = "(8080,9091)")]
    public void Norms_FloatAgreesWithDouble(Dims s)
    {
        var (x, gamma, beta, dout) = Problem(s);
        var (bd, bcd) = Layer.BatchnormForward(x, gamma, beta, new BatchnormParam<double>());
        var (bf, bcf) = Layer.BatchnormForward(ToFloat(x), ToFloat(gamma), ToFloat(beta), new BatchnormParam<float>());
        AssertFloatClose(bd.AsReadOnlySpan(), bf.AsReadOnlySpan(), $"bn out {s}", 1e-3);
        var gbd = Layer.BatchnormBackwardAlt(dout, bcd);
        var gbf = Layer.BatchnormBackwardAlt(ToFloat(dout), bcf);
        var gbf2 = Layer.BatchnormBackward(ToFloat(dout), bcf);
        AssertFloatClose(gbd.Dx.AsReadOnlySpan(), gbf.Dx.AsReadOnlySpan(), $"bn dx {s}", 1e-3);
        AssertFloatClose(gbd.Dx.AsReadOnlySpan(), gbf2.Dx.AsReadOnlySpan(), $"bn full dx {s}", 1e-3);
        AssertFloatClose(gbd.Dgamma.AsReadOnlySpan(), gbf.Dgamma.AsReadOnlySpan(), $"bn dgamma {s}", 1e-3);

        var (ld, lcd) = Layer.LayernormForward(x, gamma, beta);
        var (lf, lcf) = Layer.LayernormForward(ToFloat(x), ToFloat(gamma), ToFloat(beta));
        AssertFloatClose(ld.AsReadOnlySpan(), lf.AsReadOnlySpan(), $"ln out {s}", 1e-3);
        var gld = Layer.LayernormBackward(dout, lcd);
        var glf = Layer.LayernormBackward(ToFloat(dout), lcf);
        AssertFloatClose(gld.Dx.AsReadOnlySpan(), glf.Dx.AsReadOnlySpan(), $"ln dx {s}", 1e-3);
        AssertFloatClose(gld.Dgamma.AsReadOnlySpan(), glf.Dgamma.AsReadOnlySpan(), $"ln dgamma {s}", 1e-3);
    }
}
