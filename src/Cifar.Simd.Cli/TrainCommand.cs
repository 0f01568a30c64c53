using System.CommandLine;
using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cifar.Simd.Kernels;
using Cifar.Simd.Data;
using Cifar.Simd.Models;
using Cifar.Simd.Tensors;
using Cifar.Simd.Training;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary>
/// <c>cifar-simd train</c>: CS231n assignment 1's two-layer net with the notebook's defaults, or
/// assignment 2's <c>FullyConnectedNet</c> trained by the Solver (<c>--model fc</c>), which checkpoints
/// into the run folder at every epoch's end and on Ctrl+C, and continues with <c>--resume DIR</c>.
/// Exit codes: 0 done, 1 command line refused by the parser, 2 bad input, 3 diverged, 130 interrupted by Ctrl+C (143 by SIGTERM).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "two-layer (assignment 1) or fc (assignment 2's FullyConnectedNet with the Solver).", DefaultValueFactory = _ => "two-layer" };
        model.AcceptOnlyFromAmong("two-layer", "fc");
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the two-layer net.", DefaultValueFactory = _ => 50 }.AtLeast(1);
        var hiddenDims = new Option<int[]>("--hidden-dims") { Description = "fc: widths of the hidden layers, e.g. --hidden-dims 100 100.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [100, 100] }
            .Require(dims => dims.All(d => d >= 1), "a list of widths ≥ 1");
        var norm = new Option<string>("--normalization") { Description = "fc: none, batchnorm or layernorm.", DefaultValueFactory = _ => "none" };
        norm.AcceptOnlyFromAmong("none", "batchnorm", "layernorm");
        var dropout = new Option<double>("--dropout-keep") { Description = "fc: probability of keeping a unit (1 = no dropout).", DefaultValueFactory = _ => 1.0 }.UnitInterval();
        var rule = new Option<string>("--update-rule") { Description = "fc: sgd, sgd_momentum, rmsprop, adam or adagrad.", DefaultValueFactory = _ => "sgd" };
        rule.AcceptOnlyFromAmong("sgd", "sgd_momentum", "rmsprop", "adam", "adagrad");
        var epochs = new Option<int>("--epochs") { Description = "fc: training epochs.", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var weightScale = new Option<double>("--weight-scale") { Description = "fc: weights are drawn as weight_scale·randn.", DefaultValueFactory = _ => 1e-2 }.NonNegative();
        // Defaults follow the notebook of the chosen model: assignment 1's for two-layer, the Solver's and
        // FullyConnectedNet's for fc (a reg of 0.25 would swamp a large fc net's loss at the start).
        var lr = new Option<double?>("--learning-rate", "--lr") { Description = "Learning rate [two-layer: 1e-4; fc: the update rule's CS231n default]." }.Positive();
        var decay = new Option<double?>("--lr-decay") { Description = "Learning-rate decay per epoch [two-layer: 0.95; fc: 1]." }.UnitInterval();
        var reg = new Option<double?>("--reg") { Description = "L2 strength: two-layer reg·ΣW² [0.25]; fc 0.5·reg·ΣW² [0]." }.NonNegative();
        var batch = new Option<int?>("--batch-size") { Description = "Minibatch size [two-layer: 200; fc: 100]." }.AtLeast(1);
        var iters = new Option<int>("--iterations") { Description = "two-layer: training iterations.", DefaultValueFactory = _ => 1000 }.AtLeast(1);
        var std = new Option<double>("--std") { Description = "two-layer: weights are drawn as std·randn.", DefaultValueFactory = _ => 1e-4 }.NonNegative();
        var dtype = new Option<string>("--dtype") { Description = "Element type: float (fast) or double (reproduces numpy's float64 run).", DefaultValueFactory = _ => "float" };
        dtype.AcceptOnlyFromAmong("float", "double");
        var seed = new Option<uint>("--seed") { Description = "Seed of the numpy-compatible generator.", DefaultValueFactory = _ => 0u };
        var threads = new Option<int?>("--threads") { Description = "GEMM threads (default: all cores)." }.AtLeast(1);
        var numTrain = CliData.NumTrain();
        var numVal = CliData.NumVal();
        var numTest = CliData.NumTest();
        var data = new Option<string?>("--data") { Description = $"CIFAR-10 archive or folder (or set {Cifar10CacheVariable}); downloaded when absent." };
        var outDir = new Option<string>("--out") { Description = "Folder for metrics.json, the plots, model.safetensors and (fc) checkpoint.safetensors.", DefaultValueFactory = _ => "cifar-simd-run" };
        var resume = new Option<string?>("--resume") { Description = "Continue the fc run in this folder from its checkpoint.safetensors, with the options it was started with; only --epochs, --threads and --data may be given too." };

        var command = new Command("train", "Train CS231n's two-layer net on CIFAR-10 (defaults: the assignment-1 notebook).")
        {
            model, hidden, hiddenDims, norm, dropout, rule, epochs, weightScale, lr, decay, reg, batch, iters, std, dtype, seed, threads, data, numTrain, numVal, numTest, outDir, resume,
        };
        Option[] fixedOnResume = [model, hidden, hiddenDims, norm, dropout, rule, weightScale, lr, decay, reg, batch, iters, std, dtype, seed, numTrain, numVal, numTest, outDir];
        command.SetAction((ParseResult r, CancellationToken ct) => Task.FromResult(CliErrors.Run(() =>
        {
            TrainSettings settings;
            if (r.GetValue(resume) is { } dir)
            {
                var given = fixedOnResume.FirstOrDefault(o => r.GetResult(o) is { Implicit: false });
                if (given is not null)
                    throw new ArgumentException($"--resume continues the run with the options it was started with, so {given.Name} cannot be given with it; only --epochs, --threads and --data can.");
                settings = Saved(dir);
                settings = settings with
                {
                    Out = dir,
                    Epochs = r.GetResult(epochs) is { Implicit: false } ? r.GetValue(epochs) : settings.Epochs,
                    Threads = r.GetValue(threads) ?? settings.Threads,
                    Data = r.GetValue(data) ?? settings.Data,
                };
                return settings.DType == "double" ? Run<double>(settings, resumed: true, ct) : Run<float>(settings, resumed: true, ct);
            }
            bool fc = r.GetValue(model) == "fc";
            settings = new TrainSettings(r.GetValue(model)!, r.GetValue(hidden), r.GetValue(hiddenDims)!, r.GetValue(norm)!, r.GetValue(dropout),
                r.GetValue(rule)!, r.GetValue(epochs), r.GetValue(weightScale), r.GetValue(lr) ?? (fc ? null : 1e-4), r.GetValue(decay) ?? (fc ? 1.0 : 0.95),
                r.GetValue(reg) ?? (fc ? 0.0 : 0.25), r.GetValue(batch) ?? (fc ? 100 : 200),
                r.GetValue(iters), r.GetValue(std), r.GetValue(dtype)!, r.GetValue(seed), r.GetValue(threads), r.GetValue(data),
                new CliData.Sizes(r.GetValue(numTrain), r.GetValue(numVal), r.GetValue(numTest)), r.GetValue(outDir)!);
            return settings.DType == "double" ? Run<double>(settings, resumed: false, ct) : Run<float>(settings, resumed: false, ct);
        })));
        return command;
    }

    private const string Cifar10CacheVariable = Cifar.Simd.Data.Cifar10Cache.EnvironmentVariable;

    /// <summary>The checkpoint's file name inside a run folder.</summary>
    public const string CheckpointFile = "checkpoint.safetensors";

    /// <summary>The key of the run's settings (JSON) in the checkpoint's application metadata.</summary>
    private const string SettingsKey = "cli.train";

    // The settings a run was started with, from the checkpoint in its folder.
    private static TrainSettings Saved(string dir)
    {
        if (!Directory.Exists(dir))
            throw new ArgumentException($"--resume {dir}: there is no such folder.");
        string checkpoint = Path.Combine(dir, CheckpointFile);
        if (!File.Exists(checkpoint))
            throw new ArgumentException($"--resume {dir}: the folder has no {CheckpointFile}. Only --model fc runs write checkpoints; "
                + "the two-layer net trains with assignment 1's TwoLayerNet.Train, which keeps none, so a two-layer run cannot be resumed.");
        var info = SolverCheckpoint.ReadInfo(checkpoint);
        if (!info.AppMetadata.TryGetValue(SettingsKey, out var json))
            throw new ArgumentException($"{checkpoint} holds no '{SettingsKey}' settings, so it was not written by cifar-simd train; resume it with Solver<T>.Resume in code.");
        try
        {
            return JsonSerializer.Deserialize(json, TrainSettingsJson.Default.TrainSettings)
                ?? throw new ArgumentException($"{checkpoint}: the '{SettingsKey}' settings are empty.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{checkpoint}: the '{SettingsKey}' settings are not valid: {e.Message}");
        }
    }

    private static int Run<T>(TrainSettings s, bool resumed, CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s.Threads is { } t) Parallelism.ThreadCount = t;
        // The JIT compiles the training kernels on first use: do that on the spare core while the data loads.
        var warmup = s.Model == "fc" ? Task.CompletedTask : Task.Run(() => WarmUpTwoLayer<T>(s, ct), ct);
        var split = CliData.Load<T>(s.Data, ct, s.Sizes);
        try
        {
            warmup.Wait(ct);
        }
        catch (AggregateException)
        {
            // Best effort only: the real run reports any problem itself.
        }
        // The loader's and the warm-up's garbage goes before the clock starts, so the run's buffers reuse memory the
        // process has already written instead of fresh pages (about 11 µs each on a VM: 12 ms of a 0.7 s default run).
        GC.Collect();
        Directory.CreateDirectory(s.Out);
        string shape = s.Model == "fc" ? $"fc net 3072-{string.Join("-", s.HiddenDims)}-10, {s.Normalization}, keep {s.DropoutKeep}, {s.UpdateRule}" : $"two-layer net 3072-{s.Hidden}-10";
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(shape)}[/], {typeof(T).Name.ToLowerInvariant()}, GEMM path {Gemm.Path}, {Parallelism.ThreadCount} thread(s)");
        AnsiConsole.MarkupLine($"train {split.XTrain.Shape}, val {split.XVal.Shape}, test {split.XTest.Shape}");

        // Started and stopped around the Train call itself, the span numpy's net.train is timed over.
        var clock = new Stopwatch();
        var (net, history, outcome, iterationsRun) = s.Model == "fc" ? TrainFc(s, split, clock, resumed, ct) : TrainTwoLayer(s, split, clock, ct);
        if (outcome != SolverOutcome.Completed) return Stopped(s, outcome, history);
        double seconds = clock.Elapsed.TotalSeconds;
        double valAcc = Accuracy(Predict(net, split.XVal), split.YVal);
        double testAcc = Accuracy(Predict(net, split.XTest), split.YTest);
        double samplesPerSecond = iterationsRun * (double)s.BatchSize / seconds;

        var table = new Table().AddColumns("metric", "value");
        table.AddRow("validation accuracy", $"{valAcc:F3}");
        table.AddRow("test accuracy", $"{testAcc:F3}");
        table.AddRow("training time", $"{seconds:F2} s");
        table.AddRow("samples/s", $"{samplesPerSecond:N0}");
        table.AddRow("final loss", $"{history.Loss[^1]:F4}");
        AnsiConsole.Write(table);

        var metrics = new JsonObject
        {
            ["model"] = s.Model,
            ["val_acc"] = valAcc,
            ["test_acc"] = testAcc,
            ["train_seconds"] = seconds,
            ["samples_per_second"] = samplesPerSecond,
            ["loss_history"] = new JsonArray(history.Loss.Select(v => (JsonNode?)v).ToArray()),
            ["train_acc_history"] = new JsonArray(history.TrainAcc.Select(v => (JsonNode?)v).ToArray()),
            ["val_acc_history"] = new JsonArray(history.ValAcc.Select(v => (JsonNode?)v).ToArray()),
            ["config"] = new JsonObject
            {
                ["model"] = s.Model, ["input_size"] = split.XTrain.RowLength, ["num_classes"] = 10,
                ["hidden_size"] = s.Model == "fc" ? null : s.Hidden,
                ["hidden_dims"] = s.Model == "fc" ? new JsonArray(s.HiddenDims.Select(v => (JsonNode?)v).ToArray()) : null,
                ["normalization"] = s.Model == "fc" ? s.Normalization : null, ["dropout_keep_ratio"] = s.Model == "fc" ? s.DropoutKeep : null,
                ["update_rule"] = s.Model == "fc" ? s.UpdateRule : "sgd", ["num_epochs"] = s.Model == "fc" ? s.Epochs : null,
                ["weight_scale"] = s.Model == "fc" ? s.WeightScale : s.Std,
                ["learning_rate"] = s.LearningRate ?? UpdateRuleFactory.Create<float>(new SolverOptions { UpdateRule = s.UpdateRule }).LearningRate,
                ["learning_rate_decay"] = s.LearningRateDecay, ["reg"] = s.Reg,
                ["batch_size"] = s.BatchSize, ["num_iters"] = history.Loss.Count, ["dtype"] = s.DType,
                ["seed"] = s.Seed, ["threads"] = Parallelism.ThreadCount, ["simd_path"] = Gemm.Path.ToString(),
            },
        };
        File.WriteAllText(Path.Combine(s.Out, "metrics.json"), metrics.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Plots.Loss(Path.Combine(s.Out, "loss.png"), history.Loss, "Loss history");
        Plots.Accuracy(Path.Combine(s.Out, "accuracy.png"), history.TrainAcc, history.ValAcc, "Classification accuracy history");
        var w1 = net.Parameters["W1"];
        Plots.Weights(Path.Combine(s.Out, "weights.png"), w1.ToArray().Select(v => double.CreateChecked(v)).ToArray(), w1.RowLength);
        ModelFile.Save(Path.Combine(s.Out, "model.safetensors"), net);
        AnsiConsole.MarkupLine($"wrote metrics.json, loss.png, accuracy.png, weights.png, model.safetensors{(s.Model == "fc" ? ", " + CheckpointFile : "")} to [bold]{Markup.Escape(Path.GetFullPath(s.Out))}[/]");
        return ExitCodes.Ok;
    }

    // An fc run that Ctrl+C or a diverging loss stopped: say what happened, where the checkpoint is, and what to do.
    private static int Stopped(TrainSettings s, SolverOutcome outcome, History history)
    {
        string checkpoint = Path.GetFullPath(Path.Combine(s.Out, CheckpointFile));
        if (outcome == SolverOutcome.Cancelled)
        {
            var info = SolverCheckpoint.ReadInfo(checkpoint);
            AnsiConsole.MarkupLine($"[yellow]interrupted[/] at iteration {info.Iteration} (epoch {info.Epoch} of {s.Epochs}); checkpoint written to {Markup.Escape(checkpoint)}");
            AnsiConsole.MarkupLine("resume with:");
            // Unwrapped, so the command copies from the terminal as one line.
            Console.Out.WriteLine($"  {ResumeCommand(s.Out)}");
            return Interruption.ExitCode;
        }
        AnsiConsole.MarkupLine($"[red]diverged:[/] {Markup.Escape(history.Divergence?.Message ?? "the loss became NaN or infinite.")}");
        if (File.Exists(checkpoint))
        {
            var info = SolverCheckpoint.ReadInfo(checkpoint);
            AnsiConsole.MarkupLine($"the checkpoint of epoch {info.Epoch} (iteration {info.Iteration}) in {Markup.Escape(checkpoint)} is untouched; no metrics or model were written.");
        }
        return ExitCodes.Diverged;
    }

    /// <summary>The command line that continues the run in <paramref name="runFolder"/>, as this process was started.</summary>
    private static string ResumeCommand(string runFolder)
    {
        static string Quote(string arg) => arg.Length > 0 && arg.All(ch => char.IsLetterOrDigit(ch) || "/._-+=:,@".Contains(ch)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
        string? process = Environment.ProcessPath;
        string entry = Environment.GetCommandLineArgs()[0];
        // Under 'dotnet cifar-simd.dll' the process is the dotnet host and argument 0 the assembly.
        string launcher = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"dotnet {Quote(Path.GetFullPath(entry))}"
            : Quote(process ?? "cifar-simd");
        return $"{launcher} train --resume {Quote(Path.GetFullPath(runFolder))}";
    }

    private sealed record History(List<double> Loss, List<double> TrainAcc, List<double> ValAcc, TrainingDivergence? Divergence = null);

    // A few steps of the same net on a few random rows run every kernel the timed training will use.
    private static void WarmUpTwoLayer<T>(TrainSettings s, CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int features = 3072, valRows = 300;
        int rows = Math.Max(2 * s.BatchSize, 2);
        var random = new System.Random(1);
        Tensor<T> Noise(int n)
        {
            var x = Tensor<T>.Uninitialized(n, features);
            foreach (ref T v in x.AsSpan()) v = T.CreateChecked(random.NextDouble() - 0.5);
            return x;
        }
        int[] Labels(int n) => Enumerable.Range(0, n).Select(i => i % 10).ToArray();
        var net = new TwoLayerNet<T>(features, s.Hidden, 10, s.Std, s.Seed);
        net.Train(Noise(rows), Labels(rows), Noise(valRows), Labels(valRows), s.LearningRate!.Value, s.LearningRateDecay, s.Reg,
            numIters: 3, batchSize: s.BatchSize, cancellationToken: ct);
    }

    // The clock runs over the Train call alone, the span numpy's net.train is timed over.
    private static TResult Timed<TResult>(Stopwatch clock, Func<TResult> train)
    {
        clock.Start();
        try
        {
            return train();
        }
        finally
        {
            clock.Stop();
        }
    }

    private static (IClassifier<T>, History, SolverOutcome, int) TrainTwoLayer<T>(TrainSettings s, Cifar10Split<T> split, Stopwatch clock, CancellationToken ct)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        AnsiConsole.MarkupLine("[grey]two-layer runs keep no checkpoint: Ctrl+C stops without one (--model fc can be resumed)[/]");
        var net = new TwoLayerNet<T>(split.XTrain.RowLength, s.Hidden, 10, s.Std, s.Seed);
        TwoLayerTrainStats stats = null!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: s.Iterations);
                var progress = new InlineProgress<TwoLayerProgress>(p =>
                {
                    task.Value = p.Iteration;
                    if (p.Iteration % 10 == 0 || p.Iteration == p.NumIterations)
                        task.Description = $"iter {p.Iteration}/{p.NumIterations} loss {p.Loss:F4} lr {p.LearningRate:0.##e+0} {p.Iteration * (double)s.BatchSize / clock.Elapsed.TotalSeconds / 1000:F0}k samples/s";
                });
                stats = Timed(clock, () => net.Train(split.XTrain, split.YTrain, split.XVal, split.YVal, s.LearningRate!.Value,
                    s.LearningRateDecay, s.Reg, s.Iterations, s.BatchSize, progress, ct));
            });
        return (net, new History(stats.LossHistory, stats.TrainAccHistory, stats.ValAccHistory), SolverOutcome.Completed, stats.LossHistory.Count);
    }

    private static (IClassifier<T>, History, SolverOutcome, int) TrainFc<T>(TrainSettings s, Cifar10Split<T> split, Stopwatch clock, bool resumed,
        CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var norm = Enum.Parse<Normalization>(s.Normalization, ignoreCase: true);
        var net = new FullyConnectedNet<T>(s.HiddenDims, split.XTrain.RowLength, 10, s.DropoutKeep, norm, s.Reg, s.WeightScale, s.Seed);
        string checkpoint = Path.Combine(s.Out, CheckpointFile);
        // A second Ctrl+C during a checkpoint write leaves its temporary file behind; the finished file is whole.
        foreach (var stale in Directory.EnumerateFiles(s.Out, $".{CheckpointFile}.tmp-*")) File.Delete(stale);
        var options = new SolverOptions
        {
            UpdateRule = s.UpdateRule, LearningRate = s.LearningRate, LearningRateDecay = s.LearningRateDecay, BatchSize = s.BatchSize,
            NumEpochs = s.Epochs, PrintEvery = 10, CheckpointPath = checkpoint,
        };
        var solver = resumed
            ? Solver<T>.Resume(checkpoint, net, split.XTrain, split.YTrain, split.XVal, split.YVal, options)
            : new Solver<T>(net, split.XTrain, split.YTrain, split.XVal, split.YVal, options);
        solver.CheckpointMetadata[SettingsKey] = JsonSerializer.Serialize(s, TrainSettingsJson.Default.TrainSettings);
        int startIteration = solver.Iteration;
        if (resumed)
            AnsiConsole.MarkupLine($"resuming at iteration {solver.Iteration} of {solver.NumIterations} (epoch {solver.Epoch} of {s.Epochs}), learning rate {solver.UpdateRule.LearningRate:0.###e+0}");
        AnsiConsole.MarkupLine("[grey]Ctrl+C stops after the current step and writes a checkpoint; a second Ctrl+C quits at once[/]");
        var outcome = SolverOutcome.Completed;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: solver.NumIterations);
                task.Value = solver.Iteration;
                int lastEpoch = solver.Epoch;
                var progress = new InlineProgress<SolverProgress>(p =>
                {
                    task.Value = p.Iteration;
                    task.Description = $"epoch {p.Epoch}/{p.NumEpochs} loss {p.Loss:F4} train {p.TrainAccuracy:F3} val {p.ValAccuracy:F3} {p.SamplesPerSecond / 1000:F0}k samples/s";
                    if (p.Epoch == lastEpoch) return;
                    lastEpoch = p.Epoch;
                    AnsiConsole.MarkupLine($"epoch {p.Epoch}/{p.NumEpochs}: loss {p.Loss:F4}, train acc {p.TrainAccuracy:F3}, val acc {p.ValAccuracy:F3}, lr {p.LearningRate:0.###e+0}, checkpoint saved");
                });
                outcome = Timed(clock, () => solver.Train(progress, ct));
            });
        var history = new History(solver.LossHistory, solver.TrainAccHistory, solver.ValAccHistory, solver.Divergence);
        return (net, history, outcome, solver.Iteration - startIteration);
    }

    private static int[] Predict<T>(IClassifier<T> model, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scores = Tensor<T>.Uninitialized(x.Rows, model.NumClasses);
        model.Scores(x, scores);
        var predictions = new int[x.Rows];
        ArgMax.Rows<T>(scores.AsReadOnlySpan(), x.Rows, model.NumClasses, predictions);
        return predictions;
    }

    private static double Accuracy(int[] predicted, int[] actual) => predicted.Zip(actual).Count(p => p.First == p.Second) / (double)actual.Length;
}

/// <summary>The options of one <c>cifar-simd train</c> run, kept in its checkpoint so <c>--resume</c> needs none.</summary>
internal sealed record TrainSettings(string Model, int Hidden, int[] HiddenDims, string Normalization, double DropoutKeep, string UpdateRule,
    int Epochs, double WeightScale, double? LearningRate, double LearningRateDecay, double Reg, int BatchSize,
    int Iterations, double Std, string DType, uint Seed, int? Threads, string? Data, CliData.Sizes Sizes, string Out);

/// <summary>Source-generated JSON for <see cref="TrainSettings"/> (no reflection).</summary>
[JsonSerializable(typeof(TrainSettings))]
internal sealed partial class TrainSettingsJson : JsonSerializerContext;
