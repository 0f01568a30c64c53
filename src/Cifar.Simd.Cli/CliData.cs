using System.CommandLine;
using System.Numerics;
using Cifar.Simd.Data;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary>Finds, downloads if needed, reads and splits CIFAR-10 for the commands.</summary>
internal static class CliData
{
    /// <summary>The split sizes; CS231n's are 49,000 / 1,000 / 1,000. A null test size takes every test image.</summary>
    public sealed record Sizes(int Train = 49_000, int Val = 1_000, int? Test = 1_000);

    public static Option<int> NumTrain() => new Option<int>("--num-train") { Description = "Training images (the first ones of the training batches).", DefaultValueFactory = _ => 49_000 }.AtLeast(1);

    public static Option<int> NumVal() => new Option<int>("--num-val") { Description = "Validation images (the ones after the training images).", DefaultValueFactory = _ => 1_000 }.AtLeast(1);

    public static Option<int> NumTest() => new Option<int>("--num-test") { Description = "Test images (the first ones of the test batch).", DefaultValueFactory = _ => 1_000 }.AtLeast(1);

    public static Cifar10Split<T> Load<T>(string? dataPath, CancellationToken ct, Sizes? sizes = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        sizes ??= new Sizes();
        var progress = new Progress<DownloadProgress>(p =>
            AnsiConsole.MarkupLine($"[grey]downloading CIFAR-10: {p.BytesReceived / 1e6:F1} MB{(p.TotalBytes is { } t ? $" of {t / 1e6:F1} MB" : "")}[/]"));
        Cifar10RawSet raw;
        try
        {
            // The binary archive is unpacked once into the cache, so later runs skip the 2 s gunzip.
            raw = Cifar10.Load(new Cifar10Cache().EnsureBinaryFolder(dataPath, progress, ct), ct);
        }
        catch (InvalidDataException) when (dataPath is not null && (File.Exists(dataPath) || Directory.Exists(dataPath)))
        {
            // Not the binary layout: read whatever official format the path holds (the python one, say) directly.
            raw = Cifar10.Load(dataPath, ct);
        }
        return Cifar10.Split<T>(raw, numTraining: sizes.Train, numValidation: sizes.Val, numTest: sizes.Test ?? raw.TestCount);
    }
}
