using System.Runtime.InteropServices;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tests.Support;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>Tests that change the process-wide thread count run alone.</summary>
[CollectionDefinition(nameof(GemmThreadingCollection), DisableParallelization = true)]
public class GemmThreadingCollection;

[Collection(nameof(GemmThreadingCollection))]
public class GemmThreadingTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    [Theory]
    [InlineData(200, 100, 3072, false, false, GemmEpilogue.BiasRelu)] // X·W
    [InlineData(3072, 100, 200, true, false, GemmEpilogue.Accumulate)] // Xᵀ·dout
    [InlineData(200, 3072, 100, false, true, GemmEpilogue.None)] // dout·Wᵀ
    [InlineData(257, 199, 131, false, false, GemmEpilogue.Bias)]
    [InlineData(257, 199, 131, true, true, GemmEpilogue.None)]
    [InlineData(33, 1001, 517, true, false, GemmEpilogue.Bias)]
    [InlineData(600, 199, 517, false, false, GemmEpilogue.Bias)] // row split, each part packing B itself, edge panel
    [InlineData(400, 1024, 517, false, false, GemmEpilogue.None)] // row split sharing a row-major B (4 KiB rows) packed by rows
    [InlineData(400, 199, 517, false, true, GemmEpilogue.None)] // row split sharing a B stored N×K, packed by panels
    public void ResultsAreBitwiseIdenticalForAnyThreadCount(int m, int n, int k, bool ta, bool tb, GemmEpilogue epi)
    {
        Assert.True((long)m * n * k >= Gemm.ParallelThreshold);
        var rng = new System.Random(m + n + k);
        float[] a = GemmTestData.Random<float>(rng, m * k), b = GemmTestData.Random<float>(rng, k * n);
        float[] bias = GemmTestData.Random<float>(rng, n), c0 = GemmTestData.Random<float>(rng, m * n);
        foreach (SimdPath path in Paths)
        {
            float[]? first = null;
            ThreadCounts.ForEach(threads =>
            {
                var c = (float[])c0.Clone();
                Gemm.Multiply<float>(path, ta, tb, m, n, k, a, b, c, epi, bias);
                if (first is null) first = c;
                else Assert.True(MemoryMarshal.AsBytes(first.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(c.AsSpan())),
                    $"{path}: {threads} threads differ from 1 thread.");
            });
        }
    }

    [Fact]
    public void ConcurrentCallersGetTheSameResult()
    {
        const int m = 211, n = 157, k = 300;
        var rng = new System.Random(11);
        double[] a = GemmTestData.Random<double>(rng, m * k), b = GemmTestData.Random<double>(rng, k * n);
        var expected = new double[m * n];
        Gemm.Multiply<double>(false, false, m, n, k, a, b, expected);
        var outputs = new double[4][];
        Parallel.For(0, outputs.Length, i =>
        {
            outputs[i] = new double[m * n];
            for (int rep = 0; rep < 5; rep++) Gemm.Multiply<double>(false, false, m, n, k, a, b, outputs[i]);
        });
        foreach (double[] c in outputs) Assert.Equal(expected, c);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void WarmCallsAllocateNothing(int threads)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = threads;
            var rng = new System.Random(1);
            const int m = 200, n = 100, k = 3072;
            float[] a = GemmTestData.Random<float>(rng, m * k), b = GemmTestData.Random<float>(rng, k * n);
            float[] bias = new float[n], c = new float[m * n];
            double[] ad = GemmTestData.Random<double>(rng, 37 * 41), bd = GemmTestData.Random<double>(rng, 41 * 43), cd = new double[37 * 43];
            void Calls()
            {
                Gemm.Multiply<float>(false, false, m, n, k, a, b, c, GemmEpilogue.BiasRelu, bias);
                Gemm.Multiply<float>(true, false, k, n, m, a, c, b, GemmEpilogue.Accumulate);
                Gemm.Multiply<float>(false, true, m, k, n, c, b, a);
                Gemm.Multiply<double>(true, true, 37, 43, 41, ad, bd, cd, GemmEpilogue.None);
            }
            Calls();
            long before = GC.GetAllocatedBytesForCurrentThread();
            Calls();
            Calls();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Fact]
    public void ThreadCountEnvironmentVariableIsParsed()
    {
        Assert.Equal(Environment.ProcessorCount, Parallelism.ParseThreadCount(null));
        Assert.Equal(3, Parallelism.ParseThreadCount(" 3 "));
        Assert.Contains(Parallelism.EnvironmentVariable, Assert.Throws<ArgumentException>(() => Parallelism.ParseThreadCount("0")).Message);
        Assert.Contains(Parallelism.EnvironmentVariable, Assert.Throws<ArgumentException>(() => Parallelism.ParseThreadCount("many")).Message);
    }

    [Fact]
    public void ThreadCountMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.ThreadCount = 0);
        Assert.True(Parallelism.ThreadCount >= 1);
    }
}
