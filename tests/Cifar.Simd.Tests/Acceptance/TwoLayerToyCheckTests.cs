using Cifar.Simd.Layers;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Acceptance;

/// <summary>The assignment-1 notebook's toy check, built from the layer functions and the RNG directly.</summary>
public class TwoLayerToyCheckTests
{
    [Fact]
    public void ToyNet_ScoresAndRegularizedSoftmaxLoss_MatchTheNotebook()
    {
        var rng = new NumpyRandom(0);
        var w1 = new Tensor<double>(4, 10);
        rng.Randn(w1.AsSpan(), 0.1);
        var w2 = new Tensor<double>(10, 3);
        rng.Randn(w2.AsSpan(), 0.1);
        var b1 = new Tensor<double>(10);
        var b2 = new Tensor<double>(3);
        rng.Seed(1);
        var x = new Tensor<double>(5, 4);
        rng.Randn(x.AsSpan(), 10.0);
        int[] y = [0, 1, 2, 2, 1];

        var (h, _) = Layer.AffineReluForward(x, w1, b1);
        var (scores, _) = Layer.AffineForward(h, w2, b2);
        double[] expected =
        [
            -0.81233741, -1.27654624, -0.70335995, -0.17129677, -1.18803311, -0.47310444, -0.51590475, -1.01354314, -0.8504215,
            -0.15419291, -0.48629638, -0.52901952, -0.00618733, -0.12435261, -0.15226949,
        ];
        Assert.True(expected.Zip(scores.ToArray()).Sum(p => Math.Abs(p.First - p.Second)) < 1e-7);

        const double Reg = 0.05;
        var (dataLoss, _) = Layer.SoftmaxLoss(scores, y);
        double sumSquares = w1.ToArray().Sum(v => v * v) + w2.ToArray().Sum(v => v * v);
        double loss = dataLoss + Reg * sumSquares;
        Assert.True(Math.Abs(loss - 1.30378789133) < 1e-12, $"loss {loss:R}");
    }
}
