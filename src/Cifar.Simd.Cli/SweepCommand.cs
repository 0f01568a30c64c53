using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cifar.Simd.Models;
using Cifar.Simd.Training;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary><c>cifar-simd sweep</c>: grid or random search over two-layer nets trained by the Solver.</summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var lrs = new Option<double[]>("--learning-rates") { Description = "Learning rates (grid), or [min max] (random).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [1e-3] };
        var regs = new Option<double[]>("--regs") { Description = "Regularization strengths (grid), or [min max] (random).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [0.25] };
        var hidden = new Option<int[]>("--hidden-sizes") { Description = "Hidden sizes.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [50] };
        var batches = new Option<int[]>("--batch-sizes") { Description = "Batch sizes.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [200] };
        var rules = new Option<string[]>("--update-rules") { Description = "Update rules.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["sgd"] };
        var trials = new Option<int?>("--random") { Description = "Run this many random trials instead of the grid." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per trial.", DefaultValueFactory = _ => 5 };
        var decay = new Option<double>("--lr-decay") { Description = "Learning-rate decay per epoch.", DefaultValueFactory = _ => 0.95 };
        var std = new Option<double>("--std") { Description = "Weights are drawn as std·randn.", DefaultValueFactory = _ => 1e-4 };
        var seed = new Option<uint>("--seed") { Description = "Seed of every model and of the random search.", DefaultValueFactory = _ => 0u };
        var numTrain = CliData.NumTrain();
        var numVal = CliData.NumVal();
        var numTest = CliData.NumTest();
        var data = new Option<string?>("--data") { Description = "CIFAR-10 archive or folder; downloaded when absent." };
        var outDir = new Option<string>("--out") { Description = "Folder for sweep.json and best.safetensors.", DefaultValueFactory = _ => "cifar-simd-sweep" };
        var command = new Command("sweep", "Hyperparameter search over two-layer nets; prints a ranked table and writes sweep.json.")
        {
            lrs, regs, hidden, batches, rules, trials, epochs, decay, std, seed, data, numTrain, numVal, numTest, outDir,
        };
        command.SetAction((ParseResult r, CancellationToken ct) => Task.FromResult(CliErrors.Run(() =>
        {
            var space = new SearchSpace
            {
                LearningRates = r.GetValue(lrs)!, Regs = r.GetValue(regs)!, HiddenSizes = r.GetValue(hidden)!,
                BatchSizes = r.GetValue(batches)!, UpdateRules = r.GetValue(rules)!,
            };
            var points = r.GetValue(trials) is { } count ? space.Random(count, r.GetValue(seed)).ToList() : space.Grid().ToList();
            var sizes = new CliData.Sizes(r.GetValue(numTrain), r.GetValue(numVal), r.GetValue(numTest));
            return Run(points, r.GetValue(epochs), r.GetValue(decay), r.GetValue(std), r.GetValue(seed), r.GetValue(data), sizes, r.GetValue(outDir)!, ct);
        })));
        return command;
    }

    private static int Run(List<SearchPoint> points, int epochs, double decay, double std, uint seed, string? dataPath, CliData.Sizes sizes, string outDir, CancellationToken ct)
    {
        var split = CliData.Load<float>(dataPath, ct, sizes);
        Directory.CreateDirectory(outDir);
        var search = new HyperparameterSearch<float>(p => new TwoLayerNet<float>(split.XTrain.RowLength, p.HiddenSize, 10, std, seed) { Reg = p.Reg },
            split.XTrain, split.YTrain, split.XVal, split.YVal, new SolverOptions { NumEpochs = epochs, LearningRateDecay = decay });
        SearchReport<float> report = null!;
        AnsiConsole.Progress().Start(context =>
        {
            var task = context.AddTask($"{points.Count} trials", maxValue: points.Count);
            report = search.Run(points, new InlineProgress<SearchProgress>(p =>
            {
                task.Value = p.Trial;
                task.Description = $"trial {p.Trial}/{p.NumTrials}: val {p.Result.BestValAcc:F3} (best {p.Best.BestValAcc:F3})";
            }), ct);
        });
        var table = new Table().AddColumns("rank", "learning rate", "reg", "hidden", "batch", "rule", "best val acc", "train acc", "seconds");
        int rank = 1;
        foreach (var result in report.Results)
        {
            var p = result.Point;
            table.AddRow($"{rank++}", $"{p.LearningRate:0.###e+0}", $"{p.Reg:0.###e+0}", $"{p.HiddenSize}", $"{p.BatchSize}", p.UpdateRule,
                $"{result.BestValAcc:F3}", result.Divergence is null ? $"{result.FinalTrainAcc:F3}" : "[red]diverged[/]", $"{result.Seconds:F1}");
        }
        AnsiConsole.Write(table);
        var json = new JsonObject
        {
            ["epochs"] = epochs, ["lr_decay"] = decay, ["std"] = std, ["seed"] = seed, ["cancelled"] = report.Cancelled,
            ["results"] = new JsonArray(report.Results.Select(r => (JsonNode?)new JsonObject
            {
                ["learning_rate"] = r.Point.LearningRate, ["reg"] = r.Point.Reg, ["hidden_size"] = r.Point.HiddenSize,
                ["batch_size"] = r.Point.BatchSize, ["update_rule"] = r.Point.UpdateRule, ["best_val_acc"] = r.BestValAcc,
                ["final_train_acc"] = Finite(r.FinalTrainAcc), ["final_loss"] = Finite(r.FinalLoss), ["seconds"] = r.Seconds,
                ["diverged"] = r.Divergence?.Message,
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(outDir, "sweep.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (report.BestModel is { } best) ModelFile.Save(Path.Combine(outDir, "best.safetensors"), best);
        AnsiConsole.MarkupLine($"wrote sweep.json and best.safetensors to [bold]{Markup.Escape(Path.GetFullPath(outDir))}[/]");
        return report.Cancelled ? Interruption.ExitCode : ExitCodes.Ok;
    }

    // JSON has no NaN or infinity: a diverged trial's loss is written as null (its message says which it was).
    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
