using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Training;

public class SolverTests
{
    private static (Tensor<double>, int[], Tensor<double>, int[]) Data()
    {
        var (x, y) = LinearSoftmaxModel.Blobs(600, 12, 4, seed: 3);
        return (x.Slice(0, 500), y[..500], x.Slice(500, 100), y[500..]);
    }

    [Theory]
    [InlineData("sgd", 0.5)]
    [InlineData("sgd_momentum", 0.1)]
    [InlineData("rmsprop", 1e-2)]
    [InlineData("adam", 5e-2)]
    [InlineData("adagrad", 0.1)]
    public void EveryRule_LowersTheLoss_AndKeepsCs231nHistories(string rule, double lr)
    {
        var (xt, yt, xv, yv) = Data();
        var model = new LinearSoftmaxModel(12, 4, seed: 0);
        var solver = new Solver<double>(model, xt, yt, xv, yv, new SolverOptions
        {
            UpdateRule = rule, LearningRate = lr, BatchSize = 50, NumEpochs = 5, LearningRateDecay = 0.9, NumTrainSamples = 200,
        });
        Assert.Equal(SolverOutcome.Completed, solver.Train());
        Assert.Equal(10, solver.IterationsPerEpoch);
        Assert.Equal(50, solver.LossHistory.Count);
        // Checks at the first iteration and at each epoch's end (the last iteration is one).
        Assert.Equal(6, solver.ValAccHistory.Count);
        Assert.Equal(6, solver.TrainAccHistory.Count);
        Assert.True(solver.LossHistory.Skip(40).Average() < solver.LossHistory.Take(5).Average() * 0.8, $"{rule}: loss did not fall");
        Assert.True(solver.BestValAcc > 0.8, $"{rule}: best val acc {solver.BestValAcc}");
        Assert.Equal(lr * Math.Pow(0.9, 5), solver.UpdateRule.LearningRate, 12);
        // The best parameters are swapped into the model at the end.
        Assert.Equal(solver.BestValAcc, solver.CheckAccuracy(xv, yv));
    }

    [Fact]
    public void SameSeed_SameRun_Bitwise()
    {
        double[] Run()
        {
            var (xt, yt, xv, yv) = Data();
            var model = new LinearSoftmaxModel(12, 4, seed: 7);
            new Solver<double>(model, xt, yt, xv, yv, new SolverOptions { UpdateRule = "adam", BatchSize = 32, NumEpochs = 2 }).Train();
            return model.Parameters.Values.ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Cancellation_StopsAfterTheCurrentStep_AndReportsProgress()
    {
        var (xt, yt, xv, yv) = Data();
        var solver = new Solver<double>(new LinearSoftmaxModel(12, 4, 0), xt, yt, xv, yv,
            new SolverOptions { BatchSize = 50, NumEpochs = 5, PrintEvery = 1, LearningRate = 0.5 });
        using var cts = new CancellationTokenSource();
        var reports = new List<SolverProgress>();
        var progress = new InlineProgress<SolverProgress>(p => { reports.Add(p); if (p.Iteration == 7) cts.Cancel(); });
        Assert.Equal(SolverOutcome.Cancelled, solver.Train(progress, cts.Token));
        Assert.Equal(7, solver.Iteration);
        Assert.Equal(7, solver.LossHistory.Count);
        Assert.Equal(Enumerable.Range(1, 7), reports.Select(r => r.Iteration));
        Assert.All(reports, r => Assert.True(r.SamplesPerSecond > 0));
        // Training resumes where it stopped.
        Assert.Equal(SolverOutcome.Completed, solver.Train());
        Assert.Equal(50, solver.LossHistory.Count);
    }

    [Fact]
    public void BadData_AndOptions_NameTheProblem()
    {
        var (xt, yt, xv, yv) = Data();
        var model = new LinearSoftmaxModel(12, 4, 0);
        var bad = (int[])yt.Clone();
        bad[3] = 4;
        var e = Assert.Throws<ArgumentException>(() => new Solver<double>(model, xt, bad, xv, yv));
        Assert.Contains("yTrain[3] = 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Solver<double>(model, new Tensor<double>(500, 11), yt, xv, yv));
        Assert.Contains("(500, 11)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Solver<double>(model, xt, yt[..10], xv, yv));
        Assert.Contains("10 labels", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => new Solver<double>(model, xt, yt, xv, yv, new SolverOptions { BatchSize = 0 }));
        Assert.Contains("≥ 1", r.Message);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => new Solver<double>(model, xt, yt, xv, yv, new SolverOptions { UpdateRule = "nesterov" }));
        Assert.Contains("sgd_momentum", r.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Solver<double>(model, xt, yt, xv, yv, new SolverOptions { LearningRate = -1 }));
    }

    public static TheoryData<SolverOptions, string, string> BadOptions() => new()
    {
        { new SolverOptions { UpdateRule = "nesterov" }, "UpdateRule", "sgd, sgd_momentum, rmsprop, adam, adagrad" },
        { new SolverOptions { LearningRate = 0 }, "LearningRate", "> 0; got 0" },
        { new SolverOptions { LearningRate = -1e-3 }, "LearningRate", "> 0; got -0.001" },
        { new SolverOptions { LearningRate = double.NaN }, "LearningRate", "got NaN" },
        { new SolverOptions { LearningRate = double.PositiveInfinity }, "LearningRate", "finite number > 0" },
        { new SolverOptions { LearningRateDecay = 0 }, "LearningRateDecay", "(0, 1]; got 0" },
        { new SolverOptions { LearningRateDecay = 1.5 }, "LearningRateDecay", "(0, 1]; got 1.5" },
        { new SolverOptions { LearningRateDecay = double.NaN }, "LearningRateDecay", "(0, 1]; got NaN" },
        { new SolverOptions { BatchSize = 0 }, "BatchSize", "≥ 1; got 0" },
        { new SolverOptions { NumEpochs = 0 }, "NumEpochs", "≥ 1; got 0" },
        { new SolverOptions { NumTrainSamples = 0 }, "NumTrainSamples", "≥ 1 or null; got 0" },
        { new SolverOptions { NumValSamples = -5 }, "NumValSamples", "≥ 1 or null; got -5" },
        { new SolverOptions { PrintEvery = 0 }, "PrintEvery", "≥ 1; got 0" },
        { new SolverOptions { Momentum = 1 }, "Momentum", "[0, 1); got 1" },
        { new SolverOptions { Momentum = -0.1 }, "Momentum", "[0, 1); got -0.1" },
        { new SolverOptions { DecayRate = double.NaN }, "DecayRate", "[0, 1); got NaN" },
        { new SolverOptions { Beta1 = 1 }, "Beta1", "[0, 1); got 1" },
        { new SolverOptions { Beta2 = -1 }, "Beta2", "[0, 1); got -1" },
        { new SolverOptions { Epsilon = 0 }, "Epsilon", "finite number > 0; got 0" },
        { new SolverOptions { Epsilon = double.PositiveInfinity }, "Epsilon", "finite number > 0" },
        { new SolverOptions { CheckpointPath = " " }, "CheckpointPath", "must name a file" },
        { new SolverOptions { CheckpointPath = "runs/" }, "CheckpointPath", "must name a file" },
        { new SolverOptions { CheckpointPath = Path.TrimEndingDirectorySeparator(Path.GetTempPath()) }, "CheckpointPath", "not a folder" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void EveryOption_IsValidated_NamingTheValueAndTheRange(SolverOptions options, string field, string message)
    {
        var (xt, yt, xv, yv) = Data();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Solver<double>(new LinearSoftmaxModel(12, 4, 0), xt, yt, xv, yv, options));
        Assert.Equal(field, e.ParamName);
        Assert.Contains(message, e.Message);
    }
}
