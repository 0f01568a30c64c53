using Cifar.Simd.Checks;
using Cifar.Simd.Layers;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using FsCheck.Xunit;
using static Cifar.Simd.Tests.Layers.LayerTestData;

namespace Cifar.Simd.Tests.Layers;

/// <summary>Dropout through real NumpyRandom draws; the skipped ones wait for NumpyRandom's implementation.</summary>
public class DropoutTests
{

    [Fact]
    public void SeededMask_EqualsNumpy()
    {
        // np.random.seed(0); np.random.rand(10) = [.5488 .7152 .6028 .5449 .4237 .6459 .4376 .8918 .9637 .3834]
        // (checked against a plain-Python MT19937 with init_genrand(0) and numpy's 53-bit double).
        bool[] kept = [true, false, false, true, true, false, true, false, false, true];
        var x = Tensor<double>.Filled(1, 2, 5);

        var (output, cache) = Layer.DropoutForward(x, new DropoutParam { P = 0.6, Seed = 0 });

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(kept[i] ? 1 / 0.6 : 0, output[i]);
            Assert.Equal(kept[i] ? 1 / 0.6 : 0, cache.Mask![i]);
        }
    }

    [Fact]
    public void Seeded_ReseedsEachCall_SoMasksRepeat()
    {
        var x = Tensor<float>.Filled(1, 10, 37);
        var param = new DropoutParam { P = 0.3, Seed = 123 };
        var (a, _) = Layer.DropoutForward(x, param);
        var (b, _) = Layer.DropoutForward(x, param);
        Assert.Equal(a.ToArray(), b.ToArray());
    }

    [Fact]
    public void Unseeded_GeneratorStreamContinues()
    {
        var x = Tensor<double>.Filled(1, 10, 37);
        var param = new DropoutParam { P = 0.5, Generator = new NumpyRandom(7) };
        var (a, _) = Layer.DropoutForward(x, param);
        var (b, _) = Layer.DropoutForward(x, param);
        Assert.NotEqual(a.ToArray(), b.ToArray());
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.4)]
    [InlineData(0.7)]
    public void Train_KeepsAboutPAndPreservesMean(double p)
    {
        // The notebook's check: x = randn(500, 500) + 10; the mean is preserved and about 1 − p of units are zeroed.
        var rng = new System.Random(1);
        var x = T(Uniform(rng, 500 * 500, 9, 11), 500, 500);
        var (output, _) = Layer.DropoutForward(x, new DropoutParam { P = p, Seed = 123 });
        double zeros = output.ToArray().Count(v => v == 0) / (double)output.Length;
        Assert.Equal(1 - p, zeros, 0.01);
        Assert.Equal(x.ToArray().Average(), output.ToArray().Average(), 0.05);
    }

    [Fact]
    public void TestMode_ReturnsXUnchanged_AndBackwardPassesDout()
    {
        var x = T(Linspace(-1, 1, 12), 3, 4);
        var before = x.ToArray();
        var (output, cache) = Layer.DropoutForward(x, new DropoutParam { P = 0.3, Mode = LayerMode.Test });
        Assert.Same(x, output);
        Assert.Equal(before, output.ToArray());
        var dout = T(Linspace(0, 1, 12), 3, 4);
        Assert.Equal(dout.ToArray(), Layer.DropoutBackward(dout, cache).ToArray());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void KeepProbabilityOutsideUnitInterval_Throws(double p)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Layer.DropoutForward(Tensor<double>.Zeros(2, 2), new DropoutParam { P = p }));
        Assert.Contains("(0, 1]", e.Message);
    }
}

/// <summary>Dropout's arithmetic from fixed uniform draws, independent of the generator.</summary>
public class DropoutMaskTests
{
    [Property(Arbitrary = [typeof(LayerArbitraries)], MaxTest = 30, Replay = "(3141,5927)")]
    public void FixedDraws_MaskIsInvertedKeepIndicator_AndGradientMatches(Dims s)
    {
        var rng = new System.Random(s.Seed);
        int len = s.N * s.D;
        double p = 0.05 + 0.95 * rng.NextDouble();
        double[] u = Uniform(rng, len, 0, 1);
        double[] x = Uniform(rng, len);
        double[] dout = Uniform(rng, len);
        var mask = new double[len];
        var output = new double[len];

        Layer.DropoutForward<double>(x, u, p, mask, output);

        for (int i = 0; i < len; i++)
        {
            Assert.Equal(u[i] < p ? 1 / p : 0, mask[i]);
            Assert.Equal(x[i] * mask[i], output[i]);
        }
        var dx = new double[len];
        Layer.DropoutBackward<double>(dout, mask, dx);
        var num = GradientCheck.EvalNumericalGradientArray(v =>
        {
            var o = new double[len];
            Layer.DropoutForward<double>(v, u, p, new double[len], o);
            return o;
        }, x, dout);
        AssertGradClose(dx, num, $"dx {s}");

        // Float: the comparison is made on the double draws, so the float mask keeps exactly the same units.
        var maskF = new float[len];
        var outF = new float[len];
        Layer.DropoutForward<float>(x.Select(v => (float)v).ToArray(), u, p, maskF, outF);
        for (int i = 0; i < len; i++)
            Assert.Equal((float)mask[i], maskF[i]);
        AssertFloatClose(output, outF, "out", 1e-6);
    }

    [Fact]
    public void FixedDraws_InPlace_AndTooShortBuffers()
    {
        double[] x = [1, 2, 3, 4];
        double[] u = [0.1, 0.9, 0.5, 0.49];
        var mask = new double[4];
        Layer.DropoutForward<double>(x, u, 0.5, mask, x);
        Assert.Equal([2, 0, 0, 8], x);
        Assert.Throws<ArgumentException>(() => Layer.DropoutForward<double>(x, u.AsSpan(0, 3), 0.5, mask, x));
        Assert.Throws<ArgumentException>(() => Layer.DropoutForward<double>(x, u, 0.5, new double[3], x));
    }
}
