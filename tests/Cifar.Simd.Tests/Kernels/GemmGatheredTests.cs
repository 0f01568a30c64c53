using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary><see cref="Gemm.MultiplyGathered{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T})"/>
/// must equal, bit for bit, the plain product of the explicitly gathered matrix (checked against the reference there).</summary>
[Collection(nameof(GemmThreadingCollection))]
public class GemmGatheredTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    private static Gen<int> Dim() => Gen.Frequency(
        (5, Gen.Choose(1, 41)),
        (2, Gen.Elements(7, 8, 9, 15, 16, 17, 31, 32, 33, 49, 50)),
        (1, Gen.Choose(190, 230)));

    private static Arbitrary<(GemmCase Case, int SourceRows)> Cases() =>
        (from m in Dim()
         from n in Dim()
         from k in Dim()
         from ta in Gen.Elements(false, true)
         from tb in Gen.Elements(false, true)
         from epi in Gen.Elements(GemmEpilogue.None, GemmEpilogue.Bias, GemmEpilogue.BiasRelu, GemmEpilogue.Accumulate)
         from seed in Gen.Choose(0, int.MaxValue)
         from extra in Gen.Choose(0, 300)
         select (new GemmCase(m, n, k, ta, tb, epi, seed), extra)).ToArbitrary();

    [Property(MaxTest = 60)]
    public Property FloatGatheredEqualsCopiedRowsOnEveryPath() =>
        Prop.ForAll(Cases(), x => { foreach (var path in Paths) CheckBitwise<float>(x.Case, x.SourceRows, path); });

    [Property(MaxTest = 40)]
    public Property DoubleGatheredEqualsCopiedRowsOnEveryPath() =>
        Prop.ForAll(Cases(), x => { foreach (var path in Paths) CheckBitwise<double>(x.Case, x.SourceRows, path); });

    [Fact]
    public void TrainingShapesWithRepeatedRowsAcrossThreads()
    {
        // The two products of a minibatch drawn with replacement: X[idx]·W1 and X[idx]ᵀ·dH, large enough to run in parallel.
        ThreadCounts.ForEach(_ =>
        {
            CheckBitwise<float>(new GemmCase(200, 50, 3072, false, false, GemmEpilogue.BiasRelu, 11), 500, Gemm.Path);
            CheckBitwise<float>(new GemmCase(3072, 50, 200, true, false, GemmEpilogue.None, 12), 500, Gemm.Path);
        });
    }

    [Fact]
    public void ProductsOverSeveralBlocksPrefetchTheNextOneWithoutChangingC()
    {
        // Computed transposed, several column blocks and K blocks of a gathered B, whose next block the microkernels
        // prefetch: the prefetched lines never change a sum. (And several row and K blocks of a gathered A, not transposed.)
        ThreadCounts.ForEach(_ =>
        {
            foreach (var path in Paths)
            {
                CheckBitwise<float>(new GemmCase(700, 64, 600, false, false, GemmEpilogue.BiasRelu, 21), 300, path);
                CheckBitwise<double>(new GemmCase(700, 64, 600, false, false, GemmEpilogue.Bias, 22), 300, path);
                CheckBitwise<float>(new GemmCase(1300, 50, 600, false, false, GemmEpilogue.BiasRelu, 23), 300, path);
                CheckBitwise<double>(new GemmCase(1300, 50, 600, false, false, GemmEpilogue.None, 24), 300, path);
            }
        });
    }

    [Fact]
    public void RefusesARowOutsideTheSource()
    {
        var a = new float[10 * 4];
        var b = new float[4 * 3];
        var c = new float[2 * 3];
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyGathered<float>(false, false, 2, 3, 4, a, [3, 10], b, c));
        Assert.Contains("aRows[1] = 10", e.Message);
        Assert.Contains("10 rows of 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyGathered<float>(false, false, 2, 3, 4, a, [-1, 0], b, c));
        Assert.Contains("aRows[0] = -1", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyGathered<float>(true, false, 2, 3, 4, a, [0, 1], b, c));
        Assert.Contains("holds 2 row indices", e.Message);
        Assert.Contains("has 4 rows", e.Message);
    }

    private static void CheckBitwise<T>(GemmCase g, int extraRows, SimdPath path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(g.Seed);
        int storedRows = g.TransposeA ? g.K : g.M, rowLength = g.TransposeA ? g.M : g.K;
        int sourceRows = storedRows + extraRows;
        T[] source = GemmTestData.Random<T>(rng, sourceRows * rowLength);
        var rows = new int[storedRows];
        for (int r = 0; r < storedRows; r++) rows[r] = rng.Next(sourceRows);
        var gathered = new T[storedRows * rowLength];
        for (int r = 0; r < storedRows; r++)
            source.AsSpan(rows[r] * rowLength, rowLength).CopyTo(gathered.AsSpan(r * rowLength));
        T[] b = GemmTestData.Random<T>(rng, g.K * g.N), bias = GemmTestData.Random<T>(rng, g.N);
        T[] expected = GemmTestData.Random<T>(rng, g.M * g.N);
        T[] actual = (T[])expected.Clone();
        Gemm.Multiply<T>(path, g.TransposeA, g.TransposeB, g.M, g.N, g.K, gathered, b, expected, g.Epilogue, bias);
        Gemm.MultiplyGathered<T>(path, g.TransposeA, g.TransposeB, g.M, g.N, g.K, source, rows, b, actual, g.Epilogue, bias);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!expected[i].Equals(actual[i]) && !(T.IsNaN(expected[i]) && T.IsNaN(actual[i])))
                Assert.Fail($"{g} on {path}, {sourceRows} source rows: C[{i / g.N},{i % g.N}] = {actual[i]} gathered vs {expected[i]} copied.");
        }
    }
}
