using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>
/// A row-major B is read in place by regions of at most <see cref="GemmBlocking.InPlaceMaxExtent"/> rows, and a
/// transposed A by regions of at most that many columns; both operands are packed otherwise. Either way must give
/// bitwise the same C (and the reference's), on every path.
/// These tests change that process-wide limit, so they run with the other global-state tests.
/// </summary>
[Collection(nameof(GemmThreadingCollection))]
public class GemmInPlaceOperandTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    // A row-major B (A not transposed) is read in place by regions of few rows; a transposed A (stored K×M), with either
    // layout of B, by regions of few columns, so its cases add narrow N.
    private static Arbitrary<GemmCase> Cases(bool transposedA) =>
        (from m in Gen.Frequency((3, Gen.Choose(1, 70)), (1, Gen.Choose(250, 300)))
         from n in Gen.Frequency((3, Gen.Choose(1, 140)), (1, transposedA ? Gen.Elements(16, 32, 50, 200, 300) : Gen.Elements(16, 32, 50, 64, 100, 1024)))
         from k in Gen.Frequency((3, Gen.Choose(1, 80)), (1, Gen.Choose(230, 520)))
         from tb in transposedA ? Gen.Elements(false, true) : Gen.Constant(false)
         from epi in Gen.Elements(GemmEpilogue.None, GemmEpilogue.Bias, GemmEpilogue.BiasRelu, GemmEpilogue.Accumulate)
         from seed in Gen.Choose(0, int.MaxValue)
         select new GemmCase(m, n, k, transposedA, tb, epi, seed)).ToArbitrary();

    [Property(MaxTest = 40)]
    public Property InPlaceAndPackedBAgreeBitwise() => Prop.ForAll(Cases(transposedA: false), g => AgreeBitwise(g, "B"));

    [Property(MaxTest = 40)]
    public Property InPlaceAndPackedTransposedAAgreeBitwise() => Prop.ForAll(Cases(transposedA: true), g => AgreeBitwise(g, "A"));

    // With B in place, a row-major A whose rows are gathered from a larger matrix is read in place by rows too (on the
    // paths with a row kernel): its rows must land where the packed rows would, to the bit.
    [Property(MaxTest = 40)]
    public Property GatheredRowsReadInPlaceAndPackedAgreeBitwise() =>
        Prop.ForAll(Cases(transposedA: false), g => AgreeBitwise(g, "gathered A", gathered: true));

    // A row-major B that is packed (every operand is, at limit 0) is packed by each panel's first row tile as it reads it; the
    // block's other row tiles, and with more rows than one block of A (up to 1400 here) the later blocks, read that copy. It must
    // be the pack's, to the bit. A product computed transposed takes a transposed A's rows as its row-major B, so both layouts of A.
    [Property(MaxTest = 30)]
    public Property BPackedByTheKernelAndUpFrontAgreeBitwise() =>
        Prop.ForAll(
            (from m in Gen.Frequency((3, Gen.Choose(1, 70)), (1, Gen.Choose(650, 1400)))
             from n in Gen.Frequency((3, Gen.Choose(1, 140)), (1, Gen.Elements(100, 200, 3072)))
             from k in Gen.Frequency((3, Gen.Choose(1, 80)), (1, Gen.Choose(230, 520)))
             from ta in Gen.Elements(false, true)
             from epi in Gen.Elements(GemmEpilogue.None, GemmEpilogue.Bias, GemmEpilogue.BiasRelu, GemmEpilogue.Accumulate)
             from seed in Gen.Choose(0, int.MaxValue)
             where (long)m * n * k <= 40_000_000
             select new GemmCase(m, n, k, ta, false, epi, seed)).ToArbitrary(),
            g =>
            {
                foreach (SimdPath path in Paths)
                {
                    Assert.True(GlobalSetting.Bitwise(PackedUpFront<float>(g, path, false), PackedUpFront<float>(g, path, true)), $"{g} on {path}: float C differs between B packed by the kernel and up front.");
                    Assert.True(GlobalSetting.Bitwise(PackedUpFront<double>(g, path, false), PackedUpFront<double>(g, path, true)), $"{g} on {path}: double C differs between B packed by the kernel and up front.");
                }
            });

    private static T[] PackedUpFront<T>(GemmCase g, SimdPath path, bool upFront) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] c = [];
        GlobalSetting.With(() => GemmBlocking.PackBInKernel, v => GemmBlocking.PackBInKernel = v, !upFront, () => c = Run<T>(g, path, 0));
        return c;
    }

    [Fact]
    public void RowPanelsAreReadInPlaceOnlyWhileTheBBlockStaysInL2()
    {
        // X·W1 at H = 100 (K blocks of 512): float and double B blocks of 200 and 400 KiB; at H = 500, 1 and 2 MiB do not fit half of L2.
        Assert.True(GemmDriver<float, Avx512Kernel<float>, NoEpilogue>.RowsInPlaceFit(512, 100));
        Assert.True(GemmDriver<double, Avx512Kernel<double>, NoEpilogue>.RowsInPlaceFit(512, 100));
        Assert.False(GemmDriver<float, Avx512Kernel<float>, NoEpilogue>.RowsInPlaceFit(512, 500));
        Assert.False(GemmDriver<double, Avx512Kernel<double>, NoEpilogue>.RowsInPlaceFit(512, 500));
        Assert.True(Avx512Kernel<float>.HasRowKernel && Avx2Kernel<double>.HasRowKernel);
        Assert.False(HasRowKernel<PortableKernel<float>, float>());
    }

    private static bool HasRowKernel<TKernel, T>() where TKernel : IMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T> => TKernel.HasRowKernel;

    // The operand read in place (no limit) and packed (limit 0) give the same bits, and (dense A) the reference's values.
    private static void AgreeBitwise(GemmCase g, string operand, bool gathered = false)
    {
        foreach (SimdPath path in Paths)
        {
            Assert.True(GlobalSetting.Bitwise(Run<float>(g, path, int.MaxValue, gathered), Run<float>(g, path, 0, gathered)), $"{g} on {path}: float C differs between {operand} read in place and packed.");
            Assert.True(GlobalSetting.Bitwise(Run<double>(g, path, int.MaxValue, gathered), Run<double>(g, path, 0, gathered)), $"{g} on {path}: double C differs between {operand} read in place and packed.");
            if (!gathered) WithLimit(int.MaxValue, () => GemmTestData.Check<float>(g, path, 2e-7, 1e-30));
        }
    }

    [Fact]
    public void TrainingShapesReadBInPlaceOnlyWhereItPays()
    {
        // 200-row products read W in place; regions of more than 256 rows, or a row stride of a whole page (N = 1024 floats), pack it.
        Assert.True(GemmDriver<float, Avx2Kernel<float>, NoEpilogue>.ReadsInPlace(200, 100));
        Assert.True(GemmDriver<float, Avx2Kernel<float>, NoEpilogue>.ReadsInPlace(256, 512));
        Assert.False(GemmDriver<float, Avx2Kernel<float>, NoEpilogue>.ReadsInPlace(257, 100));
        Assert.False(GemmDriver<float, Avx2Kernel<float>, NoEpilogue>.ReadsInPlace(200, 1024));
        Assert.False(GemmDriver<double, Avx2Kernel<double>, NoEpilogue>.ReadsInPlace(200, 512));
        Assert.True(GemmDriver<double, Avx2Kernel<double>, NoEpilogue>.ReadsInPlace(200, 500));
    }

    // With gathered, the case's A is rows 3, 5, 7, ... of a taller matrix (a minibatch drawn from a training set).
    private static T[] Run<T>(GemmCase g, SimdPath path, int limit, bool gathered = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(g.Seed);
        T[] a = GemmTestData.Random<T>(rng, (gathered ? 2 * g.M + 4 : g.M) * g.K), b = GemmTestData.Random<T>(rng, g.K * g.N);
        T[] bias = GemmTestData.Random<T>(rng, g.N), c = GemmTestData.Random<T>(rng, g.M * g.N);
        int[] rows = gathered ? Enumerable.Range(0, g.M).Select(i => 2 * i + 3).ToArray() : [];
        WithLimit(limit, () =>
        {
            if (gathered) Gemm.MultiplyGathered<T>(path, false, false, g.M, g.N, g.K, a, rows, b, c, g.Epilogue, bias);
            else Gemm.Multiply<T>(path, g.TransposeA, g.TransposeB, g.M, g.N, g.K, a, b, c, g.Epilogue, bias);
        });
        return c;
    }

    private static void WithLimit(int limit, Action action) =>
        GlobalSetting.With(() => GemmBlocking.InPlaceMaxExtent, v => GemmBlocking.InPlaceMaxExtent = v, limit, action);
}
