using BenchmarkDotNet.Attributes;
using Cifar.Simd.Data;

namespace Cifar.Simd.Bench;

/// <summary>
/// Decoding all 60,000 CIFAR-10 images (synthetic records) from channel-planar bytes to float features
/// in CS231n's (row, col, channel) order, into a reused buffer so the figure is the decoder's, not the
/// page faults of a fresh 737 MB allocation.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DataBenchmarks
{
    private const int Images = 60_000;
    private byte[] _planar = [];
    private float[] _features = [];

    /// <summary>Fills the synthetic images and touches the destination once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _planar = new byte[Images * Cifar10.Features];
        new System.Random(231).NextBytes(_planar);
        _features = new float[Images * Cifar10.Features];
        Cifar10.Decode<float>(_planar, _features);
    }

    /// <summary>60,000 images → (60000, 3072) float, HWC order.</summary>
    [Benchmark(Baseline = true)]
    public void DecodeFloatHwc() => Cifar10.Decode<float>(_planar, _features);

    /// <summary>60,000 images → float in the files' own CHW order (a plain widening copy).</summary>
    [Benchmark]
    public void DecodeFloatChw() => Cifar10.Decode<float>(_planar, _features, Cifar10FeatureOrder.ChannelHeightWidth);
}
