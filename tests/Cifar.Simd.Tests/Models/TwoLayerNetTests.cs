using Cifar.Simd.Checks;
using Cifar.Simd.Models;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Models;

public class TwoLayerNetTests
{
    // The assignment-1 notebook's toy model and data.
    private static (TwoLayerNet<double> Net, Tensor<double> X, int[] Y) Toy()
    {
        var net = new TwoLayerNet<double>(4, 10, 3, std: 1e-1, seed: 0);
        var x = new Tensor<double>(5, 4);
        new NumpyRandom(1).Randn(x.AsSpan(), 10.0);
        return (net, x, [0, 1, 2, 2, 1]);
    }

    [Theory]
    [InlineData(7)]   // one thread's worth
    [InlineData(200)] // the training shape: the GEMMs run in parallel and the products are computed transposed
    public void MinibatchLossEqualsLossOnCopiedRowsBitwise(int batch)
    {
        const int n = 300, d = 3072, h = 50;
        var rng = new System.Random(batch);
        var x = new Tensor<float>(n, d);
        foreach (ref float v in x.AsSpan()) v = (float)(rng.NextDouble() * 255 - 128);
        int[] rows = Enumerable.Range(0, batch).Select(_ => rng.Next(n)).ToArray();
        rows[^1] = rows[0]; // drawn with replacement: repeats allowed
        int[] y = rows.Select(r => r % 10).ToArray();
        var copy = new Tensor<float>(batch, d);
        for (int i = 0; i < batch; i++) x.Row(rows[i]).CopyTo(copy.Row(i));

        var gathered = new TwoLayerNet<float>(d, h, 10, std: 1e-2, seed: 3);
        var copied = new TwoLayerNet<float>(d, h, 10, std: 1e-2, seed: 3);
        var (lossG, gradsG) = gathered.MinibatchLoss(x, rows, y, reg: 0.25);
        var (lossC, gradsC) = copied.Loss(copy, y, reg: 0.25);
        Assert.Equal(lossC, lossG);
        foreach (var name in gradsC.Keys)
            Assert.True(gradsC[name].AsReadOnlySpan().SequenceEqual(gradsG[name].AsReadOnlySpan()), $"d{name} differs.");
    }

    [Fact]
    public void MinibatchLossNamesABadRowOrLabelCount()
    {
        var net = new TwoLayerNet<float>(4, 3, 2);
        var x = new Tensor<float>(5, 4);
        var e = Assert.Throws<ArgumentException>(() => net.MinibatchLoss(x, [0, 5], [0, 1], 0.1));
        Assert.Contains("rows[1] = 5 is not a row of x", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.MinibatchLoss(x, [0, 4], [0], 0.1));
        Assert.Contains("y has 1 labels but rows picks 2 rows", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.MinibatchLoss(x, [], [], 0.1));
        Assert.Equal("rows", e.ParamName);
        Assert.Throws<ArgumentException>(() => net.MinibatchLoss(x, [1], [2], 0.1));
    }

    [Fact]
    public void NotebookToy_ScoresAndLoss()
    {
        var (net, x, y) = Toy();
        double[] expected =
        [
            -0.81233741, -1.27654624, -0.70335995, -0.17129677, -1.18803311, -0.47310444, -0.51590475, -1.01354314, -0.8504215,
            -0.15419291, -0.48629638, -0.52901952, -0.00618733, -0.12435261, -0.15226949,
        ];
        var scores = net.Loss(x).ToArray();
        Assert.True(expected.Zip(scores).Sum(p => Math.Abs(p.First - p.Second)) < 1e-7);
        var (loss, _) = net.Loss(x, y, reg: 0.05);
        Assert.True(Math.Abs(loss - 1.30378789133) < 1e-12, $"loss {loss:R}");
    }

    [Fact]
    public void NotebookToy_GradientsMatchNumericGradients()
    {
        var (net, x, y) = Toy();
        // The gradients are views the next Loss call overwrites: copy them before probing.
        var grads = net.Loss(x, y, reg: 0.05).Grads.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var errors = new List<string>();
        foreach (var name in net.Parameters.Names)
        {
            var p = net.Parameters[name];
            var analytic = grads[name];
            var values = p.ToArray();
            var numeric = GradientCheck.EvalNumericalGradient(v =>
            {
                v.CopyTo(p.AsSpan());
                return net.Loss(x, y, 0.05).Loss;
            }, values);
            values.CopyTo(p.AsSpan());
            if (!(GradientCheck.RelError(analytic, numeric) < 1e-8)) errors.Add($"{name}: {GradientCheck.RelError(analytic, numeric)}");
        }
        Assert.Empty(errors);
    }

    [Fact]
    public void Train_Float64_ReproducesNumpyCs231nRun()
    {
        int n = TwoLayerGolden.N, nv = TwoLayerGolden.NVal, d = TwoLayerGolden.D, c = TwoLayerGolden.C;
        var rs = new NumpyRandom(1);
        var wTrue = new double[d * c];
        rs.Randn(wTrue);
        var x = new Tensor<double>(n, d);
        rs.Randn(x.AsSpan());
        var xVal = new Tensor<double>(nv, d);
        var y = Labels(x, wTrue, c);
        rs.Randn(xVal.AsSpan());
        var yVal = Labels(xVal, wTrue, c);

        var net = new TwoLayerNet<double>(d, TwoLayerGolden.H, c, std: 1e-1, seed: 0);
        var stats = net.Train(x, y, xVal, yVal, learningRate: 3e-1, learningRateDecay: 0.95, reg: 1e-3, numIters: 100, batchSize: 50);

        Assert.Equal(TwoLayerGolden.LossHistory.Length, stats.LossHistory.Count);
        for (int i = 0; i < stats.LossHistory.Count; i++)
            Assert.True(Math.Abs(stats.LossHistory[i] - TwoLayerGolden.LossHistory[i]) <= 1e-10 * Math.Abs(TwoLayerGolden.LossHistory[i]),
                $"iteration {i}: {stats.LossHistory[i]:R} vs numpy {TwoLayerGolden.LossHistory[i]:R}");
        Assert.Equal(TwoLayerGolden.TrainAccHistory, stats.TrainAccHistory);
        Assert.Equal(TwoLayerGolden.ValAccHistory, stats.ValAccHistory);
        Assert.True(GradientCheck.RelError(TwoLayerGolden.FinalW2, net.Parameters["W2"].ToArray()) < 1e-9);
        Assert.True(GradientCheck.RelError(TwoLayerGolden.FinalB1, net.Parameters["b1"].ToArray()) < 1e-9);
    }

    private static int[] Labels(Tensor<double> x, double[] w, int c)
    {
        var scores = new double[x.Rows * c];
        Cifar.Simd.Kernels.Gemm.Multiply<double>(false, false, x.Rows, c, x.RowLength, x.AsReadOnlySpan(), w, scores);
        var y = new int[x.Rows];
        Cifar.Simd.Kernels.ArgMax.Rows<double>(scores, x.Rows, c, y);
        return y;
    }
}
