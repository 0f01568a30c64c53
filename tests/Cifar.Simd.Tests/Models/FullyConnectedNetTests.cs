using Cifar.Simd.Checks;
using Cifar.Simd.Data;
using Cifar.Simd.Models;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Data;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Models;

public class FullyConnectedNetTests
{
    private static (Tensor<double> X, int[] Y) Small(uint seed, int n = 2, int d = 15, int c = 10)
    {
        var rng = new NumpyRandom(seed);
        var x = new Tensor<double>(n, d);
        rng.Randn(x.AsSpan());
        var y = new int[n];
        for (int i = 0; i < n; i++) y[i] = (int)rng.RandInt(0, c);
        return (x, y);
    }

    // The assignment-2 notebook's "initial loss and gradient check", for every normalization and with dropout.
    [Theory]
    [InlineData(Normalization.None, 0.0, 1.0)]
    [InlineData(Normalization.None, 3.14, 1.0)]
    [InlineData(Normalization.Batchnorm, 0.0, 1.0)]
    [InlineData(Normalization.Batchnorm, 3.14, 1.0)]
    [InlineData(Normalization.Layernorm, 0.0, 1.0)]
    [InlineData(Normalization.Layernorm, 3.14, 1.0)]
    [InlineData(Normalization.None, 0.0, 0.5)]
    [InlineData(Normalization.Batchnorm, 0.5, 0.75)]
    [InlineData(Normalization.Batchnorm, 0.0, 0.75)]
    [InlineData(Normalization.Layernorm, 0.0, 0.75)]
    [InlineData(Normalization.None, 0.0, 0.75)]
    public void Gradients_MatchNumericGradients(Normalization norm, double reg, double keep)
    {
        var (x, y) = Small(231, n: norm == Normalization.Batchnorm ? 8 : 2);
        var net = new FullyConnectedNet<double>([20, 30], inputDim: 15, numClasses: 10, dropoutKeepRatio: keep,
            normalization: norm, reg: reg, weightScale: 5e-2, seed: 0, dropoutSeed: keep < 1 ? 123u : null);
        var (loss, grads) = net.Loss(x, y);
        Assert.True(double.IsFinite(loss));
        var analytic = grads.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var errors = new List<string>();
        foreach (var name in net.Parameters.Names)
        {
            var p = net.Parameters[name];
            var values = p.ToArray();
            var numeric = GradientCheck.EvalNumericalGradient(v => { v.CopyTo(p.AsSpan()); return net.Loss(x, y).Loss; }, values);
            values.CopyTo(p.AsSpan());
            double err = GradientCheck.RelError(analytic[name], numeric);
            // Entries near zero (b before batchnorm, units ReLU or dropout silenced) carry the ~1e-11 roundoff of
            // a centred difference; an absolute bound judges those, the relative error the rest.
            double maxAbs = analytic[name].Zip(numeric).Max(q => Math.Abs(q.First - q.Second));
            if (!(err < 1e-6 || maxAbs < 1e-7)) errors.Add($"{name}: rel {err:e2}, abs {maxAbs:e2}");
        }
        Assert.Empty(errors);
    }

    [Fact]
    public void InitialLoss_IsLogC_WithSmallWeights_AndNoReg()
    {
        var (x, y) = Small(1, n: 50, d: 40);
        var net = new FullyConnectedNet<double>([50, 50], inputDim: 40, numClasses: 10, weightScale: 1e-4);
        Assert.Equal(Math.Log(10), net.Loss(x, y).Loss, 3);
    }

    [Fact]
    public void SeededModel_DrawsWeightsLayerByLayer_LikeNumpy()
    {
        var net = new FullyConnectedNet<double>([3, 4], inputDim: 2, numClasses: 5, normalization: Normalization.Batchnorm, weightScale: 0.5, seed: 7);
        var rng = new NumpyRandom(7);
        foreach (var (name, count) in new[] { ("W1", 6), ("W2", 12), ("W3", 20) })
        {
            var expected = new double[count];
            rng.Randn(expected, 0.5);
            Assert.Equal(expected, net.Parameters[name].ToArray());
        }
        Assert.Equal(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"], net.Parameters.Names);
        Assert.All(net.Parameters["gamma2"].ToArray(), v => Assert.Equal(1.0, v));
    }

    private static Cifar10Split<double> SmallCifar() =>
        Cifar10.Split<double>(Cifar10.Load(Path.Combine(CifarTestData.SharedFolder, "cifar-10-python-sample.tar.gz")),
            numTraining: 50, numValidation: 100, numTest: 10);

    // Assignment 2: a 3-layer and a 5-layer net overfit 50 training images within 20 epochs.
    [Theory]
    [InlineData(2, 1e-2, 1e-2)]
    [InlineData(4, 2e-2, 5e-2)]
    public void SmallData_Overfits_To100PercentTrainingAccuracy(int hiddenLayers, double learningRate, double weightScale)
    {
        var data = SmallCifar();
        var net = new FullyConnectedNet<double>(Enumerable.Repeat(100, hiddenLayers).ToArray(), weightScale: weightScale, seed: 0);
        var solver = new Solver<double>(net, data.XTrain, data.YTrain, data.XVal, data.YVal,
            new SolverOptions { UpdateRule = "sgd", LearningRate = learningRate, BatchSize = 25, NumEpochs = 20, PrintEvery = 100 });
        solver.Train();
        Assert.Equal(1.0, solver.TrainAccHistory.Max());
    }

    [Theory]
    [InlineData("sgd", 1e-2)]
    [InlineData("sgd_momentum", 1e-2)]
    [InlineData("rmsprop", 1e-4)]
    [InlineData("adam", 1e-3)]
    [InlineData("adagrad", 1e-3)]
    public void EveryUpdateRule_TrainsTheNetToLowerLoss(string rule, double learningRate)
    {
        var net = new FullyConnectedNet<float>([100, 100], normalization: Normalization.Batchnorm, weightScale: 5e-2, seed: 0);
        var split = Cifar10.Split<float>(Cifar10.Load(Path.Combine(CifarTestData.SharedFolder, "cifar-10-python-sample.tar.gz")),
            numTraining: 200, numValidation: 100, numTest: 10);
        var solver = new Solver<float>(net, split.XTrain, split.YTrain, split.XVal, split.YVal,
            new SolverOptions { UpdateRule = rule, LearningRate = learningRate, BatchSize = 50, NumEpochs = 5 });
        solver.Train();
        Assert.True(solver.LossHistory.Skip(15).Average() < solver.LossHistory.Take(3).Average(), $"{rule}: {solver.LossHistory[0]} -> {solver.LossHistory[^1]}");
    }

    [Fact]
    public void BadArguments_NameTheValueAndRange()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FullyConnectedNet<float>([100, 0]));
        Assert.Contains("hiddenDims[1] = 0", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new FullyConnectedNet<float>([10], dropoutKeepRatio: 0));
        Assert.Contains("(0, 1]", e.Message);
        var net = new FullyConnectedNet<float>([10], inputDim: 5, numClasses: 3);
        var ae = Assert.Throws<ArgumentException>(() => net.Loss(new Tensor<float>(2, 6), [0, 1]));
        Assert.Contains("(2, 6)", ae.Message);
        ae = Assert.Throws<ArgumentException>(() => net.Loss(new Tensor<float>(2, 5), [0, 3]));
        Assert.Contains("y[1] = 3", ae.Message);
    }
}
