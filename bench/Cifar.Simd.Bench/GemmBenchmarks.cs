using BenchmarkDotNet.Attributes;
using Cifar.Simd.Kernels;
using Cifar.Simd.Training;

namespace Cifar.Simd.Bench;

/// <summary>One GEMM problem: C (M×N) = op(A)·op(B) with op(A) M×K.</summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransposeA, bool TransposeB, GemmEpilogue Epilogue)
{
    /// <summary>Floating-point operations of the product, 2·M·N·K.</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>
    /// The three products of a CS231n affine layer with batch 200, D = 3072, H = 100 (X·W with the
    /// fused bias+ReLU epilogue, Xᵀ·dout, dout·Wᵀ), a square 1024³, and an odd size with a bias epilogue.
    /// </summary>
    public static IEnumerable<GemmShape> All =>
    [
        new("X·W", 200, 100, 3072, false, false, GemmEpilogue.BiasRelu),
        new("Xᵀ·dout", 3072, 100, 200, true, false, GemmEpilogue.None),
        new("dout·Wᵀ", 200, 3072, 100, false, true, GemmEpilogue.None),
        new("sq", 1024, 1024, 1024, false, false, GemmEpilogue.None),
        new("odd", 509, 257, 1021, false, false, GemmEpilogue.Bias),
    ];

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {M}x{N}x{K}";
}

/// <summary>
/// <c>Gemm.Multiply</c> per shape, SIMD path (every path this CPU supports), precision and thread
/// count, with GFLOP/s and percent of the measured FMA peak.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(ThroughputConfig))]
public class GemmBenchmarks : IThroughputBenchmark
{
    private IThroughputWorkload _gemm = null!;

    /// <summary>The problems measured.</summary>
    public static IEnumerable<GemmShape> Shapes => GemmShape.All;

    /// <summary>The SIMD paths this CPU supports, best first.</summary>
    public static IEnumerable<SimdPath> Paths => SimdPaths.Supported();

    /// <summary>The problem.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    /// <summary>The microkernel's instruction set.</summary>
    [ParamsSource(nameof(Paths))]
    public SimdPath Path { get; set; }

    /// <summary>Element type: <c>float</c> or <c>double</c>.</summary>
    [Params("float", "double")]
    public string DType { get; set; } = "float";

    /// <summary>Worker threads (<see cref="Parallelism.ThreadCount"/>).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <inheritdoc/>
    public bool IsDouble => DType == "double";

    /// <inheritdoc/>
    public double SamplesPerInvocation => 0;

    /// <inheritdoc/>
    public double FlopsPerInvocation => Shape.Flops;

    /// <summary>Allocates and fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Parallelism.ThreadCount = Threads;
        var s = Shape;
        _gemm = IsDouble
            ? new GemmWorkload<double>(Path, s.Name, s.M, s.N, s.K, s.TransposeA, s.TransposeB, s.Epilogue, seed: 42)
            : new GemmWorkload<float>(Path, s.Name, s.M, s.N, s.K, s.TransposeA, s.TransposeB, s.Epilogue, seed: 42);
    }

    /// <summary>The packed, blocked kernel on the chosen path.</summary>
    [Benchmark]
    public void Multiply() => _gemm.Step();
}

/// <summary>
/// The packed kernel (active path, one thread, float) against the row-streaming TensorPrimitives
/// loop the library used before it (the baseline), on the same shapes.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(ThroughputConfig))]
public class GemmBaselineBenchmarks : IThroughputBenchmark
{
    private float[] _a = [], _b = [], _c = [], _bias = [];

    /// <summary>The problems measured.</summary>
    public static IEnumerable<GemmShape> Shapes => GemmShape.All;

    /// <summary>The problem.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    /// <inheritdoc/>
    public int Threads => 1;

    /// <inheritdoc/>
    public bool IsDouble => false;

    /// <inheritdoc/>
    public double SamplesPerInvocation => 0;

    /// <inheritdoc/>
    public double FlopsPerInvocation => Shape.Flops;

    /// <summary>Allocates and fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new System.Random(42);
        _a = Fill(rng, Shape.M * Shape.K);
        _b = Fill(rng, Shape.K * Shape.N);
        _c = new float[Shape.M * Shape.N];
        _bias = Fill(rng, Shape.N);
        Parallelism.ThreadCount = 1;
    }

    /// <summary>The packed, blocked kernel on the active <see cref="Gemm.Path"/>.</summary>
    [Benchmark]
    public void Packed() =>
        Gemm.Multiply<float>(Shape.TransposeA, Shape.TransposeB, Shape.M, Shape.N, Shape.K, _a, _b, _c, Shape.Epilogue, _bias);

    /// <summary>The earlier placeholder: one TensorPrimitives.MultiplyAdd per (row, k), single-threaded, no epilogue.</summary>
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
}
