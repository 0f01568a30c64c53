using Cifar.Simd.Models;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Training;

/// <summary>A NaN or infinite loss stops training with a clear message and leaves the best parameters so far.</summary>
public sealed class DivergenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cifar-simd-diverge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (Tensor<double>, int[], Tensor<double>, int[]) Data()
    {
        var (x, y) = LinearSoftmaxModel.Blobs(600, 12, 4, seed: 3);
        return (x.Slice(0, 500), y[..500], x.Slice(500, 100), y[500..]);
    }

    /// <summary>A linear classifier whose loss turns NaN, and whose gradient poisons the parameters, from one call on.</summary>
    private sealed class PoisonedModel(int poisonAt) : IClassifier<double>
    {
        private readonly LinearSoftmaxModel _inner = new(12, 4, seed: 0);
        private int _calls;

        public ParameterSet<double> Parameters => _inner.Parameters;
        public NumpyRandom Random => _inner.Random;
        public int InputSize => _inner.InputSize;
        public int NumClasses => _inner.NumClasses;
        public void Scores(Tensor<double> x, Tensor<double> scores) => _inner.Scores(x, scores);

        public double Loss(Tensor<double> x, ReadOnlySpan<int> y)
        {
            double loss = _inner.Loss(x, y);
            if (++_calls < poisonAt) return loss;
            Parameters.Gradients.Fill(double.NaN);
            return double.NaN;
        }
    }

    [Fact]
    public void Solver_StopsAtTheNaN_RestoresTheBestParameters_AndKeepsTheLastCheckpoint()
    {
        var (xt, yt, xv, yv) = Data();
        var model = new PoisonedModel(poisonAt: 27);
        string checkpoint = Path.Combine(_dir, "ckpt.safetensors");
        var solver = new Solver<double>(model, xt, yt, xv, yv, new SolverOptions
        {
            LearningRate = 0.5, LearningRateDecay = 0.9, BatchSize = 50, NumEpochs = 5, CheckpointPath = checkpoint,
        });
        Assert.Equal(SolverOutcome.Diverged, solver.Train());
        var d = solver.Divergence!;
        Assert.Equal((27, 50), (d.Iteration, d.NumIterations));
        Assert.True(double.IsNaN(d.Loss));
        Assert.Equal(0.5 * 0.9 * 0.9, d.LearningRate, 15);
        Assert.Equal(solver.BestValAcc, d.BestValAcc);
        Assert.Contains("iteration 27 of 50", d.Message);
        Assert.Contains("the loss is NaN at learning rate 0.405", d.Message);
        Assert.Contains("Lower the learning rate", d.Message);
        Assert.Equal(26, solver.LossHistory.Count);
        Assert.All(solver.LossHistory, l => Assert.True(double.IsFinite(l)));
        Assert.All(model.Parameters.Values.ToArray(), v => Assert.True(double.IsFinite(v)));
        Assert.Equal(solver.BestValAcc, solver.CheckAccuracy(xv, yv));
        Assert.Equal(20, SolverCheckpoint.ReadInfo(checkpoint).Iteration); // the diverged state is not checkpointed

        Assert.Equal(SolverOutcome.Diverged, solver.Train());
        Assert.Equal(26, solver.LossHistory.Count);
    }

    [Fact]
    public void Solver_DivergingAtTheFirstStep_RestoresTheInitialParameters()
    {
        var (xt, yt, xv, yv) = Data();
        var model = new PoisonedModel(poisonAt: 1);
        var initial = model.Parameters.Values.ToArray();
        var solver = new Solver<double>(model, xt, yt, xv, yv, new SolverOptions { BatchSize = 50, NumEpochs = 1 });
        Assert.Equal(SolverOutcome.Diverged, solver.Train());
        Assert.Null(solver.Divergence!.BestValAcc);
        Assert.Contains("initial parameters", solver.Divergence.Message);
        Assert.Equal(initial, model.Parameters.Values.ToArray());
    }

    [Fact]
    public void Solver_TooHighALearningRate_OnARealNet_Diverges()
    {
        var (xt, yt, xv, yv) = Data();
        var net = new FullyConnectedNet<float>([32], inputDim: 12, numClasses: 4, weightScale: 0.1, seed: 1);
        var solver = new Solver<float>(net, xt.ToFloat(), yt, xv.ToFloat(), yv, new SolverOptions { LearningRate = 1e6, BatchSize = 50, NumEpochs = 5 });
        Assert.Equal(SolverOutcome.Diverged, solver.Train());
        Assert.Contains("Lower the learning rate (try 1E+05)", solver.Divergence!.Message);
        Assert.All(net.Parameters.Values.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void TwoLayerNetTrain_TooHighALearningRate_ThrowsWithTheHistories_AndTheBestParameters()
    {
        var (xt, yt, xv, yv) = Data();
        var net = new TwoLayerNet<float>(12, 32, 4, std: 0.1, seed: 1);
        var e = Assert.Throws<TrainingDivergedException>(() =>
            net.Train(xt.ToFloat(), yt, xv.ToFloat(), yv, learningRate: 1e6, learningRateDecay: 1, reg: 0, numIters: 200, batchSize: 50));
        Assert.InRange(e.Divergence.Iteration, 2, 200);
        Assert.Equal(e.Divergence.Iteration - 1, e.Stats.LossHistory.Count);
        Assert.Contains("learning rate 1E+06", e.Message);
        Assert.All(net.Parameters.Values.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Search_KeepsGoingPastADivergedTrial_AndMarksIt()
    {
        var (xt, yt, xv, yv) = Data();
        var search = new HyperparameterSearch<float>(p => new TwoLayerNet<float>(12, p.HiddenSize, 4, std: 0.1, seed: 1),
            xt.ToFloat(), yt, xv.ToFloat(), yv, new SolverOptions { NumEpochs = 2 });
        var report = search.Run(new SearchSpace { LearningRates = [1e6, 0.1], BatchSizes = [50], HiddenSizes = [16] }.Grid());
        Assert.Equal(2, report.Results.Count);
        var diverged = Assert.Single(report.Results, r => r.Divergence is not null);
        Assert.Equal(1e6, diverged.Point.LearningRate);
        Assert.False(double.IsFinite(diverged.FinalLoss));
        Assert.Equal(0.1, report.Results[0].Point.LearningRate);
    }
}

internal static class TensorConversions
{
    public static Tensor<float> ToFloat(this Tensor<double> x) =>
        Tensor<float>.FromArray(Array.ConvertAll(x.ToArray(), v => (float)v), x.Shape.ToArray());
}
