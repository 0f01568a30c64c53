using System.Numerics;
using Cifar.Simd.Models;
using Cifar.Simd.Optim;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;
using Xunit.Abstractions;

namespace Cifar.Simd.Tests.Reliability;

/// <summary>
/// Tests that read allocation counters or need the worker pool to themselves run alone: another test that
/// changes <c>Parallelism.ThreadCount</c> mid-measurement would grow the pool and be counted.
/// </summary>
[CollectionDefinition(nameof(ReliabilityCollection), DisableParallelization = true)]
public class ReliabilityCollection;

/// <summary>
/// Once warmed up, training steps, epoch-end checks and inference allocate no managed memory. Each case builds its
/// model and data afresh and measures a warmed-up window; a window that is not 0 is measured once more on a fresh
/// model, which must then be 0 (see <see cref="AssertNoneAfterWarmUp"/>).
/// </summary>
[Collection(nameof(ReliabilityCollection))]
public class SteadyStateAllocationTests(ITestOutputHelper output)
{
    [Fact] public void Solver_FullyConnectedBatchnormDropoutAdam_Float() => AssertNoneAfterWarmUp(() => SolverEpochsBytes<float>(fc: true));
    [Fact] public void Solver_FullyConnectedBatchnormDropoutAdam_Double() => AssertNoneAfterWarmUp(() => SolverEpochsBytes<double>(fc: true));
    [Fact] public void Solver_TwoLayerNet_Float() => AssertNoneAfterWarmUp(() => SolverEpochsBytes<float>(fc: false));

    // A rare one-off of a few KB on the measuring thread, seen on loaded machines (CI included) and of unknown source
    // (docs/reliability.md), does not come back on a second fresh model; an allocation per step, per epoch or per model does.
    private void AssertNoneAfterWarmUp(Func<long> window)
    {
        long first = window();
        if (first == 0) return;
        long second = window();
        output.WriteLine($"The first warmed-up window allocated {first} B; the same window on a fresh model {second} B.");
        Assert.True(second == 0, $"{first} B, then {second} B on a fresh model");
    }

    // Epoch 1 sizes every buffer; epochs 2–4 add decay, checks with partial last batches and best-parameter copies.
    private static long SolverEpochsBytes<T>(bool fc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 48, c = 5;
        var (xt, yt, xv, yv) = SyntheticData.Split<T>(240, 130, d, c, seed: 5);
        IClassifier<T> model = fc
            ? new FullyConnectedNet<T>([32, 24], d, c, dropoutKeepRatio: 0.75, normalization: Normalization.Batchnorm, reg: 1e-3, weightScale: 5e-2, seed: 1)
            : new TwoLayerNet<T>(d, 32, c, std: 1e-2, seed: 1) { Reg = 1e-3 };
        var solver = new Solver<T>(model, xt, yt, xv, yv, new SolverOptions
        {
            UpdateRule = fc ? "adam" : "sgd_momentum", LearningRate = 1e-3, BatchSize = 40, NumEpochs = 4,
            LearningRateDecay = 0.95, NumTrainSamples = 150, PrintEvery = 1,
        });
        long afterFirstEpoch = -1, atEnd = -1;
        var progress = new InlineProgress<SolverProgress>(p =>
        {
            long now = GC.GetAllocatedBytesForCurrentThread();
            if (p.Iteration == solver.IterationsPerEpoch) afterFirstEpoch = now;
            if (p.Iteration == p.NumIterations) atEnd = now;
        });
        Assert.Equal(SolverOutcome.Completed, solver.Train(progress));
        Assert.True(afterFirstEpoch > 0 && atEnd > 0);
        return atEnd - afterFirstEpoch;
    }

    [Fact] public void TwoLayerNet_StepsAndInference_Float() => AssertNoneAfterWarmUp(TwoLayerNetStepsBytes<float>);
    [Fact] public void TwoLayerNet_StepsAndInference_Double() => AssertNoneAfterWarmUp(TwoLayerNetStepsBytes<double>);

    private static long TwoLayerNetStepsBytes<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 40, h = 30, c = 7;
        var (x, y) = SyntheticData.Blobs<T>(300, d, c, seed: 9); // 300 rows: one full inference chunk and a partial one
        var batch = x.Slice(0, 64);
        var labels = y[..64];
        var net = new TwoLayerNet<T>(d, h, c, std: 1e-2, seed: 2);
        var sgd = new Sgd<T>(1e-2);
        var scores = Tensor<T>.Uninitialized(x.Rows, c);
        var predictions = new int[x.Rows];
        void Step()
        {
            net.Loss(batch, labels, 1e-3);
            sgd.Update(net.Parameters.Values.AsSpan(), net.Parameters.Gradients.AsReadOnlySpan());
            net.Scores(x, scores);
            net.Predict(x, predictions);
        }
        Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) Step();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact] public void FullyConnectedNet_StepsAndInference_Float() => AssertNoneAfterWarmUp(() => FullyConnectedStepsBytes<float>(Normalization.Batchnorm));
    [Fact] public void FullyConnectedNet_StepsAndInference_Double() => AssertNoneAfterWarmUp(() => FullyConnectedStepsBytes<double>(Normalization.Layernorm));

    private static long FullyConnectedStepsBytes<T>(Normalization norm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 40, c = 7;
        var (x, y) = SyntheticData.Blobs<T>(300, d, c, seed: 9);
        var batch = x.Slice(0, 64);
        var labels = y[..64];
        var net = new FullyConnectedNet<T>([30, 20, 10], d, c, dropoutKeepRatio: 0.5, normalization: norm, reg: 1e-3, weightScale: 5e-2, seed: 2);
        IClassifier<T> model = net;
        var adam = new Adam<T>(1e-3);
        var scores = Tensor<T>.Uninitialized(x.Rows, c);
        var predictions = new int[x.Rows];
        void Step()
        {
            model.Loss(batch, labels);
            adam.Update(net.Parameters.Values.AsSpan(), net.Parameters.Gradients.AsReadOnlySpan());
            net.Scores(x, scores);
            net.Predict(x, predictions);
        }
        Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) Step();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void LengthChecks_FormatTheirDescriptionOnlyWhenTheyFail()
    {
        int rows = 3, cols = 4;
        ThrowHelper.CheckLength(12, (long)rows * cols, "scores", $"a {rows}×{cols} matrix");
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) ThrowHelper.CheckLength(12 + i, (long)rows * cols, "scores", $"a {rows}×{cols} matrix");
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        var e = Assert.Throws<ArgumentException>(() => ThrowHelper.CheckLength(11, (long)rows * cols, "scores", $"a {rows}×{cols} matrix"));
        Assert.StartsWith("scores has 11 elements but a 3×4 matrix needs 12.", e.Message);
        Assert.Equal("scores", e.ParamName);
    }
}
