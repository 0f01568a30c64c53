using Cifar.Simd.Checks;
using Cifar.Simd.Layers;
using FsCheck.Xunit;
using static Cifar.Simd.Tests.Layers.LayerTestData;

namespace Cifar.Simd.Tests.Layers;

public class ReluTests
{
    [Fact]
    public void ReluForward_MatchesCs231nNotebookCheck()
    {
        double[] x = Linspace(-0.5, 0.5, 12);
        var expected = x.Select(v => Math.Max(0.0, v)).ToArray();

        var (output, _) = Layer.ReluForward(T(x, 3, 4));

        Assert.True(GradientCheck.RelError(output.AsReadOnlySpan(), expected) < 1e-8);
        Assert.Equal(expected, output.ToArray());
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 25, Replay = "(123457,654321)")]
    public void ReluBackward_MatchesNumericalGradient(Dims s)
    {
        var rng = new System.Random(s.Seed);
        var x = T(AwayFromZero(rng, s.N * s.D), s.N, s.D);
        var dout = T(Uniform(rng, s.N * s.D), s.N, s.D);

        var (_, cache) = Layer.ReluForward(x);
        var dx = Layer.ReluBackward(dout, cache);

        var num = GradientCheck.EvalNumericalGradientArray(v => Layer.ReluForward(T(v, s.N, s.D)).Out.ToArray(), x.ToArray(), dout.ToArray());
        AssertGradClose(dx.AsReadOnlySpan(), num, $"dx {s}");
    }

    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 25, Replay = "(2468,1357)")]
    public void Relu_FloatAgreesWithDouble(Dims s)
    {
        var rng = new System.Random(s.Seed);
        var x = T(AwayFromZero(rng, s.N * s.D), s.N, s.D);
        var dout = T(Uniform(rng, s.N * s.D), s.N, s.D);
        var (od, cd) = Layer.ReluForward(x);
        var (of, cf) = Layer.ReluForward(ToFloat(x));
        AssertFloatClose(od.AsReadOnlySpan(), of.AsReadOnlySpan(), "out", 1e-7);
        AssertFloatClose(Layer.ReluBackward(dout, cd).AsReadOnlySpan(), Layer.ReluBackward(ToFloat(dout), cf).AsReadOnlySpan(), "dx", 1e-7);
    }

    [Fact]
    public void ReluBackward_ShapeMismatch_NamesBothShapes()
    {
        var (_, cache) = Layer.ReluForward(T(new double[6], 2, 3));
        var e = Assert.Throws<ArgumentException>(() => Layer.ReluBackward(T(new double[6], 3, 2), cache));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(3, 2)", e.Message);
    }
}
