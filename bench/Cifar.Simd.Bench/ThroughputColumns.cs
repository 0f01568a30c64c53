using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Cifar.Simd.Kernels;

namespace Cifar.Simd.Bench;

/// <summary>
/// What a benchmark class tells the throughput columns about one invocation. Every member must be
/// computable from the <c>[Params]</c> alone: the columns set them on a fresh instance, without
/// running <c>[GlobalSetup]</c>.
/// </summary>
public interface IThroughputBenchmark
{
    /// <summary>Threads the measured code may use (<see cref="Parallelism.ThreadCount"/>).</summary>
    int Threads { get; }

    /// <summary>Whether the element type is double (the peak differs by precision).</summary>
    bool IsDouble { get; }

    /// <summary>Images one invocation processes (0: not a per-image workload).</summary>
    double SamplesPerInvocation { get; }

    /// <summary>Floating-point operations of the matrix products in one invocation (2 per multiply-add).</summary>
    double FlopsPerInvocation { get; }
}

/// <summary>Adds samples/s, GFLOP/s and percent-of-peak columns to a benchmark class that implements <see cref="IThroughputBenchmark"/>.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    /// <summary>The three columns.</summary>
    public ThroughputConfig()
    {
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.SamplesPerSecond));
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.Gflops));
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.PercentOfPeak));
    }
}

/// <summary>
/// A throughput figure at the median time of a benchmark case: images per second, GFLOP/s, or that
/// as a percentage of this machine's FMA peak measured by <see cref="PeakFlops"/> for the case's
/// thread count and precision (measured once per pair, in the host process, after the runs).
/// </summary>
public sealed class ThroughputColumn(ThroughputColumn.Kind kind) : IColumn
{
    private static readonly ConcurrentDictionary<(bool IsDouble, int Threads), double> s_peaks = new();

    /// <summary>Which figure the column shows.</summary>
    public enum Kind
    {
        /// <summary>Images per second.</summary>
        SamplesPerSecond,
        /// <summary>10⁹ floating-point operations per second.</summary>
        Gflops,
        /// <summary>GFLOP/s as a percentage of the measured FMA peak.</summary>
        PercentOfPeak,
    }

    /// <inheritdoc/>
    public string Id => $"Throughput.{kind}";

    /// <inheritdoc/>
    public string ColumnName => kind switch
    {
        Kind.SamplesPerSecond => "samples/s",
        Kind.Gflops => "GFLOP/s",
        _ => "% of peak",
    };

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => (int)kind;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => kind switch
    {
        Kind.SamplesPerSecond => "Images per invocation / median time (training samples, or images classified)",
        Kind.Gflops => "Floating-point operations of the matrix products per invocation (2 per multiply-add) / median time, in 10⁹ per second",
        _ => "GFLOP/s as a share of this machine's FMA peak for the row's threads and precision, measured by Cifar.Simd.Kernels.PeakFlops on the best SIMD path: "
            + string.Join(", ", s_peaks.OrderBy(p => p.Key).Select(p => $"{(p.Key.IsDouble ? "double" : "float")}×{p.Key.Threads} = {p.Value:F0}")),
    };

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats || Describe(benchmarkCase) is not { } bench) return "-";
        double seconds = stats.Median / 1e9;
        double gflops = bench.FlopsPerInvocation / seconds / 1e9;
        return kind switch
        {
            Kind.SamplesPerSecond => bench.SamplesPerInvocation > 0 ? (bench.SamplesPerInvocation / seconds).ToString("N0", CultureInfo.InvariantCulture) : "-",
            Kind.Gflops => gflops.ToString("F1", CultureInfo.InvariantCulture),
            _ => (100 * gflops / Peak(bench.IsDouble, bench.Threads)).ToString("F1", CultureInfo.InvariantCulture) + "%",
        };
    }

    // A fresh instance with the case's parameters set: enough for the IThroughputBenchmark members.
    private static IThroughputBenchmark? Describe(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (Activator.CreateInstance(type) is not IThroughputBenchmark bench) return null;
        foreach (var parameter in benchmarkCase.Parameters.Items)
            type.GetProperty(parameter.Name)?.SetValue(bench, parameter.Value);
        return bench;
    }

    private static double Peak(bool isDouble, int threads) => s_peaks.GetOrAdd((isDouble, threads), key => key.IsDouble
        ? PeakFlops.Measure<double>(key.Threads, TimeSpan.FromSeconds(1)).Gflops
        : PeakFlops.Measure<float>(key.Threads, TimeSpan.FromSeconds(1)).Gflops);

    /// <inheritdoc/>
    public override string ToString() => ColumnName;
}
