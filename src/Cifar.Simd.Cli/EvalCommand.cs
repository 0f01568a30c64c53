using System.CommandLine;
using Cifar.Simd.Kernels;
using Cifar.Simd.Models;
using Cifar.Simd.Tensors;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary><c>cifar-simd eval</c>: a saved model on the test set — accuracy, per-class accuracy, confusion matrix.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A model.safetensors written by 'cifar-simd train'." };
        var data = new Option<string?>("--data") { Description = "CIFAR-10 archive or folder; downloaded when absent." };
        // The mean image is recomputed from the same training rows the model was trained with.
        var numTrain = CliData.NumTrain();
        var numVal = CliData.NumVal();
        var command = new Command("eval", "Evaluate a saved model on every CIFAR-10 test image.") { model, data, numTrain, numVal };
        command.SetAction((ParseResult r, CancellationToken ct) => Task.FromResult(CliErrors.Run(() =>
            Run(r.GetValue(model)!, r.GetValue(data), new CliData.Sizes(r.GetValue(numTrain), r.GetValue(numVal), Test: null), ct))));
        return command;
    }

    private static int Run(string modelPath, string? dataPath, CliData.Sizes sizes, CancellationToken ct)
    {
        var net = ModelFile.Load<float>(modelPath);
        // Every test image (CS231n's split uses the first 1,000 for its test accuracy).
        var split = CliData.Load<float>(dataPath, ct, sizes);
        int n = split.XTest.Rows, c = net.NumClasses;
        var scores = Tensor<float>.Uninitialized(n, c);
        net.Scores(split.XTest, scores);
        var predicted = new int[n];
        ArgMax.Rows<float>(scores.AsReadOnlySpan(), n, c, predicted);
        var confusion = new int[c, c];
        for (int i = 0; i < n; i++) confusion[split.YTest[i], predicted[i]]++;
        int correct = Enumerable.Range(0, c).Sum(k => confusion[k, k]);
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(modelPath))}[/]: test accuracy [bold]{(double)correct / n:F4}[/] on {n} images");

        // Compact enough for an 80-column terminal: 10 classes plus the row label and accuracy.
        var table = new Table().Border(TableBorder.Minimal).AddColumn("true\\pred");
        foreach (var name in split.LabelNames) table.AddColumn(new TableColumn(name[..Math.Min(4, name.Length)]).RightAligned().PadLeft(0));
        table.AddColumn(new TableColumn("acc").RightAligned());
        for (int k = 0; k < c; k++)
        {
            int total = Enumerable.Range(0, c).Sum(j => confusion[k, j]);
            var row = new List<string> { split.LabelNames[k] };
            for (int j = 0; j < c; j++) row.Add(j == k ? $"[green]{confusion[k, j]}[/]" : confusion[k, j].ToString());
            row.Add($"{(total == 0 ? 0 : (double)confusion[k, k] / total):F2}");
            table.AddRow(row.ToArray());
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
