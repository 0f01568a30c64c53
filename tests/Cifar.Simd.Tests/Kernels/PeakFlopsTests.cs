using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

public class PeakFlopsTests
{
    [Fact]
    public void MeasuresEverySupportedPath_InBothPrecisions()
    {
        foreach (var path in SimdPaths.Supported())
        {
            var single = PeakFlops.Measure<float>(1, TimeSpan.FromMilliseconds(20), path);
            var dbl = PeakFlops.Measure<double>(1, TimeSpan.FromMilliseconds(20), path);
            Assert.Equal(path, single.Path);
            Assert.Equal(typeof(float), single.ElementType);
            Assert.Equal(typeof(double), dbl.ElementType);
            Assert.True(single.Repetitions >= 5);
            // Any CPU this runs on does at least a GFLOP/s with vectors, and the median never beats the best.
            Assert.InRange(single.Gflops, 1, 1e5);
            Assert.InRange(dbl.Gflops, 0.5, 1e5);
            Assert.True(single.MedianGflops <= single.Gflops);
        }
    }

    [Fact]
    public void DefaultsToTheBestPath_AndCountsEveryThread()
    {
        var result = PeakFlops.Measure<float>(2, TimeSpan.FromMilliseconds(20));
        Assert.Equal(SimdPaths.Best, result.Path);
        Assert.Equal(2, result.Threads);
        Assert.Equal(result.Gflops / 2, result.GflopsPerThread);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PeakFlops.Measure<float>(0, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeakFlops.Measure<float>(1, TimeSpan.Zero));
        Assert.Throws<NotSupportedException>(() => PeakFlops.Measure<Half>(1, TimeSpan.FromSeconds(1)));
    }
}
