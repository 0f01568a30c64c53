using System.Numerics;
using Cifar.Simd.Models;
using Cifar.Simd.Optim;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Reliability;

/// <summary>
/// Tests that read allocation counters or need the worker pool to themselves run alone: another test that
/// changes <c>Parallelism.ThreadCount</c> mid-measurement would grow the pool and be counted.
/// </summary>
[CollectionDefinition(nameof(ReliabilityCollection), DisableParallelization = true)]
public class ReliabilityCollection;

/// <summary>Once warmed up, training steps, epoch-end checks and inference allocate no managed memory.</summary>
[Collection(nameof(ReliabilityCollection))]
public class SteadyStateAllocationTests
{
    [Fact] public void Solver_FullyConnectedBatchnormDropoutAdam_Float() => SolverEpochsAllocateNothing<float>(fc: true);
    [Fact] public void Solver_FullyConnectedBatchnormDropoutAdam_Double() => SolverEpochsAllocateNothing<double>(fc: true);
    [Fact] public void Solver_TwoLayerNet_Float() => SolverEpochsAllocateNothing<float>(fc: false);

    // Epoch 1 sizes every buffer; epochs 2–4 add decay, checks with partial last batches and best-parameter copies.
    private static void SolverEpochsAllocateNothing<T>(bool fc) where T : unmanaged, IFloatingPointIeee754<T>
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
        Assert.Equal(0, atEnd - afterFirstEpoch);
    }

    [Fact] public void TwoLayerNet_StepsAndInference_Float() => TwoLayerNetStepsAllocateNothing<float>();
    [Fact] public void TwoLayerNet_StepsAndInference_Double() => TwoLayerNetStepsAllocateNothing<double>();

    private static void TwoLayerNetStepsAllocateNothing<T>() where T : unmanaged, IFloatingPointIeee754<T>
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
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact] public void FullyConnectedNet_StepsAndInference_Float() => FullyConnectedStepsAllocateNothing<float>(Normalization.Batchnorm);
    [Fact] public void FullyConnectedNet_StepsAndInference_Double() => FullyConnectedStepsAllocateNothing<double>(Normalization.Layernorm);

    private static void FullyConnectedStepsAllocateNothing<T>(Normalization norm) where T : unmanaged, IFloatingPointIeee754<T>
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
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
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
