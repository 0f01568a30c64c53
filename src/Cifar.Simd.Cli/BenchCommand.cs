using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cifar.Simd.Kernels;
using Cifar.Simd.Training;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary>
/// <c>cifar-simd bench</c>: a quick throughput probe. Runs a named workload for a few seconds on
/// synthetic CIFAR-shaped data and reports the median samples/s and GFLOP/s against this CPU's
/// measured FMA peak, as a table and as JSON (the format <c>bench/peers/</c> compares with).
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] Workloads = ["two-layer-step", "fc-step", "inference", "gemm", "peak"];
    private static readonly string[] Shapes = ["x-w", "xt-dout", "dout-wt", "square", "odd"];
    private const int FcDepth = 5;

    public static Command Create()
    {
        var workload = new Option<string>("--workload", "-w") { Description = "two-layer-step, fc-step, inference, gemm, or peak (the FMA peak for 1..threads threads).", DefaultValueFactory = _ => "two-layer-step" };
        workload.AcceptOnlyFromAmong(Workloads);
        var seconds = new Option<double>("--seconds") { Description = "Timed seconds per measurement (after a warm-up of a quarter of that, 0.25–2 s).", DefaultValueFactory = _ => 3.0 };
        var threads = new Option<int?>("--threads") { Description = "Threads (default: all cores); for peak, the largest thread count measured." };
        var hidden = new Option<int[]>("--hidden") { Description = "Hidden units; several values give one row each [two-layer-step, gemm: 100; inference: 500; fc-step: 100 per layer, 5 layers].", AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int?>("--batch") { Description = "Batch size [two-layer-step, gemm: 200; fc-step: 100]; for inference, the number of images [10000]." };
        var dtype = new Option<string>("--dtype") { Description = "Element type: float or double.", DefaultValueFactory = _ => "float" };
        dtype.AcceptOnlyFromAmong("float", "double");
        var shape = new Option<string[]>("--shape") { Description = "gemm: x-w (batch×hidden×3072), xt-dout (3072×hidden×batch), dout-wt (batch×3072×hidden), square (1024³), odd (509×257×1021) [all].", AllowMultipleArgumentsPerToken = true };
        shape.AcceptOnlyFromAmong(Shapes);
        var trainRows = new Option<int>("--train-rows") { Description = "Rows of the synthetic training set the minibatches are drawn from.", DefaultValueFactory = _ => SyntheticCifar.TrainRows };
        var json = new Option<string?>("--json") { Description = "Write the results as JSON to this file, or to stdout when no file is given (the table then goes to stderr).", Arity = ArgumentArity.ZeroOrOne };

        var command = new Command("bench", "Measure training-step, inference or GEMM throughput on synthetic data, against this CPU's FMA peak.")
        {
            workload, seconds, threads, hidden, batch, dtype, shape, trainRows, json,
        };
        command.SetAction((ParseResult r, CancellationToken ct) =>
        {
            bool jsonToStdout = r.GetResult(json) is not null && r.GetValue(json) is null;
            var console = jsonToStdout ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
            var settings = new BenchSettings(r.GetValue(workload)!, r.GetValue(seconds), r.GetValue(threads), r.GetValue(hidden) ?? [], r.GetValue(batch),
                r.GetValue(dtype)!, r.GetValue(shape) is { Length: > 0 } s ? s : Shapes, r.GetValue(trainRows), r.GetValue(json), jsonToStdout);
            return Task.FromResult(CliErrors.Run(() => settings.DType == "double" ? Run<double>(settings, console, ct) : Run<float>(settings, console, ct)));
        });
        return command;
    }

    private sealed record BenchSettings(string Workload, double Seconds, int? Threads, int[] Hidden, int? Batch, string DType, string[] Shapes,
        int TrainRows, string? JsonFile, bool JsonToStdout);

    private static int Run<T>(BenchSettings s, IAnsiConsole console, CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(s.Seconds > 0) || !double.IsFinite(s.Seconds))
            throw new ArgumentException($"--seconds must be a positive number; got {s.Seconds}.");
        if (s.Threads is { } t) Parallelism.ThreadCount = t;
        int threads = Parallelism.ThreadCount;
        var duration = TimeSpan.FromSeconds(s.Seconds);
        // The FMA loop never waits for memory, so half a second gives a stable best-of-five even when the workload budget is tiny.
        var peakDuration = TimeSpan.FromSeconds(Math.Clamp(s.Seconds / 3, 0.5, 1.0));
        console.MarkupLine($"[bold]{Markup.Escape(CpuName() ?? "unknown CPU")}[/], {Environment.ProcessorCount} logical cores, {RuntimeInformation.FrameworkDescription}, GEMM path {Gemm.Path}");

        var document = new JsonObject
        {
            ["impl"] = "cifar-simd",
            ["machine"] = new JsonObject
            {
                ["cpu"] = CpuName(), ["logical_cores"] = Environment.ProcessorCount,
                ["os"] = RuntimeInformation.OSDescription, ["runtime"] = RuntimeInformation.FrameworkDescription,
            },
            ["simd_path"] = Gemm.Path.ToString(),
        };
        var results = new JsonArray();
        if (s.Workload == "peak")
        {
            var table = new Table().AddColumns("threads", "dtype", "path", "peak GFLOP/s", "per thread", "median GFLOP/s", "reps");
            for (int n = 1; n <= threads; n++)
            {
                var peak = PeakFlops.Measure<T>(n, duration);
                table.AddRow($"{n}", s.DType, $"{peak.Path}", $"{peak.Gflops:F1}", $"{peak.GflopsPerThread:F1}", $"{peak.MedianGflops:F1}", $"{peak.Repetitions}");
                results.Add(PeakJson(peak, s.DType));
            }
            console.Write(table);
        }
        else
        {
            var workloads = CreateWorkloads<T>(s, console);
            var peak = PeakFlops.Measure<T>(threads, peakDuration);
            document["peak"] = PeakJson(peak, s.DType);
            console.MarkupLine($"{s.DType}, {threads} thread(s); peak FMA rate of this CPU: [bold]{peak.Gflops:F1}[/] GFLOP/s ({peak.Path})");
            var table = new Table().AddColumns("workload", s.Workload == "inference" ? "images/s" : "samples/s", "GFLOP/s", "% of peak", "ms/step", "reps");
            foreach (var (w, fields) in workloads)
            {
                ct.ThrowIfCancellationRequested();
                var result = Throughput.Measure(w, duration, ct);
                double percent = 100 * result.Gflops / peak.Gflops;
                table.AddRow(Markup.Escape(result.Description), w.SamplesPerStep > 0 ? $"{result.SamplesPerSecond:N0}" : "-",
                    $"{result.Gflops:F1}", $"{percent:F1}%", $"{result.MedianSecondsPerStep * 1e3:F3}", $"{result.Repetitions}");
                var row = new JsonObject
                {
                    ["impl"] = "cifar-simd", ["workload"] = result.Workload, ["description"] = result.Description,
                };
                foreach (var (key, value) in fields) row[key] = value;
                row["dtype"] = s.DType;
                row["threads"] = threads;
                row["samples_per_s"] = w.SamplesPerStep > 0 ? result.SamplesPerSecond : null;
                row["gflops"] = result.Gflops;
                row["percent_of_peak"] = percent;
                row["median_s"] = result.MedianSecondsPerStep;
                row["min_s"] = result.MinSecondsPerStep;
                row["max_s"] = result.MaxSecondsPerStep;
                row["repetitions"] = result.Repetitions;
                row["steps"] = result.Steps;
                results.Add(row);
            }
            console.Write(table);
        }
        document["results"] = results;
        // Relaxed escaping keeps "X·W" and "×" readable; the output is a file or a pipe, never HTML.
        string text = document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        if (s.JsonToStdout) Console.Out.WriteLine(text);
        else if (s.JsonFile is { } file)
        {
            File.WriteAllText(file, text);
            console.MarkupLine($"wrote [bold]{Markup.Escape(Path.GetFullPath(file))}[/]");
        }
        return 0;
    }

    // Each workload with the JSON fields that identify its size; the data are allocated once and shared.
    private static List<(IThroughputWorkload Workload, Dictionary<string, JsonNode?> Fields)> CreateWorkloads<T>(BenchSettings s, IAnsiConsole console)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var list = new List<(IThroughputWorkload, Dictionary<string, JsonNode?>)>();
        int[] Hiddens(int fallback) => s.Hidden.Length > 0 ? s.Hidden : [fallback];
        switch (s.Workload)
        {
            case "two-layer-step":
            case "fc-step":
            {
                console.MarkupLine($"synthetic training set ({s.TrainRows:N0}, {SyntheticCifar.Features}) …");
                var (x, y) = SyntheticCifar.Create<T>(s.TrainRows);
                bool fc = s.Workload == "fc-step";
                int batch = s.Batch ?? (fc ? 100 : 200);
                foreach (int h in Hiddens(100))
                {
                    IThroughputWorkload w = fc
                        ? new FcStepWorkload<T>(x, y, Enumerable.Repeat(h, FcDepth).ToArray(), batch)
                        : new TwoLayerStepWorkload<T>(x, y, h, batch);
                    list.Add((w, new() { ["hidden"] = h, ["batch"] = batch }));
                }
                break;
            }
            case "inference":
            {
                int images = s.Batch ?? 10_000;
                var (x, _) = SyntheticCifar.Create<T>(images);
                foreach (int h in Hiddens(500))
                    list.Add((new InferenceWorkload<T>(x, h), new() { ["hidden"] = h, ["batch"] = images }));
                break;
            }
            default:
            {
                int batch = s.Batch ?? 200;
                const int D = SyntheticCifar.Features;
                foreach (string shape in s.Shapes)
                {
                    // square and odd do not depend on the hidden size: one row each.
                    int[] sizes = shape is "square" or "odd" ? [0] : Hiddens(100);
                    foreach (int h in sizes)
                    {
                        // Plain products (no epilogue), the same as numpy's and PyTorch's matmul.
                        var w = shape switch
                        {
                            "x-w" => new GemmWorkload<T>("X·W", batch, h, D),
                            "xt-dout" => new GemmWorkload<T>("Xᵀ·dout", D, h, batch, transposeA: true),
                            "dout-wt" => new GemmWorkload<T>("dout·Wᵀ", batch, D, h, transposeB: true),
                            "square" => new GemmWorkload<T>("square", 1024, 1024, 1024),
                            _ => new GemmWorkload<T>("odd", 509, 257, 1021),
                        };
                        list.Add((w, new() { ["shape"] = shape, ["m"] = w.M, ["n"] = w.N, ["k"] = w.K }));
                    }
                }
                break;
            }
        }
        return list;
    }

    private static JsonObject PeakJson(PeakFlopsResult peak, string dtype) => new()
    {
        ["workload"] = "peak", ["dtype"] = dtype, ["threads"] = peak.Threads, ["path"] = peak.Path.ToString(),
        ["gflops"] = peak.Gflops, ["gflops_per_thread"] = peak.GflopsPerThread, ["median_gflops"] = peak.MedianGflops,
        ["repetitions"] = peak.Repetitions,
    };

    // The model name from /proc/cpuinfo on Linux; other systems have no portable source.
    private static string? CpuName()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A missing model name is not worth failing a benchmark over.
        }
        return null;
    }
}
