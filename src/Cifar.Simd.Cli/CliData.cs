using System.Numerics;
using Cifar.Simd.Data;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary>Finds, downloads if needed, reads and splits CIFAR-10 for the commands.</summary>
internal static class CliData
{
    public static Cifar10Split<T> Load<T>(string? dataPath, CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string folder = new Cifar10Cache().EnsureBinaryFolder(dataPath, new Progress<DownloadProgress>(p =>
            AnsiConsole.MarkupLine($"[grey]downloading CIFAR-10: {p.BytesReceived / 1e6:F1} MB{(p.TotalBytes is { } t ? $" of {t / 1e6:F1} MB" : "")}[/]")), ct);
        var raw = Cifar10.Load(folder, ct);
        return Cifar10.Split<T>(raw, numTraining: 49_000, numValidation: 1_000, numTest: 1_000);
    }
}
