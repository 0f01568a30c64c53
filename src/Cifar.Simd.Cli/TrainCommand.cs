using System.CommandLine;
using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cifar.Simd.Kernels;
using Cifar.Simd.Models;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary><c>cifar-simd train</c>: CS231n assignment 1's two-layer net with the notebook's defaults.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the two-layer net.", DefaultValueFactory = _ => 50 };
        var lr = new Option<double>("--learning-rate", "--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 1e-4 };
        var decay = new Option<double>("--lr-decay") { Description = "Learning-rate decay per epoch.", DefaultValueFactory = _ => 0.95 };
        var reg = new Option<double>("--reg") { Description = "L2 regularization strength (reg·ΣW²).", DefaultValueFactory = _ => 0.25 };
        var batch = new Option<int>("--batch-size") { Description = "Minibatch size.", DefaultValueFactory = _ => 200 };
        var iters = new Option<int>("--iterations") { Description = "Training iterations.", DefaultValueFactory = _ => 1000 };
        var std = new Option<double>("--std") { Description = "Weights are drawn as std·randn.", DefaultValueFactory = _ => 1e-4 };
        var dtype = new Option<string>("--dtype") { Description = "Element type: float (fast) or double (reproduces numpy's float64 run).", DefaultValueFactory = _ => "float" };
        dtype.AcceptOnlyFromAmong("float", "double");
        var seed = new Option<uint>("--seed") { Description = "Seed of the numpy-compatible generator.", DefaultValueFactory = _ => 0u };
        var threads = new Option<int?>("--threads") { Description = "GEMM threads (default: all cores)." };
        var data = new Option<string?>("--data") { Description = $"CIFAR-10 archive or folder (or set {Cifar10CacheVariable}); downloaded when absent." };
        var outDir = new Option<string>("--out") { Description = "Folder for metrics.json and the plots.", DefaultValueFactory = _ => "cifar-simd-run" };

        var command = new Command("train", "Train CS231n's two-layer net on CIFAR-10 (defaults: the assignment-1 notebook).")
        {
            hidden, lr, decay, reg, batch, iters, std, dtype, seed, threads, data, outDir,
        };
        command.SetAction((ParseResult r, CancellationToken ct) =>
        {
            var settings = new TrainSettings(r.GetValue(hidden), r.GetValue(lr), r.GetValue(decay), r.GetValue(reg), r.GetValue(batch),
                r.GetValue(iters), r.GetValue(std), r.GetValue(dtype)!, r.GetValue(seed), r.GetValue(threads), r.GetValue(data), r.GetValue(outDir)!);
            return Task.FromResult(CliErrors.Run(() => settings.DType == "double" ? Run<double>(settings, ct) : Run<float>(settings, ct)));
        });
        return command;
    }

    private const string Cifar10CacheVariable = Cifar.Simd.Data.Cifar10Cache.EnvironmentVariable;

    private sealed record TrainSettings(int Hidden, double LearningRate, double LearningRateDecay, double Reg, int BatchSize,
        int Iterations, double Std, string DType, uint Seed, int? Threads, string? Data, string Out);

    private static int Run<T>(TrainSettings s, CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s.Threads is { } t) Parallelism.ThreadCount = t;
        var split = CliData.Load<T>(s.Data, ct);
        Directory.CreateDirectory(s.Out);
        AnsiConsole.MarkupLine($"[bold]two-layer net[/] 3072-{s.Hidden}-10, {typeof(T).Name.ToLowerInvariant()}, GEMM path {Gemm.Path}, {Parallelism.ThreadCount} thread(s)");
        AnsiConsole.MarkupLine($"train {split.XTrain.Shape}, val {split.XVal.Shape}, test {split.XTest.Shape}");

        var net = new TwoLayerNet<T>(split.XTrain.RowLength, s.Hidden, 10, s.Std, s.Seed);
        var clock = Stopwatch.StartNew();
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
                stats = net.Train(split.XTrain, split.YTrain, split.XVal, split.YVal, s.LearningRate, s.LearningRateDecay, s.Reg,
                    s.Iterations, s.BatchSize, progress, ct);
            });
        double seconds = clock.Elapsed.TotalSeconds;
        double valAcc = Accuracy(net.Predict(split.XVal), split.YVal);
        double testAcc = Accuracy(net.Predict(split.XTest), split.YTest);
        double samplesPerSecond = s.Iterations * (double)s.BatchSize / seconds;

        var table = new Table().AddColumns("metric", "value");
        table.AddRow("validation accuracy", $"{valAcc:F3}");
        table.AddRow("test accuracy", $"{testAcc:F3}");
        table.AddRow("training time", $"{seconds:F2} s");
        table.AddRow("samples/s", $"{samplesPerSecond:N0}");
        table.AddRow("final loss", $"{stats.LossHistory[^1]:F4}");
        AnsiConsole.Write(table);

        var metrics = new JsonObject
        {
            ["model"] = "two-layer",
            ["val_acc"] = valAcc,
            ["test_acc"] = testAcc,
            ["train_seconds"] = seconds,
            ["samples_per_second"] = samplesPerSecond,
            ["loss_history"] = new JsonArray(stats.LossHistory.Select(v => (JsonNode?)v).ToArray()),
            ["train_acc_history"] = new JsonArray(stats.TrainAccHistory.Select(v => (JsonNode?)v).ToArray()),
            ["val_acc_history"] = new JsonArray(stats.ValAccHistory.Select(v => (JsonNode?)v).ToArray()),
            ["config"] = new JsonObject
            {
                ["model"] = "two-layer", ["input_size"] = split.XTrain.RowLength, ["hidden_size"] = s.Hidden, ["num_classes"] = 10,
                ["learning_rate"] = s.LearningRate, ["learning_rate_decay"] = s.LearningRateDecay, ["reg"] = s.Reg,
                ["batch_size"] = s.BatchSize, ["num_iters"] = s.Iterations, ["std"] = s.Std, ["dtype"] = s.DType,
                ["seed"] = s.Seed, ["threads"] = Parallelism.ThreadCount, ["simd_path"] = Gemm.Path.ToString(),
            },
        };
        File.WriteAllText(Path.Combine(s.Out, "metrics.json"), metrics.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Plots.Loss(Path.Combine(s.Out, "loss.png"), stats.LossHistory, "Loss history");
        Plots.Accuracy(Path.Combine(s.Out, "accuracy.png"), stats.TrainAccHistory, stats.ValAccHistory, "Classification accuracy history");
        var w1 = net.Parameters["W1"].ToArray().Select(v => double.CreateChecked(v)).ToArray();
        Plots.Weights(Path.Combine(s.Out, "weights.png"), w1, s.Hidden);
        AnsiConsole.MarkupLine($"wrote metrics.json, loss.png, accuracy.png, weights.png to [bold]{Markup.Escape(Path.GetFullPath(s.Out))}[/]");
        return 0;
    }

    private static double Accuracy(int[] predicted, int[] actual) => predicted.Zip(actual).Count(p => p.First == p.Second) / (double)actual.Length;
}
