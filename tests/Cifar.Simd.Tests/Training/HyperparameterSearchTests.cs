using Cifar.Simd.Models;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Training;

public class HyperparameterSearchTests
{
    private static HyperparameterSearch<double> Search()
    {
        var (x, y) = LinearSoftmaxModel.Blobs(400, 10, 3, seed: 5);
        return new HyperparameterSearch<double>(
            p => new TwoLayerNet<double>(10, p.HiddenSize, 3, std: 1e-1, seed: 0) { Reg = p.Reg },
            x.Slice(0, 300), y[..300], x.Slice(300, 100), y[300..], new SolverOptions { NumEpochs = 3 });
    }

    [Fact]
    public void GridSearch_RanksByValidationAccuracy_AndKeepsTheBestModel()
    {
        var space = new SearchSpace { LearningRates = [1e-4, 0.3], Regs = [1e-3], HiddenSizes = [4, 16], BatchSizes = [50] };
        Assert.Equal(4, space.Grid().Count());
        var reports = new List<SearchProgress>();
        var report = Search().Run(space.Grid(), new InlineProgress<SearchProgress>(reports.Add));
        Assert.False(report.Cancelled);
        Assert.Equal(4, report.Results.Count);
        Assert.Equal(4, reports.Count);
        Assert.True(report.Results.Zip(report.Results.Skip(1)).All(p => p.First.BestValAcc >= p.Second.BestValAcc));
        Assert.Equal(0.3, report.Results[0].Point.LearningRate);
        Assert.True(report.Results[0].BestValAcc > 0.8);
        var best = (TwoLayerNet<double>)report.BestModel!;
        Assert.Equal(report.Results[0].Point.HiddenSize, best.HiddenSize);
    }

    [Fact]
    public void RandomSearch_IsSeededAndStaysInItsRanges()
    {
        var space = new SearchSpace { LearningRates = [1e-4, 1e-1], Regs = [1e-5, 1e-1], HiddenSizes = [10, 20, 30], UpdateRules = ["sgd", "adam"] };
        var a = space.Random(20, seed: 3).ToList();
        Assert.Equal(a, space.Random(20, seed: 3).ToList());
        Assert.NotEqual(a, space.Random(20, seed: 4).ToList());
        Assert.All(a, p =>
        {
            Assert.InRange(p.LearningRate, 1e-4, 1e-1);
            Assert.InRange(p.Reg, 1e-5, 1e-1);
            Assert.Contains(p.HiddenSize, new[] { 10, 20, 30 });
        });
        Assert.Contains(a, p => p.UpdateRule == "adam");
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchSpace { Regs = [0, 1] }.Random(1).ToList());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchSpace { UpdateRules = ["sgdd"] }.Grid().ToList());
    }

    [Fact]
    public void Cancellation_ReturnsTheTrialsFinished()
    {
        using var cts = new CancellationTokenSource();
        var space = new SearchSpace { LearningRates = [1e-2, 1e-1, 0.3], BatchSizes = [50] };
        var report = Search().Run(space.Grid(), new InlineProgress<SearchProgress>(p => { if (p.Trial == 1) cts.Cancel(); }), cts.Token);
        Assert.True(report.Cancelled);
        Assert.Single(report.Results);
    }
}
