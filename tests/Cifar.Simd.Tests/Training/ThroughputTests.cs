using Cifar.Simd.Kernels;
using Cifar.Simd.Models;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Training;

public class ThroughputTests
{
    [Fact]
    public void TwoLayerStep_IsExactlyOneIterationOfTrain()
    {
        // With no learning-rate decay, Train's epoch checks change nothing, so k steps must equal k iterations.
        var (x, y) = SyntheticCifar.Create<float>(500, features: 24, seed: 3);
        var workload = new TwoLayerStepWorkload<float>(x, y, hiddenSize: 7, batchSize: 20, learningRate: 1e-3, reg: 0.1, std: 1e-2, seed: 5);
        var losses = new List<double>();
        for (int i = 0; i < 12; i++)
        {
            workload.Step();
            losses.Add(workload.LastLoss);
        }
        var net = new TwoLayerNet<float>(24, 7, 10, 1e-2, seed: 5);
        var stats = net.Train(x, y, x.Slice(0, 10), y[..10], learningRate: 1e-3, learningRateDecay: 1, reg: 0.1, numIters: 12, batchSize: 20);
        Assert.Equal(stats.LossHistory, losses);
        Assert.Equal(net.Parameters.Values.ToArray(), workload.Model.Parameters.Values.ToArray());
    }

    [Fact]
    public void FcStep_IsExactlyOneIterationOfTheSolver()
    {
        var (x, y) = SyntheticCifar.Create<double>(400, features: 30, seed: 4);
        var workload = new FcStepWorkload<double>(x, y, [9, 9, 9], batchSize: 25, seed: 2);
        var net = new FullyConnectedNet<double>([9, 9, 9], 30, 10, dropoutKeepRatio: 0.5, Normalization.Batchnorm, reg: 0, weightScale: 1e-2, seed: 2);
        // No subsampled accuracy checks, so the Solver draws nothing from the generator between steps.
        var solver = new Solver<double>(net, x, y, x.Slice(0, 10), y[..10], new SolverOptions
        {
            UpdateRule = "adam", BatchSize = 25, NumEpochs = 1, NumTrainSamples = null, NumValSamples = null,
        });
        solver.Train();
        var losses = new List<double>();
        for (int i = 0; i < solver.NumIterations; i++)
        {
            workload.Step();
            losses.Add(workload.LastLoss);
        }
        Assert.Equal(16, losses.Count);
        Assert.Equal(solver.LossHistory, losses);
    }

    [Fact]
    public void WarmedUpGemmSteps_AllocateNothing()
    {
        IThroughputWorkload[] workloads =
        [
            new GemmWorkload<float>("odd", 67, 45, 23),
            new GemmWorkload<double>("odd", 67, 45, 23, transposeA: true, transposeB: true, GemmEpilogue.BiasRelu),
        ];
        foreach (var w in workloads)
        {
            w.Step();
            w.Step();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) w.Step();
            Assert.True(GC.GetAllocatedBytesForCurrentThread() == before, $"{w.Description} allocated {GC.GetAllocatedBytesForCurrentThread() - before} bytes");
        }
    }

    [Fact]
    public void WorkloadsReportTheirSize()
    {
        var (x, y) = SyntheticCifar.Create<float>(250, seed: 2);
        var two = new TwoLayerStepWorkload<float>(x, y);
        Assert.Equal("two-layer-step", two.Name);
        Assert.Equal("two-layer 3072-100-10, batch 200, SGD", two.Description);
        Assert.Equal(200, two.SamplesPerStep);
        Assert.Equal(2.0 * 200 * (2.0 * 3072 * 100 + 3.0 * 100 * 10), two.FlopsPerStep);

        var fc = new FcStepWorkload<float>(x, y, [100, 100, 100, 100, 100]);
        Assert.Equal("fc [100]×5 + batchnorm + dropout keep 0.5, batch 100, adam", fc.Description);
        Assert.Equal(100, fc.SamplesPerStep);
        Assert.Equal(2.0 * 100 * (2.0 * 3072 * 100 + 4 * 3.0 * 100 * 100 + 3.0 * 100 * 10), fc.FlopsPerStep);

        var inference = new InferenceWorkload<float>(x.Slice(0, 100), hiddenSize: 50);
        inference.Step();
        Assert.Equal(100, inference.SamplesPerStep);
        Assert.Equal(2.0 * 100 * (3072 * 50 + 50 * 10), inference.FlopsPerStep);
        Assert.Equal(inference.Model.Predict(x.Slice(0, 100)), inference.Predictions.ToArray());

        var gemm = new GemmWorkload<double>("X·W", 200, 100, 3072);
        Assert.Equal("gemm", gemm.Name);
        Assert.Equal("X·W 200×100×3072", gemm.Description);
        Assert.Equal(0, gemm.SamplesPerStep);
        Assert.Equal(2.0 * 200 * 100 * 3072, gemm.FlopsPerStep);
    }

    [Fact]
    public void ForcedPathGemm_MatchesTheActivePath()
    {
        foreach (var path in SimdPaths.Supported())
        {
            var w = new GemmWorkload<float>(path, "odd", 37, 41, 29);
            Assert.Equal(path, w.Path);
            w.Step();
        }
    }

    [Fact]
    public void Measure_ReportsTheMedianOfAtLeastThreeRepetitions()
    {
        var w = new GemmWorkload<float>("small", 64, 64, 64);
        var result = Throughput.Measure(w, TimeSpan.FromMilliseconds(50));
        Assert.Equal("gemm", result.Workload);
        Assert.True(result.Repetitions >= 3);
        Assert.True(result.Steps >= result.Repetitions);
        Assert.InRange(result.MedianSecondsPerStep, result.MinSecondsPerStep, result.MaxSecondsPerStep);
        Assert.Equal(w.FlopsPerStep / result.MedianSecondsPerStep / 1e9, result.Gflops);
        Assert.Equal(0, result.SamplesPerSecond);
    }

    [Fact]
    public void Measure_HonoursCancellation_AndRejectsBadArguments()
    {
        var w = new GemmWorkload<float>("small", 8, 8, 8);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => Throughput.Measure(w, TimeSpan.FromSeconds(1), cts.Token));
        Assert.Throws<ArgumentOutOfRangeException>(() => Throughput.Measure(w, TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => Throughput.Measure(null!, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void SyntheticData_IsSeededAndInRange()
    {
        var (x1, y1) = SyntheticCifar.Create<float>(40, features: 50, seed: 9);
        var (x2, y2) = SyntheticCifar.Create<float>(40, features: 50, seed: 9);
        Assert.Equal(x1.ToArray(), x2.ToArray());
        Assert.Equal(y1, y2);
        Assert.All(x1.ToArray(), v => Assert.InRange(v, -128f, 128f));
        Assert.All(y1, v => Assert.InRange(v, 0, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticCifar.Create<float>(0));
        Assert.Throws<ArgumentException>(() => new TwoLayerStepWorkload<float>(x1, y1[..10]));
    }
}
