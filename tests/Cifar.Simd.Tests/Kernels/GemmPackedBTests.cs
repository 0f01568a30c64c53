using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>
/// op(B) packed once (<see cref="Gemm.PackB{T}(SimdPath, bool, int, int, ReadOnlySpan{T}, PackedB{T})"/>) serves
/// products bitwise equal to <see cref="Gemm.Multiply{T}(SimdPath, bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T})"/>
/// on every path, for 1, 2 and 3 threads, including several products of row chunks against one packing.
/// These tests change the process-wide thread count, so they run with the other global-state tests.
/// </summary>
[Collection(nameof(GemmThreadingCollection))]
public class GemmPackedBTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    // Few and many rows (the parallel row split), narrow and CS231n-wide N, one K block and several.
    private static Arbitrary<GemmCase> Cases() =>
        (from m in Gen.Frequency((3, Gen.Choose(1, 70)), (1, Gen.Choose(250, 1100)))
         from n in Gen.Frequency((3, Gen.Choose(1, 140)), (1, Gen.Elements(16, 32, 50, 100, 500, 512)))
         from k in Gen.Frequency((3, Gen.Choose(1, 80)), (1, Gen.Choose(230, 520)))
         from tb in Gen.Elements(false, true)
         from epi in Gen.Elements(GemmEpilogue.None, GemmEpilogue.Bias, GemmEpilogue.BiasRelu, GemmEpilogue.Accumulate)
         from seed in Gen.Choose(0, int.MaxValue)
         select new GemmCase(m, n, k, false, tb, epi, seed)).ToArbitrary();

    [Property(MaxTest = 40)]
    public Property PackedAndUnpackedBAgreeBitwise() => Prop.ForAll(Cases(), g =>
    {
        foreach (SimdPath path in Paths)
        {
            Check<float>(g, path);
            Check<double>(g, path);
        }
    });

    // B large enough to be packed by several parts (N×K ≥ ParallelThreshold / 4), N not a multiple of NR, several K blocks.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PackingSplitOverThreadsAgreesBitwise(bool transposeB)
    {
        var g = new GemmCase(90, 300, 1000, false, transposeB, GemmEpilogue.Bias, 7);
        Assert.True((long)g.N * g.K >= Gemm.ParallelThreshold / 4);
        foreach (SimdPath path in Paths)
        {
            Check<float>(g, path);
            Check<double>(g, path);
        }
    }

    // The packed product, whole and in three row chunks against the same packing, for 1, 2 and 3 threads.
    private static void Check<T>(GemmCase g, SimdPath path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(g.Seed);
        T[] a = GemmTestData.Random<T>(rng, g.M * g.K), b = GemmTestData.Random<T>(rng, g.K * g.N);
        T[] bias = GemmTestData.Random<T>(rng, g.N), c0 = GemmTestData.Random<T>(rng, g.M * g.N);
        T[] expected = (T[])c0.Clone();
        Gemm.Multiply<T>(path, false, g.TransposeB, g.M, g.N, g.K, a, b, expected, g.Epilogue, bias);
        var packed = new PackedB<T>();
        ThreadCounts.ForEach(threads =>
        {
            Gemm.PackB<T>(path, g.TransposeB, g.N, g.K, b, packed);
            Assert.Equal(path, packed.Path);
            T[] whole = (T[])c0.Clone();
            Gemm.MultiplyPacked<T>(g.M, g.N, g.K, a, packed, whole, g.Epilogue, bias);
            Assert.True(GlobalSetting.Bitwise(expected, whole), $"{g} on {path}, {threads} threads: {typeof(T).Name} C differs with B packed ahead.");

            T[] chunked = (T[])c0.Clone();
            int[] cuts = [0, g.M / 3, 2 * g.M / 3, g.M];
            for (int i = 0; i + 1 < cuts.Length; i++)
            {
                int r0 = cuts[i], rows = cuts[i + 1] - cuts[i];
                Gemm.MultiplyPacked<T>(rows, g.N, g.K, a.AsSpan(r0 * g.K, rows * g.K), packed, chunked.AsSpan(r0 * g.N, rows * g.N), g.Epilogue, bias);
            }
            Assert.True(GlobalSetting.Bitwise(expected, chunked), $"{g} on {path}, {threads} threads: {typeof(T).Name} C differs in row chunks against one packing.");
        });
    }

    [Fact]
    public void OnePackingGrowsAndTakesEachNewShape()
    {
        var packed = new PackedB<float>();
        foreach (var (n, k) in new[] { (500, 3072), (7, 3), (100, 200), (512, 1024) })
        {
            var rng = new System.Random(n + k);
            float[] a = GemmTestData.Random<float>(rng, 300 * k), b = GemmTestData.Random<float>(rng, k * n);
            float[] expected = new float[300 * n], got = new float[300 * n];
            Gemm.Multiply<float>(false, false, 300, n, k, a, b, expected);
            Gemm.PackB<float>(false, n, k, b, packed);
            Gemm.MultiplyPacked<float>(300, n, k, a, packed, got);
            Assert.True(GlobalSetting.Bitwise(expected, got), $"{k}×{n}: packed product differs.");
        }
    }

    [Fact]
    public void ShapeMismatchesAreNamed()
    {
        var packed = new PackedB<float>();
        Gemm.PackB<float>(false, 10, 20, new float[200], packed);
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked<float>(4, 10, 21, new float[84], packed, new float[40]));
        Assert.Contains("20×10", e.Message);
        Assert.Contains("21×10", e.Message);
        Assert.Equal("packedB", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gemm.PackB<float>(false, 10, 20, new float[199], packed));
        Assert.Equal("b", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked<float>(4, 10, 20, new float[79], packed, new float[40]));
        Assert.Equal("a", e.ParamName);
    }

    [Fact]
    public void OnlyProductsThatWouldPackBAskForItPackedAhead()
    {
        // 200 rows against a 3072×100 W1 read it in place; 1024-row inference chunks pack it.
        Assert.False(Gemm.PacksB<float>(200, 100));
        Assert.True(Gemm.PacksB<float>(1024, 500));
        Assert.True(Gemm.PacksB<float>(200, 1024));
    }
}
