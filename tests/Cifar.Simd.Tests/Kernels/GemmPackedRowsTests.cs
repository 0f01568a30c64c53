using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>
/// The rows a split-K product leaves packed (<c>rowsOut</c> of
/// <see cref="Gemm.MultiplySplitK{T}(SimdPath, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T}, Span{T}, PackedB{T})"/>)
/// serve <see cref="Gemm.MultiplyTransposedPacked{T}"/>: bitwise the gathered product Aᵀ·B it replaces, on every path, for
/// 1–4 threads, with the transposed formulation chosen by shape and forced; and a buffer left holding nothing is refused.
/// These tests change process-wide settings, so they run with the other global-state tests.
/// </summary>
[Collection(nameof(GemmThreadingCollection))]
public class GemmPackedRowsTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    // M is the batch (one K block of the weight gradient, or several above 1.25·KC), N the hidden units, K the features
    // (not a multiple of any panel width, so the last panel is padded).
    private static Arbitrary<GemmCase> Cases() =>
        (from m in Gen.Frequency((3, Gen.Choose(2, 70)), (1, Gen.Elements(200, 300, 650)))
         from n in Gen.Frequency((2, Gen.Choose(1, 120)), (1, Gen.Elements(10, 50, 100)))
         from k in Gen.Frequency((3, Gen.Choose(2, 90)), (1, Gen.Choose(300, 800)))
         from mode in Gen.Elements(0, 2)
         from seed in Gen.Choose(0, int.MaxValue)
         select new GemmCase(m, n, k, false, false, mode == 0 ? GemmEpilogue.None : GemmEpilogue.BiasRelu, seed)).ToArbitrary();

    [Property(MaxTest = 30)]
    public Property PackedRowsGiveTheGatheredWeightGradientBitwise() => Prop.ForAll(Cases(), g =>
    {
        // The epilogue field carries the transpose mode: None chooses by shape, BiasRelu forces the transposed formulation.
        int mode = g.Epilogue == GemmEpilogue.None ? 0 : 2;
        foreach (SimdPath path in Paths)
        {
            GlobalSetting.With(() => Gemm.TransposeMode, v => Gemm.TransposeMode = v, mode, () =>
            {
                Check<float>(g, path, mode);
                Check<double>(g, path, mode);
            });
        }
    });

    private static void Check<T>(GemmCase g, SimdPath path, int mode) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(g.Seed);
        int stored = g.M + 5;
        T[] x = GemmTestData.Random<T>(rng, stored * g.K), w = GemmTestData.Random<T>(rng, g.K * g.N), bias = GemmTestData.Random<T>(rng, g.N);
        T[] dh = GemmTestData.Random<T>(rng, g.M * g.N);
        int[] rows = Enumerable.Range(0, g.M).Select(_ => rng.Next(stored)).ToArray();
        T[] expected = new T[g.K * g.N];
        Gemm.MultiplyGathered<T>(path, true, false, g.K, g.N, g.M, x, rows, dh, expected);
        var scratch = new T[Gemm.SplitKScratchLength<T>(g.M, g.N)];
        var packed = new PackedB<T>();
        foreach (int threads in new[] { 1, 2, 3, 4 })
        {
            ThreadCounts.With(threads, () =>
            {
                T[] hidden = new T[g.M * g.N], dw = GemmTestData.Random<T>(rng, g.K * g.N);
                bool filled = Gemm.MultiplySplitK<T>(path, g.M, g.N, g.K, x, rows, w, hidden, GemmEpilogue.BiasRelu, bias, scratch, packed);
                // Forcing the transposed formulation makes every path copy the rows: the copy is tested on each.
                if (mode == 2) Assert.True(filled, $"{g} on {path}: the forced transposed formulation left no packed rows.");
                if (!filled)
                {
                    Assert.Equal(0, packed.N);
                    Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposedPacked<T>(g.K, g.N, g.M, packed, dh, dw));
                    return;
                }
                Assert.Equal((g.K, g.M, path), (packed.N, packed.K, packed.Path));
                Gemm.MultiplyTransposedPacked<T>(g.K, g.N, g.M, packed, dh, dw);
                Assert.True(GlobalSetting.Bitwise(expected, dw), $"{g} on {path}, {threads} threads: {typeof(T).Name} Aᵀ·B from the packed rows differs.");
            });
        }
    }

    [Fact]
    public void ABufferLeftEmptyByAProductThatCouldNotFillItIsRefused()
    {
        const int m = 200, n = 50, k = 300;
        var rng = new System.Random(7);
        float[] x = GemmTestData.Random<float>(rng, m * k), w = GemmTestData.Random<float>(rng, k * n), bias = new float[n];
        float[] hidden = new float[m * n], dh = new float[m * n], dw = new float[k * n], scratch = new float[Gemm.SplitKScratchLength<float>(m, n)];
        var packed = new PackedB<float>();
        GlobalSetting.With(() => Gemm.TransposeMode, v => Gemm.TransposeMode = v, 2, () =>
            Assert.True(Gemm.MultiplySplitK<float>(m, n, k, x, default, w, hidden, GemmEpilogue.BiasRelu, bias, scratch, packed)));
        Assert.Equal((k, m), (packed.N, packed.K));

        // The next product runs untransposed: what the buffer held belongs to the rows before, so it must not be read.
        GlobalSetting.With(() => Gemm.TransposeMode, v => Gemm.TransposeMode = v, 1, () =>
            Assert.False(Gemm.MultiplySplitK<float>(m, n, k, x, default, w, hidden, GemmEpilogue.BiasRelu, bias, scratch, packed)));
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposedPacked<float>(k, n, m, packed, dh, dw));
        Assert.Contains($"0×0, but the product needs A {m}×{k}", e.Message);
    }
}
