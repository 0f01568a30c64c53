using Cifar.Simd.IO;
using Cifar.Simd.Models;
using Cifar.Simd.Optim;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Training;

/// <summary>Checkpoints and resume: an interrupted-and-resumed run ends bitwise identical to an uninterrupted one.</summary>
public sealed class SolverCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cifar-simd-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly (Tensor<float> XTrain, int[] YTrain, Tensor<float> XVal, int[] YVal) Data = MakeData();

    private static (Tensor<float>, int[], Tensor<float>, int[]) MakeData()
    {
        var (x, y) = LinearSoftmaxModel.Blobs(600, 12, 4, seed: 5);
        var xf = Tensor<float>.FromArray(Array.ConvertAll(x.ToArray(), v => (float)v), 600, 12);
        return (xf.Slice(0, 500), y[..500], xf.Slice(500, 100), y[500..]);
    }

    public sealed record Config(string Rule, Normalization Norm, double Keep)
    {
        public FullyConnectedNet<float> Model(uint seed) =>
            new([20, 16], inputDim: 12, numClasses: 4, dropoutKeepRatio: Keep, normalization: Norm, reg: 1e-3, weightScale: 5e-2, seed: seed);

        // 20 iterations per epoch; both accuracy checks subsample, so they draw from the generator too.
        public SolverOptions Options(string? checkpoint = null, int epochs = 4) => new()
        {
            UpdateRule = Rule, LearningRate = Rule == "adam" ? 5e-3 : 5e-2, LearningRateDecay = 0.9, BatchSize = 25, NumEpochs = epochs,
            NumTrainSamples = 200, NumValSamples = 50, PrintEvery = 1, CheckpointPath = checkpoint,
        };
    }

    public static TheoryData<Config> Configs() =>
    [
        new Config("sgd_momentum", Normalization.None, 1.0),
        new Config("adam", Normalization.None, 1.0),
        new Config("adam", Normalization.Batchnorm, 0.8),
        new Config("rmsprop", Normalization.Layernorm, 0.9),
    ];

    private static Solver<float> NewSolver(FullyConnectedNet<float> model, SolverOptions options) =>
        new(model, Data.XTrain, Data.YTrain, Data.XVal, Data.YVal, options);

    private static Solver<float> Resume(string path, FullyConnectedNet<float> model, SolverOptions? options = null) =>
        Solver<float>.Resume(path, model, Data.XTrain, Data.YTrain, Data.XVal, Data.YVal, options);

    /// <summary>Everything a run ends with, compared bit for bit.</summary>
    private static object[] Final(Solver<float> solver)
    {
        var model = (FullyConnectedNet<float>)solver.Model;
        var rule = solver.UpdateRule;
        return
        [
            model.Parameters.Values.ToArray(), solver.LossHistory.ToArray(), solver.TrainAccHistory.ToArray(), solver.ValAccHistory.ToArray(),
            solver.BestValAcc, solver.Iteration, solver.Epoch, BitConverter.DoubleToInt64Bits(rule.LearningRate),
            rule.StateNames.Select(s => rule.GetState(s).ToArray()).ToArray(), (rule as Adam<float>)?.TimeStep ?? -1,
            model.Buffers.Select(b => b.Value.ToArray()).ToArray(), model.Random.GetState(),
        ];
    }

    private static void AssertSameRun(object[] expected, object[] actual)
    {
        string[] names = ["parameters", "loss history", "train acc history", "val acc history", "best val acc", "iteration", "epoch",
            "learning rate", "update-rule state", "adam t", "batchnorm running statistics", "generator state"];
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Equivalent(expected[i], actual[i]), $"{names[i]} differ");

        static bool Equivalent(object a, object b) => (a, b) switch
        {
            (float[] x, float[] y) => x.AsSpan().SequenceEqual(y), // bitwise for finite values; NaN would fail loudly
            (double[] x, double[] y) => x.AsSpan().SequenceEqual(y),
            (float[][] x, float[][] y) => x.Length == y.Length && x.Zip(y).All(p => p.First.AsSpan().SequenceEqual(p.Second)),
            _ => Equals(a, b),
        };
    }

    private object[] Uninterrupted(Config c)
    {
        var solver = NewSolver(c.Model(seed: 3), c.Options());
        Assert.Equal(SolverOutcome.Completed, solver.Train());
        return Final(solver);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void CancelledMidEpoch_ThenResumedInANewSolverAndModel_EndsBitwiseIdentical(Config c)
    {
        var expected = Uninterrupted(c);
        string path = Path.Combine(_dir, "run", "checkpoint.safetensors");
        var first = NewSolver(c.Model(seed: 3), c.Options(path));
        using var cts = new CancellationTokenSource();
        var progress = new InlineProgress<SolverProgress>(p => { if (p.Iteration == 37) cts.Cancel(); });
        Assert.Equal(SolverOutcome.Cancelled, first.Train(progress, cts.Token));
        Assert.Equal(37, first.Iteration);

        var info = SolverCheckpoint.ReadInfo(path);
        Assert.Equal((1, 37, 20, "float"), (info.Epoch, info.Iteration, info.IterationsPerEpoch, info.ElementType));
        Assert.Equal(c.Rule, info.Options.UpdateRule);

        // Another seed: everything that matters must come from the checkpoint.
        var resumed = Resume(path, c.Model(seed: 99));
        Assert.Equal(37, resumed.Iteration);
        Assert.Equal(SolverOutcome.Completed, resumed.Train());
        AssertSameRun(expected, Final(resumed));

        // The cancelled solver itself also goes on from its last step, not from the best parameters it swapped in.
        Assert.Equal(SolverOutcome.Completed, first.Train());
        AssertSameRun(expected, Final(first));
    }

    [Fact]
    public void EndOfEpochCheckpoints_AreWrittenEachEpoch_AndAResumeWithMoreEpochsMatchesTheLongerRun()
    {
        var c = new Config("adam", Normalization.Batchnorm, 0.8);
        var expected = Uninterrupted(c);
        string path = Path.Combine(_dir, "short.safetensors");
        var seen = new List<(int Epoch, int Iteration)>();
        var progress = new InlineProgress<SolverProgress>(p =>
        {
            if (p.Iteration % 20 == 0) { var i = SolverCheckpoint.ReadInfo(path); seen.Add((i.Epoch, i.Iteration)); }
        });
        var shortRun = NewSolver(c.Model(seed: 3), c.Options(path, epochs: 2));
        Assert.Equal(SolverOutcome.Completed, shortRun.Train(progress));
        Assert.Equal([(1, 20), (2, 40)], seen);

        var resumed = Resume(path, c.Model(seed: 4), c.Options(path, epochs: 4));
        Assert.Equal(SolverOutcome.Completed, resumed.Train());
        AssertSameRun(expected, Final(resumed));
        Assert.Equal((4, 80), (SolverCheckpoint.ReadInfo(path).Epoch, SolverCheckpoint.ReadInfo(path).Iteration));
    }

    [Fact]
    public void CancelledAtAnEpochEnd_WritesOnce_AndResumes()
    {
        var c = new Config("sgd_momentum", Normalization.Batchnorm, 1.0);
        var expected = Uninterrupted(c);
        string path = Path.Combine(_dir, "edge.safetensors");
        using var cts = new CancellationTokenSource();
        DateTime written = default;
        var solver = NewSolver(c.Model(seed: 3), c.Options(path));
        var outcome = solver.Train(new InlineProgress<SolverProgress>(p =>
        {
            if (p.Iteration == 40) { written = File.GetLastWriteTimeUtc(path); cts.Cancel(); }
        }), cts.Token);
        Assert.Equal(SolverOutcome.Cancelled, outcome);
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        var resumed = Resume(path, c.Model(seed: 3));
        resumed.Train();
        AssertSameRun(expected, Final(resumed));
    }

    [Fact]
    public void Checkpoint_IsAModelFile_WithTheCurrentParameters_AndNamedSolverState()
    {
        var c = new Config("adam", Normalization.Batchnorm, 1.0);
        string path = Path.Combine(_dir, "layout.safetensors");
        var solver = NewSolver(c.Model(seed: 3), c.Options(path, epochs: 1));
        solver.CheckpointMetadata["note"] = "kept";
        solver.Train();
        var file = SafeTensors.Load(path);
        foreach (var name in new[] { "W1", "b1", "gamma1", "beta1", "W3", "running_mean1", "running_var2", "best.W1", "optim.m.W1", "optim.v.b3" })
            Assert.True(file.Contains(name), name);
        Assert.Equal(new Shape(624), file["random.key"].Shape);
        Assert.Equal(20, file.GetDouble("history.loss").Length);
        Assert.Equal("20", file.Metadata["optim.t"]);
        Assert.Equal("kept", file.Metadata["app.note"]);
        Assert.Equal("kept", SolverCheckpoint.ReadInfo(path).AppMetadata["note"]);
        // The model part loads as a model: the last step's parameters (the best ones are best.*).
        var model = (FullyConnectedNet<float>)ModelFile.Load<float>(path);
        Assert.Equal(file.GetFloat("W2").ToArray(), model.Parameters["W2"].ToArray());
    }

    [Fact]
    public void Resume_RefusesAnotherModel_OtherData_OtherOptions_OrElementType_NamingTheFileAndTheDifference()
    {
        var c = new Config("adam", Normalization.Batchnorm, 1.0);
        string path = Path.Combine(_dir, "ref.safetensors");
        NewSolver(c.Model(seed: 3), c.Options(path, epochs: 2)).Train();

        var other = new FullyConnectedNet<float>([20, 17], inputDim: 12, numClasses: 4, normalization: Normalization.Batchnorm, reg: 1e-3);
        var before = other.Parameters.Values.ToArray();
        var e = Assert.Throws<ArgumentException>(() => Resume(path, other));
        Assert.Contains(path, e.Message);
        Assert.Contains("hidden_dims = 20,16", e.Message);
        Assert.Equal(before, other.Parameters.Values.ToArray()); // refused before anything was overwritten

        e = Assert.Throws<ArgumentException>(() => Resume(path, (c with { Norm = Normalization.Layernorm }).Model(3)));
        Assert.Contains("normalization = batchnorm", e.Message);

        e = Assert.Throws<ArgumentException>(() => Resume(path, c.Model(3), c.Options() with { UpdateRule = "sgd" }));
        Assert.Contains("UpdateRule = adam", e.Message);
        e = Assert.Throws<ArgumentException>(() => Resume(path, c.Model(3), c.Options(path, epochs: 1)));
        Assert.Contains("at least 2 epochs", e.Message);

        var shuffled = (int[])Data.YTrain.Clone();
        shuffled[0] = (shuffled[0] + 1) % 4;
        e = Assert.Throws<ArgumentException>(() => Solver<float>.Resume(path, c.Model(3), Data.XTrain, shuffled, Data.XVal, Data.YVal));
        Assert.Contains("labels differ", e.Message);

        var xd = Tensor<double>.FromArray(Array.ConvertAll(Data.XTrain.ToArray(), v => (double)v), 500, 12);
        var xvd = Tensor<double>.FromArray(Array.ConvertAll(Data.XVal.ToArray(), v => (double)v), 100, 12);
        var netD = new FullyConnectedNet<double>([20, 16], inputDim: 12, numClasses: 4, normalization: Normalization.Batchnorm, reg: 1e-3);
        e = Assert.Throws<ArgumentException>(() => Solver<double>.Resume(path, netD, xd, Data.YTrain, xvd, Data.YVal));
        Assert.Contains("holds float values but the model is double", e.Message);
    }

    [Fact]
    public void Resume_RefusesAModelFile_AndACheckpointWithATensorMissing()
    {
        var c = new Config("adam", Normalization.None, 1.0);
        string modelPath = Path.Combine(_dir, "model.safetensors");
        ModelFile.Save(modelPath, c.Model(3));
        var f = Assert.Throws<SafeTensorsFormatException>(() => Resume(modelPath, c.Model(3)));
        Assert.Contains("not a solver checkpoint", f.Message);

        string path = Path.Combine(_dir, "full.safetensors");
        NewSolver(c.Model(seed: 3), c.Options(path, epochs: 1)).Train();
        var full = SafeTensors.Load(path);
        var cut = new SafeTensorsFile();
        foreach (var (k, v) in full.Metadata) cut.Metadata[k] = v;
        foreach (var t in full.Tensors.Where(t => t.Name != "optim.v.W2"))
            if (t is SafeTensor<float> sf) cut.Add(t.Name, sf.Tensor); else cut.Add(t.Name, ((SafeTensor<double>)t).Tensor);
        string cutPath = Path.Combine(_dir, "cut.safetensors");
        cut.Save(cutPath);
        f = Assert.Throws<SafeTensorsFormatException>(() => Resume(cutPath, c.Model(3)));
        Assert.Contains(cutPath, f.Message);
        Assert.Contains("optim.v.W2", f.Message);
    }

    [Fact]
    public void UpdateRules_NameTheirState()
    {
        Assert.Empty(new Sgd<float>().StateNames);
        Assert.Equal(["velocity"], new SgdMomentum<float>().StateNames);
        Assert.Equal(["cache"], new RmsProp<float>().StateNames);
        Assert.Equal(["cache"], new AdaGrad<float>().StateNames);
        var adam = new Adam<float>();
        Assert.Equal(["m", "v"], adam.StateNames);
        adam.InitializeState(5);
        adam.GetState("v")[2] = 7;
        adam.Update(new float[5], new float[5]);
        Assert.Equal(7 * 0.999f, adam.V[2], 6);
        var e = Assert.Throws<KeyNotFoundException>(() => adam.GetState("velocity"));
        Assert.Contains("m, v", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.TimeStep = -1);
    }
}
