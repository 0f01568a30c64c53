using System.Runtime.InteropServices;
using Cifar.Simd.Models;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Reliability;

/// <summary>
/// Two models training at once in one process end bitwise where the same two trainings run one after the other
/// end. Shapes are large enough that their GEMMs want the shared worker pool, so the two threads contend for it.
/// </summary>
public class ConcurrentTrainingTests
{
    private const int D = 300, C = 10;

    // What a training run leaves behind, compared bit for bit.
    private sealed record Outcome(byte[] Parameters, byte[] RunningStats, double[] Losses, double[] TrainAcc, double[] ValAcc);

    [Fact]
    public void SolverWithFullyConnectedNet_AndTwoLayerNetTrain_DoNotInterfere() =>
        AssertIndependent(SolverFullyConnected, TwoLayerTrain);

    [Fact]
    public void TwoSolvers_OnSameSeed_DoNotInterfere() =>
        AssertIndependent(SolverFullyConnected, SolverFullyConnected);

    private static void AssertIndependent(Func<Outcome> first, Func<Outcome> second)
    {
        var serial = (A: first(), B: second());
        Outcome? a = null, b = null;
        Exception? error = null;
        using var start = new Barrier(2);
        Thread Run(Func<Outcome> training, Action<Outcome> done) => new(() =>
        {
            try
            {
                start.SignalAndWait();
                done(training());
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        var threads = new[] { Run(first, o => a = o), Run(second, o => b = o) };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Null(error);
        AssertSame(serial.A, a!);
        AssertSame(serial.B, b!);
    }

    private static void AssertSame(Outcome expected, Outcome actual)
    {
        Assert.Equal(expected.Parameters, actual.Parameters);
        Assert.Equal(expected.RunningStats, actual.RunningStats);
        Assert.Equal(expected.Losses, actual.Losses);
        Assert.Equal(expected.TrainAcc, actual.TrainAcc);
        Assert.Equal(expected.ValAcc, actual.ValAcc);
    }

    // FC net with batchnorm and dropout, Adam, float, through the Solver (minibatch draws, checks, best-parameter swap).
    private static Outcome SolverFullyConnected()
    {
        var (xt, yt, xv, yv) = SyntheticData.Split<float>(600, 150, D, C, seed: 21);
        var net = new FullyConnectedNet<float>([64, 32], D, C, dropoutKeepRatio: 0.8, normalization: Normalization.Batchnorm,
            reg: 1e-3, weightScale: 5e-2, seed: 5);
        var solver = new Solver<float>(net, xt, yt, xv, yv, new SolverOptions
        {
            UpdateRule = "adam", LearningRate = 1e-3, BatchSize = 100, NumEpochs = 4, LearningRateDecay = 0.9, NumTrainSamples = 300,
        });
        Assert.Equal(SolverOutcome.Completed, solver.Train());
        var stats = net.BnParams.SelectMany(p => p.RunningMean!.ToArray().Concat(p.RunningVar!.ToArray())).ToArray();
        return new Outcome(Bytes(net.Parameters.Values.ToArray()), Bytes(stats), [.. solver.LossHistory], [.. solver.TrainAccHistory], [.. solver.ValAccHistory]);
    }

    // TwoLayerNet's own SGD loop, double.
    private static Outcome TwoLayerTrain()
    {
        var (xt, yt, xv, yv) = SyntheticData.Split<double>(600, 150, D, C, seed: 22);
        var net = new TwoLayerNet<double>(D, 80, C, std: 1e-2, seed: 6);
        var stats = net.Train(xt, yt, xv, yv, learningRate: 1e-1, learningRateDecay: 0.95, reg: 1e-3, numIters: 24, batchSize: 100);
        return new Outcome(Bytes(net.Parameters.Values.ToArray()), [], [.. stats.LossHistory], [.. stats.TrainAccHistory], [.. stats.ValAccHistory]);
    }

    private static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
