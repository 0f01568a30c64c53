using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>
/// A product whose N pads badly to the microkernel's NR is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ and written back
/// transposed with the epilogue (<see cref="Gemm.ComputeTransposed"/>). Both formulations sum every element
/// in the same order, so they must agree bit for bit, on every path, gathered or not, for any thread count.
/// These tests force the formulation process-wide, so they run with the other global-state tests.
/// </summary>
[Collection(nameof(GemmThreadingCollection))]
public class GemmTransposedTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    private static Gen<int> Dim() => Gen.Frequency(
        (4, Gen.Choose(1, 45)),
        (2, Gen.Elements(7, 8, 9, 10, 15, 16, 17, 20, 31, 32, 33, 50, 100)),
        (1, Gen.Choose(190, 260)));

    // Accumulate never takes the transposed form (C's old values would join the sum in another order).
    private static Arbitrary<(GemmCase Case, int SourceRows)> Cases() =>
        (from m in Dim()
         from n in Dim()
         from k in Dim()
         from ta in Gen.Elements(false, true)
         from tb in Gen.Elements(false, true)
         from epi in Gen.Elements(GemmEpilogue.None, GemmEpilogue.Bias, GemmEpilogue.BiasRelu)
         from seed in Gen.Choose(0, int.MaxValue)
         from extra in Gen.Choose(0, 40)
         select (new GemmCase(m, n, k, ta, tb, epi, seed), extra)).ToArbitrary();

    [Property(MaxTest = 40)]
    public Property TransposedAndDirectFormulationsAgreeBitwise() =>
        Prop.ForAll(Cases(), x =>
        {
            var g = x.Case;
            foreach (SimdPath path in Paths)
            {
                Assert.True(GlobalSetting.Bitwise(Run<float>(g, path, 2, null), Run<float>(g, path, 1, null)), $"{g} on {path}: float C differs between the formulations.");
                Assert.True(GlobalSetting.Bitwise(Run<double>(g, path, 2, null), Run<double>(g, path, 1, null)), $"{g} on {path}: double C differs between the formulations.");
                int[] rows = Rows(g, x.SourceRows);
                Assert.True(GlobalSetting.Bitwise(Run<float>(g, path, 2, rows), Run<float>(g, path, 1, rows)), $"{g} gathered on {path}: float C differs between the formulations.");
                WithMode(2, () => GemmTestData.Check<float>(g, path, 2e-7, 1e-30));
                WithMode(2, () => GemmTestData.Check<double>(g, path, 1e-15, 1e-300));
            }
        });

    [Fact]
    public void TrainingShapesAgreeAcrossThreadCounts()
    {
        // X[idx]·W1 and X[idx]ᵀ·dH at H = 50 and 100: both are computed transposed, split over half panels of columns
        // (every part but the first fills its own thread's scratch).
        foreach (var g in new[]
        {
            new GemmCase(200, 50, 3072, false, false, GemmEpilogue.BiasRelu, 1),
            new GemmCase(3072, 50, 200, true, false, GemmEpilogue.None, 2),
            new GemmCase(3072, 100, 200, true, false, GemmEpilogue.None, 3),
            new GemmCase(200, 100, 3072, false, false, GemmEpilogue.Bias, 4),
            new GemmCase(232, 50, 300, false, true, GemmEpilogue.BiasRelu, 5), // 15 half panels: two threads split one panel
            new GemmCase(40, 600, 300, false, true, GemmEpilogue.Bias, 6), // Cᵀ has 60 row panels and 2 column panels: a row split
        })
        {
            int[] rows = Rows(g, 500);
            AgreeAcrossThreads(g, rows);
        }

        static void AgreeAcrossThreads(GemmCase g, int[] rows)
        {
            float[] serial = [];
            ThreadCounts.ForEach(threads =>
            {
                float[] c = Run<float>(g, Gemm.Path, 2, rows);
                if (threads == 1) serial = c;
                else Assert.True(GlobalSetting.Bitwise(serial, c), $"{g}: {threads} threads differ from 1.");
                Assert.True(GlobalSetting.Bitwise(c, Run<float>(g, Gemm.Path, 1, rows)), $"{g} on {threads} threads: the formulations differ.");
            });
        }
    }

    [Fact]
    public void NarrowOutputsOfLongProductsAreComputedTransposed()
    {
        // The AVX-512 float tile is 10×32: 50 or 100 columns pad to 64 or 112, as rows they pad to nothing.
        Assert.True(Gemm.ComputeTransposed(200, 50, 3072, 10, 32));
        Assert.True(Gemm.ComputeTransposed(3072, 50, 200, 10, 32));
        Assert.True(Gemm.ComputeTransposed(3072, 100, 200, 10, 32));
        Assert.True(Gemm.ComputeTransposed(200, 100, 3072, 10, 32));   // 112 padded columns against 208 (200 + a half panel)
        Assert.False(Gemm.ComputeTransposed(200, 500, 3072, 10, 32));  // 500 columns pad to 512 already
        Assert.False(Gemm.ComputeTransposed(1024, 1024, 1024, 10, 32)); // C too large for the scratch, and nothing to gain
        Assert.False(Gemm.ComputeTransposed(200, 50, 10, 10, 32));      // K too short to pay for the pass over C
        Assert.False(Gemm.ComputeTransposed(50, 200, 3072, 10, 32));    // already the better way round
    }

    [Fact]
    public void NaNPropagatesThroughTheTransposedRelu()
    {
        foreach (SimdPath path in Paths)
        {
            var a = new float[20 * 40];
            var b = new float[40 * 9];
            Array.Fill(b, 1f);
            a[3 * 40 + 5] = float.NaN;
            var c = new float[20 * 9];
            WithMode(2, () => Gemm.Multiply<float>(path, false, false, 20, 9, 40, a, b, c, GemmEpilogue.BiasRelu, new float[9]));
            for (int j = 0; j < 9; j++)
            {
                Assert.True(float.IsNaN(c[3 * 9 + j]), $"{path}: C[3,{j}] = {c[3 * 9 + j]}, expected NaN.");
                Assert.Equal(0f, c[4 * 9 + j]);
            }
        }
    }

    private static int[] Rows(GemmCase g, int extra)
    {
        var rng = new System.Random(g.Seed ^ 0x5bd1e995);
        int stored = g.TransposeA ? g.K : g.M, source = stored + extra;
        var rows = new int[stored];
        for (int r = 0; r < stored; r++) rows[r] = rng.Next(source);
        return rows;
    }

    // C for the case under the given formulation mode; with rows, A is gathered from a larger source.
    private static T[] Run<T>(GemmCase g, SimdPath path, int mode, int[]? rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(g.Seed);
        int rowLength = g.TransposeA ? g.M : g.K;
        int sourceRows = rows is null ? (g.TransposeA ? g.K : g.M) : rows.Max() + 1;
        T[] a = GemmTestData.Random<T>(rng, sourceRows * rowLength), b = GemmTestData.Random<T>(rng, g.K * g.N);
        T[] bias = GemmTestData.Random<T>(rng, g.N), c = GemmTestData.Random<T>(rng, g.M * g.N);
        WithMode(mode, () =>
        {
            if (rows is null) Gemm.Multiply<T>(path, g.TransposeA, g.TransposeB, g.M, g.N, g.K, a, b, c, g.Epilogue, bias);
            else Gemm.MultiplyGathered<T>(path, g.TransposeA, g.TransposeB, g.M, g.N, g.K, a, rows, b, c, g.Epilogue, bias);
        });
        return c;
    }

    private static void WithMode(int mode, Action action) =>
        GlobalSetting.With(() => Gemm.TransposeMode, v => Gemm.TransposeMode = v, mode, action);
}
