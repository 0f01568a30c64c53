using System.CommandLine;
using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cifar.Simd.Kernels;
using Cifar.Simd.Data;
using Cifar.Simd.Models;
using Cifar.Simd.Tensors;
using Cifar.Simd.Training;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary>
/// <c>cifar-simd train</c>: CS231n assignment 1's two-layer net with the notebook's defaults, or
/// assignment 2's <c>FullyConnectedNet</c> trained by the Solver (<c>--model fc</c>).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "two-layer (assignment 1) or fc (assignment 2's FullyConnectedNet with the Solver).", DefaultValueFactory = _ => "two-layer" };
        model.AcceptOnlyFromAmong("two-layer", "fc");
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the two-layer net.", DefaultValueFactory = _ => 50 };
        var hiddenDims = new Option<int[]>("--hidden-dims") { Description = "fc: widths of the hidden layers, e.g. --hidden-dims 100 100.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [100, 100] };
        var norm = new Option<string>("--normalization") { Description = "fc: none, batchnorm or layernorm.", DefaultValueFactory = _ => "none" };
        norm.AcceptOnlyFromAmong("none", "batchnorm", "layernorm");
        var dropout = new Option<double>("--dropout-keep") { Description = "fc: probability of keeping a unit (1 = no dropout).", DefaultValueFactory = _ => 1.0 };
        var rule = new Option<string>("--update-rule") { Description = "fc: sgd, sgd_momentum, rmsprop, adam or adagrad.", DefaultValueFactory = _ => "sgd" };
        rule.AcceptOnlyFromAmong("sgd", "sgd_momentum", "rmsprop", "adam", "adagrad");
        var epochs = new Option<int>("--epochs") { Description = "fc: training epochs.", DefaultValueFactory = _ => 10 };
        var weightScale = new Option<double>("--weight-scale") { Description = "fc: weights are drawn as weight_scale·randn.", DefaultValueFactory = _ => 1e-2 };
        // Defaults follow the notebook of the chosen model: assignment 1's for two-layer, the Solver's and
        // FullyConnectedNet's for fc (a reg of 0.25 would swamp a large fc net's loss at the start).
        var lr = new Option<double?>("--learning-rate", "--lr") { Description = "Learning rate [two-layer: 1e-4; fc: the update rule's CS231n default]." };
        var decay = new Option<double?>("--lr-decay") { Description = "Learning-rate decay per epoch [two-layer: 0.95; fc: 1]." };
        var reg = new Option<double?>("--reg") { Description = "L2 strength: two-layer reg·ΣW² [0.25]; fc 0.5·reg·ΣW² [0]." };
        var batch = new Option<int?>("--batch-size") { Description = "Minibatch size [two-layer: 200; fc: 100]." };
        var iters = new Option<int>("--iterations") { Description = "Training iterations.", DefaultValueFactory = _ => 1000 };
        var std = new Option<double>("--std") { Description = "Weights are drawn as std·randn.", DefaultValueFactory = _ => 1e-4 };
        var dtype = new Option<string>("--dtype") { Description = "Element type: float (fast) or double (reproduces numpy's float64 run).", DefaultValueFactory = _ => "float" };
        dtype.AcceptOnlyFromAmong("float", "double");
        var seed = new Option<uint>("--seed") { Description = "Seed of the numpy-compatible generator.", DefaultValueFactory = _ => 0u };
        var threads = new Option<int?>("--threads") { Description = "GEMM threads (default: all cores)." };
        var numTrain = CliData.NumTrain();
        var numVal = CliData.NumVal();
        var numTest = CliData.NumTest();
        var data = new Option<string?>("--data") { Description = $"CIFAR-10 archive or folder (or set {Cifar10CacheVariable}); downloaded when absent." };
        var outDir = new Option<string>("--out") { Description = "Folder for metrics.json and the plots.", DefaultValueFactory = _ => "cifar-simd-run" };

        var command = new Command("train", "Train CS231n's two-layer net on CIFAR-10 (defaults: the assignment-1 notebook).")
        {
            model, hidden, hiddenDims, norm, dropout, rule, epochs, weightScale, lr, decay, reg, batch, iters, std, dtype, seed, threads, data, numTrain, numVal, numTest, outDir,
        };
        command.SetAction((ParseResult r, CancellationToken ct) =>
        {
            bool fc = r.GetValue(model) == "fc";
            var settings = new TrainSettings(r.GetValue(model)!, r.GetValue(hidden), r.GetValue(hiddenDims)!, r.GetValue(norm)!, r.GetValue(dropout),
                r.GetValue(rule)!, r.GetValue(epochs), r.GetValue(weightScale), r.GetValue(lr) ?? (fc ? null : 1e-4), r.GetValue(decay) ?? (fc ? 1.0 : 0.95),
                r.GetValue(reg) ?? (fc ? 0.0 : 0.25), r.GetValue(batch) ?? (fc ? 100 : 200),
                r.GetValue(iters), r.GetValue(std), r.GetValue(dtype)!, r.GetValue(seed), r.GetValue(threads), r.GetValue(data),
                new CliData.Sizes(r.GetValue(numTrain), r.GetValue(numVal), r.GetValue(numTest)), r.GetValue(outDir)!);
            return Task.FromResult(CliErrors.Run(() => settings.DType == "double" ? Run<double>(settings, ct) : Run<float>(settings, ct)));
        });
        return command;
    }

    private const string Cifar10CacheVariable = Cifar.Simd.Data.Cifar10Cache.EnvironmentVariable;

    private sealed record TrainSettings(string Model, int Hidden, int[] HiddenDims, string Normalization, double DropoutKeep, string UpdateRule,
        int Epochs, double WeightScale, double? LearningRate, double LearningRateDecay, double Reg, int BatchSize,
        int Iterations, double Std, string DType, uint Seed, int? Threads, string? Data, CliData.Sizes Sizes, string Out);

    private static int Run<T>(TrainSettings s, CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s.Threads is { } t) Parallelism.ThreadCount = t;
        var split = CliData.Load<T>(s.Data, ct, s.Sizes);
        Directory.CreateDirectory(s.Out);
        string shape = s.Model == "fc" ? $"fc net 3072-{string.Join("-", s.HiddenDims)}-10, {s.Normalization}, keep {s.DropoutKeep}, {s.UpdateRule}" : $"two-layer net 3072-{s.Hidden}-10";
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(shape)}[/], {typeof(T).Name.ToLowerInvariant()}, GEMM path {Gemm.Path}, {Parallelism.ThreadCount} thread(s)");
        AnsiConsole.MarkupLine($"train {split.XTrain.Shape}, val {split.XVal.Shape}, test {split.XTest.Shape}");

        var clock = Stopwatch.StartNew();
        var (net, history) = s.Model == "fc" ? TrainFc(s, split, clock, ct) : TrainTwoLayer(s, split, clock, ct);
        double seconds = clock.Elapsed.TotalSeconds;
        double valAcc = Accuracy(Predict(net, split.XVal), split.YVal);
        double testAcc = Accuracy(Predict(net, split.XTest), split.YTest);
        double samplesPerSecond = history.Loss.Count * (double)s.BatchSize / seconds;

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
        AnsiConsole.MarkupLine($"wrote metrics.json, loss.png, accuracy.png, weights.png, model.safetensors to [bold]{Markup.Escape(Path.GetFullPath(s.Out))}[/]");
        return 0;
    }

    private sealed record History(List<double> Loss, List<double> TrainAcc, List<double> ValAcc);

    private static (IClassifier<T>, History) TrainTwoLayer<T>(TrainSettings s, Cifar10Split<T> split, Stopwatch clock, CancellationToken ct)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
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
                stats = net.Train(split.XTrain, split.YTrain, split.XVal, split.YVal, s.LearningRate!.Value, s.LearningRateDecay, s.Reg,
                    s.Iterations, s.BatchSize, progress, ct);
            });
        return (net, new History(stats.LossHistory, stats.TrainAccHistory, stats.ValAccHistory));
    }

    private static (IClassifier<T>, History) TrainFc<T>(TrainSettings s, Cifar10Split<T> split, Stopwatch clock, CancellationToken ct)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var norm = Enum.Parse<Normalization>(s.Normalization, ignoreCase: true);
        var net = new FullyConnectedNet<T>(s.HiddenDims, split.XTrain.RowLength, 10, s.DropoutKeep, norm, s.Reg, s.WeightScale, s.Seed);
        var solver = new Solver<T>(net, split.XTrain, split.YTrain, split.XVal, split.YVal, new SolverOptions
        {
            UpdateRule = s.UpdateRule, LearningRate = s.LearningRate, LearningRateDecay = s.LearningRateDecay, BatchSize = s.BatchSize,
            NumEpochs = s.Epochs, PrintEvery = 10,
        });
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: solver.NumIterations);
                var progress = new InlineProgress<SolverProgress>(p =>
                {
                    task.Value = p.Iteration;
                    task.Description = $"epoch {p.Epoch}/{p.NumEpochs} loss {p.Loss:F4} train {p.TrainAccuracy:F3} val {p.ValAccuracy:F3} {p.SamplesPerSecond / 1000:F0}k samples/s";
                });
                if (solver.Train(progress, ct) == SolverOutcome.Cancelled) ct.ThrowIfCancellationRequested();
            });
        return (net, new History(solver.LossHistory, solver.TrainAccHistory, solver.ValAccHistory));
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
