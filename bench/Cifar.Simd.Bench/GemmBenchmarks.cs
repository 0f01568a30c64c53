using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Cifar.Simd.Kernels;

namespace Cifar.Simd.Bench;

/// <summary>One GEMM problem: C (M×N) = op(A)·op(B) with op(A) M×K.</summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransposeA, bool TransposeB, GemmEpilogue Epilogue)
{
    /// <summary>Floating-point operations of the product, 2·M·N·K.</summary>
    public double Flops => 2.0 * M * N * K;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {M}x{N}x{K}";
}

/// <summary>
/// Single-precision GEMM on the three products of a CS231n affine layer (batch 200, D = 3072,
/// H = 100), a square 1024³ and an odd size, against the row-streaming TensorPrimitives loop the
/// library used before the packed kernel (the baseline).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(GemmConfig))]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [], _bias = [];

    /// <summary>The problems measured.</summary>
    public static IEnumerable<GemmShape> Shapes =>
    [
        new("X·W", 200, 100, 3072, false, false, GemmEpilogue.BiasRelu),
        new("Xᵀ·dout", 3072, 100, 200, true, false, GemmEpilogue.None),
        new("dout·Wᵀ", 200, 3072, 100, false, true, GemmEpilogue.None),
        new("sq", 1024, 1024, 1024, false, false, GemmEpilogue.None),
        new("odd", 509, 257, 1021, false, false, GemmEpilogue.Bias),
    ];

    /// <summary>The problem.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    /// <summary>Worker threads (<see cref="Parallelism.ThreadCount"/>).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Allocates and fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new System.Random(42);
        _a = Fill(rng, Shape.M * Shape.K);
        _b = Fill(rng, Shape.K * Shape.N);
        _c = new float[Shape.M * Shape.N];
        _bias = Fill(rng, Shape.N);
        Parallelism.ThreadCount = Threads;
    }

    /// <summary>The packed, blocked kernel on the active <see cref="Gemm.Path"/>.</summary>
    [Benchmark]
    public void Packed() =>
        Gemm.Multiply<float>(Shape.TransposeA, Shape.TransposeB, Shape.M, Shape.N, Shape.K, _a, _b, _c, Shape.Epilogue, _bias);

    /// <summary>The earlier placeholder: one TensorPrimitives.MultiplyAdd per (row, k), single-threaded.</summary>
    [Benchmark(Baseline = true)]
    public void RowStreaming()
    {
        int m = Shape.M, n = Shape.N, k = Shape.K;
        ReadOnlySpan<float> a = _a, b = _b;
        for (int i = 0; i < m; i++)
        {
            Span<float> ci = _c.AsSpan(i * n, n);
            ci.Clear();
            for (int p = 0; p < k; p++)
            {
                float aip = Shape.TransposeA ? a[p * m + i] : a[i * k + p];
                if (!Shape.TransposeB)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), aip, ci, ci);
                else
                    for (int j = 0; j < n; j++) ci[j] += aip * b[j * k + p];
            }
        }
    }

    private static float[] Fill(System.Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private sealed class GemmConfig : ManualConfig
    {
        public GemmConfig()
        {
            AddColumn(new GflopsColumn(percentOfPeak: false));
            AddColumn(new GflopsColumn(percentOfPeak: true));
        }
    }
}

/// <summary>
/// GFLOP/s = 2·M·N·K / median time, or that as a percentage of this machine's peak: 220 GFLOP/s
/// float32 per core (AMD Zen 5 here), times the threads a row uses; baseline rows count one thread.
/// </summary>
public sealed class GflopsColumn(bool percentOfPeak) : IColumn
{
    /// <summary>This machine's float32 peak per core (AMD Zen 5 as measured here), GFLOP/s.</summary>
    public const double PeakPerCoreGflops = 220;

    /// <inheritdoc/>
    public string Id => percentOfPeak ? "PctPeak" : "GFLOPs";
    /// <inheritdoc/>
    public string ColumnName => percentOfPeak ? "% of peak (220/core)" : "GFLOP/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => percentOfPeak ? 1 : 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => percentOfPeak
        ? "GFLOP/s as a share of this machine's float32 peak, 220 GFLOP/s per core (Zen 5) × threads used"
        : "2·M·N·K / median time, in 10⁹ floating-point operations per second";

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
        if (report?.ResultStatistics is null || benchmarkCase.Parameters["Shape"] is not GemmShape shape) return "-";
        double gflops = shape.Flops / report.ResultStatistics.Median; // flops per ns = GFLOP/s
        if (!percentOfPeak) return gflops.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        int threads = benchmarkCase.Descriptor.Baseline ? 1 : (int)benchmarkCase.Parameters["Threads"];
        return (100 * gflops / (PeakPerCoreGflops * threads)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + "%";
    }
}
