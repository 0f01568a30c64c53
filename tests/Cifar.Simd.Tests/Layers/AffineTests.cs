using Cifar.Simd.Checks;
using Cifar.Simd.Layers;
using Cifar.Simd.Tensors;
using FsCheck.Xunit;
using static Cifar.Simd.Tests.Layers.LayerTestData;

namespace Cifar.Simd.Tests.Layers;

public class AffineTests
{
    [Fact]
    public void AffineForward_MatchesCs231nNotebookCheck()
    {
        // The assignment-2 notebook's affine_forward check.
        var x = T(Linspace(-0.1, 0.5, 2 * 4 * 5 * 6), 2, 4, 5, 6);
        var w = T(Linspace(-0.2, 0.3, 120 * 3), 120, 3);
        var b = T(Linspace(-0.3, 0.1, 3), 3);
        double[] expected = [1.49834967, 1.70660132, 1.91485297, 3.25553199, 3.5141327, 3.77273342];

        var (output, _) = Layer.AffineForward(x, w, b);

        Assert.Equal(new Shape(2, 3), output.Shape);
        Assert.True(GradientCheck.RelError(output.AsReadOnlySpan(), expected) < 1e-9);
    }

    [Property(Arbitrary = [typeof(AffineArbitraries)], MaxTest = 25, Replay = "(20261123,97531)")]
    public void AffineBackward_MatchesNumericalGradient(Dims s)
    {
        var rng = new System.Random(s.Seed);
        // A rank-3 x (N, D, 1) exercises the reshape to (N, D).
        var x = T(Uniform(rng, s.N * s.D), s.N, s.D, 1);
        var w = T(Uniform(rng, s.D * s.M), s.D, s.M);
        var b = T(Uniform(rng, s.M), s.M);
        var dout = T(Uniform(rng, s.N * s.M), s.N, s.M);

        var (_, cache) = Layer.AffineForward(x, w, b);
        var g = Layer.AffineBackward(dout, cache);

        Assert.Equal(x.Shape, g.Dx.Shape);
        var dxNum = GradientCheck.EvalNumericalGradientArray(v => Layer.AffineForward(T(v, s.N, s.D, 1), w, b).Out.ToArray(), x.ToArray(), dout.ToArray());
        var dwNum = GradientCheck.EvalNumericalGradientArray(v => Layer.AffineForward(x, T(v, s.D, s.M), b).Out.ToArray(), w.ToArray(), dout.ToArray());
        var dbNum = GradientCheck.EvalNumericalGradientArray(v => Layer.AffineForward(x, w, T(v, s.M)).Out.ToArray(), b.ToArray(), dout.ToArray());
        AssertGradClose(g.Dx.AsReadOnlySpan(), dxNum, $"dx {s}");
        AssertGradClose(g.Dw.AsReadOnlySpan(), dwNum, $"dw {s}");
        AssertGradClose(g.Db.AsReadOnlySpan(), dbNum, $"db {s}");
    }

    [Property(Arbitrary = [typeof(AffineArbitraries)], MaxTest = 25, Replay = "(424242,13579)")]
    public void AffineReluBackward_MatchesNumericalGradient(Dims s)
    {
        var rng = new System.Random(s.Seed);
        var x = T(Uniform(rng, s.N * s.D), s.N, s.D);
        var w = T(Uniform(rng, s.D * s.M), s.D, s.M);
        var b = T(Uniform(rng, s.M), s.M);
        var dout = T(Uniform(rng, s.N * s.M), s.N, s.M);
        var pre = Layer.AffineForward(x, w, b).Out;
        // A perturbation of 1e-5 moves a pre-activation by at most 1e-5·max|w| or |x|; skip draws with a kink nearer than that.
        if (pre.ToArray().Any(v => Math.Abs(v) < 1e-4)) return;

        var (_, cache) = Layer.AffineReluForward(x, w, b);
        var g = Layer.AffineReluBackward(dout, cache);

        var dxNum = GradientCheck.EvalNumericalGradientArray(v => Layer.AffineReluForward(T(v, s.N, s.D), w, b).Out.ToArray(), x.ToArray(), dout.ToArray());
        var dwNum = GradientCheck.EvalNumericalGradientArray(v => Layer.AffineReluForward(x, T(v, s.D, s.M), b).Out.ToArray(), w.ToArray(), dout.ToArray());
        var dbNum = GradientCheck.EvalNumericalGradientArray(v => Layer.AffineReluForward(x, w, T(v, s.M)).Out.ToArray(), b.ToArray(), dout.ToArray());
        AssertGradClose(g.Dx.AsReadOnlySpan(), dxNum, $"dx {s}");
        AssertGradClose(g.Dw.AsReadOnlySpan(), dwNum, $"dw {s}");
        AssertGradClose(g.Db.AsReadOnlySpan(), dbNum, $"db {s}");
    }

    [Property(Arbitrary = [typeof(AffineArbitraries)], MaxTest = 40, Replay = "(777,31)")]
    public void AffineRelu_FusedEqualsComposition(Dims s)
    {
        var rng = new System.Random(s.Seed);
        var x = T(Uniform(rng, s.N * s.D), s.N, s.D);
        var w = T(Uniform(rng, s.D * s.M), s.D, s.M);
        var b = T(Uniform(rng, s.M), s.M);
        var dout = T(Uniform(rng, s.N * s.M), s.N, s.M);

        var (fused, fusedCache) = Layer.AffineReluForward(x, w, b);
        var (a, affineCache) = Layer.AffineForward(x, w, b);
        var (h, reluCache) = Layer.ReluForward(a);
        var gFused = Layer.AffineReluBackward(dout, fusedCache);
        var gUnfused = Layer.AffineBackward(Layer.ReluBackward(dout, reluCache), affineCache);

        AssertClose(h.AsReadOnlySpan(), fused.AsReadOnlySpan());
        AssertClose(gUnfused.Dx.AsReadOnlySpan(), gFused.Dx.AsReadOnlySpan());
        AssertClose(gUnfused.Dw.AsReadOnlySpan(), gFused.Dw.AsReadOnlySpan());
        AssertClose(gUnfused.Db.AsReadOnlySpan(), gFused.Db.AsReadOnlySpan());

        static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
        {
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * (1 + Math.Abs(expected[i])), $"[{i}] {actual[i]} vs {expected[i]}");
        }
    }

    [Property(Arbitrary = [typeof(AffineArbitraries)], MaxTest = 25, Replay = "(99,77)")]
    public void Affine_FloatAgreesWithDouble(Dims s)
    {
        var rng = new System.Random(s.Seed);
        var x = T(Uniform(rng, s.N * s.D), s.N, s.D);
        var w = T(Uniform(rng, s.D * s.M), s.D, s.M);
        var b = T(Uniform(rng, s.M), s.M);
        var dout = T(Uniform(rng, s.N * s.M), s.N, s.M);

        var (od, cd) = Layer.AffineReluForward(x, w, b);
        var gd = Layer.AffineReluBackward(dout, cd);
        var (of, cf) = Layer.AffineReluForward(ToFloat(x), ToFloat(w), ToFloat(b));
        var gf = Layer.AffineReluBackward(ToFloat(dout), cf);

        AssertFloatClose(od.AsReadOnlySpan(), of.AsReadOnlySpan(), "out");
        // A pre-activation within float roundoff of 0 may flip the mask; only compare the gradients when none is that close.
        var pre = Layer.AffineForward(x, w, b).Out.ToArray();
        if (pre.Any(v => Math.Abs(v) < 1e-4)) return;
        AssertFloatClose(gd.Dx.AsReadOnlySpan(), gf.Dx.AsReadOnlySpan(), "dx");
        AssertFloatClose(gd.Dw.AsReadOnlySpan(), gf.Dw.AsReadOnlySpan(), "dw");
        AssertFloatClose(gd.Db.AsReadOnlySpan(), gf.Db.AsReadOnlySpan(), "db");
    }

    [Fact]
    public void AffineForward_ShapeMismatch_NamesBothShapes()
    {
        var x = Tensor<double>.Zeros(2, 3);
        var w = Tensor<double>.Zeros(4, 5);
        var b = Tensor<double>.Zeros(5);
        var e = Assert.Throws<ArgumentException>(() => Layer.AffineForward(x, w, b));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(4, 5)", e.Message);

        var e2 = Assert.Throws<ArgumentException>(() => Layer.AffineForward(Tensor<double>.Zeros(2, 4), w, Tensor<double>.Zeros(6)));
        Assert.Contains("(6,)", e2.Message);
        Assert.Contains("(5,)", e2.Message);
    }

    [Fact]
    public void AffineBackward_DoutShapeMismatch_NamesBothShapes()
    {
        var (_, cache) = Layer.AffineForward(Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(3, 4), Tensor<double>.Zeros(4));
        var e = Assert.Throws<ArgumentException>(() => Layer.AffineBackward(Tensor<double>.Zeros(2, 5), cache));
        Assert.Contains("(2, 5)", e.Message);
        Assert.Contains("(2, 4)", e.Message);
    }

    [Fact]
    public void AffineForward_NaNFlowsThrough()
    {
        var x = T([1, 2, double.NaN, 4], 2, 2);
        var w = T([1, 0, 0, 1], 2, 2);
        var b = T([0.5, -0.5], 2);
        var (output, cache) = Layer.AffineForward(x, w, b);
        Assert.Equal([1.5, 1.5], output.ToArray()[..2]);
        Assert.True(double.IsNaN(output[1, 0]));
        var g = Layer.AffineBackward(Tensor<double>.Filled(1, 2, 2), cache);
        Assert.True(double.IsNaN(g.Dw[0, 0]));
    }
}
