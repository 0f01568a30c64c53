using Cifar.Simd.Models;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Kernels;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Models;

/// <summary>Issue 4's determinism promise at the model level: training gives the same bits on 1, 2 and 3 threads.</summary>
[Collection(nameof(GemmThreadingCollection))]
public class TrainingThreadCountTests
{
    [Theory]
    [InlineData(50, 200)] // the default run's shape: split-K forward, the minibatch packed once, the second layer by halves on two cores
    [InlineData(100, 75)] // an odd batch: halves of 37 and 38 rows
    [InlineData(30, 9)]   // a batch too small to split over cores: both halves on the caller
    public void TwoLayerTrainIsBitwiseTheSameOnAnyThreadCount(int hidden, int batch)
    {
        const int n = 400, d = 3072;
        var rng = new System.Random(hidden + batch);
        var x = Tensor<float>.Uninitialized(n, d);
        foreach (ref float v in x.AsSpan()) v = (float)(rng.NextDouble() * 255 - 128);
        int[] y = Enumerable.Range(0, n).Select(_ => rng.Next(10)).ToArray();
        var xVal = Tensor<float>.Uninitialized(50, d);
        foreach (ref float v in xVal.AsSpan()) v = (float)(rng.NextDouble() * 255 - 128);
        int[] yVal = Enumerable.Range(0, 50).Select(_ => rng.Next(10)).ToArray();

        float[]? firstParams = null;
        List<double>? firstLoss = null;
        ThreadCounts.ForEach(threads =>
        {
            var net = new TwoLayerNet<float>(d, hidden, 10, std: 1e-4, seed: 0);
            var stats = net.Train(x, y, xVal, yVal, learningRate: 1e-4, learningRateDecay: 0.95, reg: 0.25, numIters: 12, batchSize: batch);
            float[] values = net.Parameters.Values.ToArray();
            if (firstParams is null) (firstParams, firstLoss) = (values, stats.LossHistory);
            Assert.Equal(firstLoss, stats.LossHistory);
            Assert.True(firstParams.AsSpan().SequenceEqual(values), $"parameters differ on {threads} thread(s) (H = {hidden}, batch {batch})");
        });
    }

    [Fact]
    public void SolverWithFullyConnectedNetIsBitwiseTheSameOnAnyThreadCount()
    {
        // CIFAR's 3,072 features, so the first layer's forward runs as two K segments and the products want the pool.
        var (xt, yt, xv, yv) = SyntheticData.Split<float>(400, 100, 3072, 10, seed: 31);
        float[]? firstParams = null, firstStats = null;
        List<double>? firstLoss = null;
        ThreadCounts.ForEach(threads =>
        {
            var net = new FullyConnectedNet<float>([100, 100], 3072, 10, dropoutKeepRatio: 0.5, normalization: Normalization.Batchnorm,
                reg: 1e-3, weightScale: 5e-2, seed: 5);
            var solver = new Solver<float>(net, xt, yt, xv, yv, new SolverOptions
            {
                UpdateRule = "adam", LearningRate = 1e-3, BatchSize = 100, NumEpochs = 2, NumTrainSamples = 200,
            });
            Assert.Equal(SolverOutcome.Completed, solver.Train());
            float[] values = net.Parameters.Values.ToArray();
            float[] stats = net.BnParams.SelectMany(p => p.RunningMean!.ToArray().Concat(p.RunningVar!.ToArray())).ToArray();
            if (firstParams is null) (firstParams, firstStats, firstLoss) = (values, stats, [.. solver.LossHistory]);
            Assert.Equal(firstLoss, solver.LossHistory);
            Assert.True(firstParams.AsSpan().SequenceEqual(values), $"parameters differ on {threads} thread(s)");
            Assert.True(firstStats!.AsSpan().SequenceEqual(stats), $"batchnorm running statistics differ on {threads} thread(s)");
        });
    }
}
