using System.Diagnostics;
using Cifar.Simd.Models;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;
using Xunit.Abstractions;

namespace Cifar.Simd.Tests.Reliability;

/// <summary>
/// Trains for many epochs and samples memory at every epoch's end: after the first epoch the training thread
/// allocates nothing and the working set stays flat. By default a small problem for 4 epochs; with
/// <c>CIFAR_SIMD_SOAK=1</c>, CIFAR-10's shapes (3,072 features, 10 classes) for 50 epochs, with every epoch's
/// figures written to the test output (docs/reliability.md has a recorded run). Bytes are also kept per
/// iteration, so a failure or a tolerated one-off names the steps that allocated.
/// </summary>
[Collection(nameof(ReliabilityCollection))]
public class SoakTests(ITestOutputHelper output)
{
    private static readonly bool Long = Environment.GetEnvironmentVariable("CIFAR_SIMD_SOAK") == "1";
    // Six short epochs give five measured ones: an allocation per step or per epoch shows in all five.
    private static readonly int Epochs = Long ? 50 : 6;
    private static readonly (int Train, int Val, int D, int Hidden) Size = Long ? (4000, 550, 3072, 100) : (400, 130, 64, 32);
    private const int C = 10;

    [Fact]
    public void Solver_FullyConnectedBatchnormDropoutAdam_StaysFlat()
    {
        var (xt, yt, xv, yv) = SyntheticData.Split<float>(Size.Train, Size.Val, Size.D, C, seed: 31);
        var net = new FullyConnectedNet<float>([Size.Hidden, Size.Hidden], Size.D, C, dropoutKeepRatio: 0.75,
            normalization: Normalization.Batchnorm, reg: 1e-3, weightScale: 5e-2, seed: 1);
        var solver = new Solver<float>(net, xt, yt, xv, yv, new SolverOptions
        {
            UpdateRule = "adam", LearningRate = 1e-3, BatchSize = 100, NumEpochs = Epochs, LearningRateDecay = 0.95,
            NumTrainSamples = 1000, PrintEvery = int.MaxValue,
        });
        var sampler = new MemorySampler(Epochs);
        var steps = new IterationBytes(Epochs * solver.IterationsPerEpoch);
        var progress = new InlineProgress<SolverProgress>(p =>
        {
            steps.EndOf(p.Iteration);
            if (p.Iteration % solver.IterationsPerEpoch == 0) sampler.Sample(p.Epoch);
            steps.Resume();
        });
        var clock = Stopwatch.StartNew();
        sampler.Sample(0);
        steps.Resume();
        Assert.Equal(SolverOutcome.Completed, solver.Train(progress));
        Report(sampler, $"Solver, FullyConnectedNet<float> [{Size.Hidden}, {Size.Hidden}] batchnorm + dropout 0.75, Adam: " +
            $"{Size.Train} × {Size.D} train, {Size.Val} val, batch 100, {solver.IterationsPerEpoch} iterations/epoch, {clock.Elapsed.TotalSeconds:F1} s; " +
            $"val acc {solver.BestValAcc:F3}");
        AssertNothingAllocatedAfterWarmUp(sampler.ThreadAllocated, "epoch", steps);
        AssertWorkingSetFlat(sampler);
    }

    [Fact]
    public void TwoLayerNetTrain_StaysFlat()
    {
        var (xt, yt, xv, yv) = SyntheticData.Split<float>(Size.Train, Size.Val, Size.D, C, seed: 32);
        var net = new TwoLayerNet<float>(Size.D, Size.Hidden, C, std: 1e-2, seed: 1);
        int batch = Long ? 200 : 50, perEpoch = Size.Train / batch;
        var sampler = new MemorySampler(Epochs);
        var steps = new IterationBytes(Epochs * perEpoch);
        var progress = new InlineProgress<TwoLayerProgress>(p =>
        {
            steps.EndOf(p.Iteration);
            if (p.Iteration % perEpoch == 0) sampler.Sample(p.Iteration / perEpoch);
            steps.Resume();
        });
        var clock = Stopwatch.StartNew();
        sampler.Sample(0);
        steps.Resume();
        var stats = net.Train(xt, yt, xv, yv, learningRate: 5e-2, learningRateDecay: 0.95, reg: 1e-3, numIters: Epochs * perEpoch,
            batchSize: batch, progress: progress);
        Report(sampler, $"TwoLayerNet<float>.Train, H = {Size.Hidden}, SGD: {Size.Train} × {Size.D} train, {Size.Val} val, batch {batch}, " +
            $"{perEpoch} iterations/epoch, {clock.Elapsed.TotalSeconds:F1} s; loss {stats.LossHistory[0]:F3} → {stats.LossHistory[^1]:F3}, final val acc {stats.ValAccHistory[^1]:F3}");
        // Iteration k·perEpoch + 1 runs epoch k's accuracy check, so the rest of the epoch holds only steps.
        AssertNothingAllocatedAfterWarmUp(e => steps.Sum((e - 1) * perEpoch + 2, e * perEpoch), "the steps of epoch", steps);
        // Train's two accuracy histories are Lists that start empty and double as they grow: under 64 bytes an epoch.
        long afterWarmUp = Enumerable.Range(2, Epochs - 1).Sum(e => sampler.ThreadAllocated(e));
        Assert.True(afterWarmUp < 64L * Epochs + (Long ? 2 : 1) * RuntimeOneOffBytes, $"epochs 2–{Epochs} allocated {afterWarmUp} bytes");
        AssertWorkingSetFlat(sampler);
    }

    // A rare one-off of a few KB in one epoch, seen on loaded machines (CI included) with and without a collection nearby;
    // its source is not known (docs/reliability.md).
    private const int RuntimeOneOffBytes = 16 * 1024;

    // An allocation per step or per epoch would show in every measured epoch; one epoch of at most 16 KiB in a short
    // run (two in the long one) is tolerated, and the iterations that allocated are named either way.
    private void AssertNothingAllocatedAfterWarmUp(Func<int, long> bytes, string what, IterationBytes steps)
    {
        var nonZero = Enumerable.Range(2, Epochs - 1).Where(e => bytes(e) != 0).ToList();
        string detail = string.Join("; ", nonZero.Select(e => $"{what} {e}: {bytes(e)} B")) + $" ({steps.DescribeAfter(steps.Iterations / Epochs)})";
        if (nonZero.Count > 0) output.WriteLine($"Allocated after warm-up: {detail}");
        bool ok = nonZero.Count <= (Long ? 2 : 1) && nonZero.All(e => bytes(e) <= RuntimeOneOffBytes);
        Assert.True(ok, detail);
    }

    private void Report(MemorySampler sampler, string title) => output.WriteLine(sampler.Table(title));

    // A short run is too short to judge the working set; the long run must not grow after its first tenth.
    private static void AssertWorkingSetFlat(MemorySampler sampler)
    {
        if (!Long) return;
        long growth = sampler.WorkingSet(Epochs) - sampler.WorkingSet(Epochs / 10);
        Assert.True(growth < 16L << 20, $"the working set grew {growth >> 20} MiB between epoch {Epochs / 10} and epoch {Epochs}");
    }

    /// <summary>
    /// Bytes the training thread allocated inside each iteration, the progress callback's own sampling left out;
    /// preallocated, so recording allocates nothing.
    /// </summary>
    private sealed class IterationBytes(int iterations)
    {
        private readonly long[] _bytes = new long[iterations + 1];

        /// <summary>How many iterations there is room for.</summary>
        public int Iterations => iterations;
        private readonly int[] _collections = new int[iterations + 1];
        private long _resumedAt;

        /// <summary>Called first thing in iteration <paramref name="iteration"/>'s progress report.</summary>
        public void EndOf(int iteration)
        {
            _bytes[iteration] = GC.GetAllocatedBytesForCurrentThread() - _resumedAt;
            _collections[iteration] = GC.CollectionCount(0);
        }

        /// <summary>Called last thing in a progress report, and once before training starts.</summary>
        public void Resume() => _resumedAt = GC.GetAllocatedBytesForCurrentThread();

        /// <summary>Total over iterations <paramref name="first"/> … <paramref name="last"/>.</summary>
        public long Sum(int first, int last) => Enumerable.Range(first, last - first + 1).Sum(i => _bytes[i]);

        /// <summary>The iterations after <paramref name="warmUp"/> with bytes, each with whether a collection ran during it.</summary>
        public string DescribeAfter(int warmUp) => "iterations with bytes: " + string.Join(", ",
            Enumerable.Range(warmUp + 1, iterations - warmUp).Where(i => _bytes[i] != 0)
                .Select(i => $"{i}: {_bytes[i]} B{(_collections[i] != _collections[i - 1] ? " (GC)" : "")}"));
    }
}
