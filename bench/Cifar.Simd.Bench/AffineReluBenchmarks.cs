using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using BenchmarkDotNet.Attributes;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Bench;

/// <summary>
/// The first layer's forward pass of the 3072-H-10 net, batch 200: bias and ReLU fused into the
/// GEMM's epilogue against the same GEMM followed by separate bias and ReLU passes.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(ThroughputConfig))]
public class AffineReluBenchmarks : IThroughputBenchmark
{
    private Tensor<float> _x = null!, _w = null!, _b = null!, _h = null!;

    /// <summary>Batch size N.</summary>
    public const int N = 200;

    /// <summary>Input features D.</summary>
    public const int D = 3072;

    /// <summary>Hidden units H.</summary>
    [Params(100, 500)]
    public int H { get; set; }

    /// <inheritdoc/>
    public int Threads => Parallelism.ThreadCount;

    /// <inheritdoc/>
    public bool IsDouble => false;

    /// <inheritdoc/>
    public double SamplesPerInvocation => N;

    /// <inheritdoc/>
    public double FlopsPerInvocation => 2.0 * N * D * H;

    /// <summary>Fills the operands with reproducible values.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new System.Random(0);
        _x = Tensor<float>.Uninitialized(N, D);
        _w = Tensor<float>.Uninitialized(D, H);
        _b = Tensor<float>.Uninitialized(H);
        _h = Tensor<float>.Uninitialized(N, H);
        foreach (var t in new[] { _x, _w, _b })
            for (int i = 0; i < t.Length; i++) t[i] = (float)(rng.NextDouble() - 0.5);
    }

    /// <summary>GEMM, then a bias pass, then a ReLU pass.</summary>
    [Benchmark(Baseline = true)]
    public void Unfused()
    {
        Gemm.Multiply<float>(false, false, N, H, D, _x.AsReadOnlySpan(), _w.AsReadOnlySpan(), _h.AsSpan());
        var b = _b.AsReadOnlySpan();
        for (int i = 0; i < N; i++)
        {
            var row = _h.Row(i);
            TensorPrimitives.Add(row, b, row);
        }
        TensorPrimitives.Max(_h.AsSpan(), 0f, _h.AsSpan());
    }

    /// <summary>One GEMM whose epilogue adds the bias and applies the ReLU.</summary>
    [Benchmark]
    public void Fused() =>
        Gemm.Multiply<float>(false, false, N, H, D, _x.AsReadOnlySpan(), _w.AsReadOnlySpan(), _h.AsSpan(), GemmEpilogue.BiasRelu, _b.AsReadOnlySpan());
}
