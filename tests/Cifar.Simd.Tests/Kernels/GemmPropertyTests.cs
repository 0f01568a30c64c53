using Cifar.Simd.Kernels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

public class GemmPropertyTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    // Sizes around every path's MR (4, 6, 8), NR (4…32) and vector width, primes, 1, and a few large ones.
    private static Gen<int> Dim() => Gen.Frequency(
        (5, Gen.Choose(1, 67)),
        (3, Gen.Elements(1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 63, 64, 65)),
        (1, Gen.Choose(190, 260)));

    private static Arbitrary<GemmCase> Cases() =>
        (from m in Dim()
         from n in Dim()
         from k in Dim()
         from ta in Gen.Elements(false, true)
         from tb in Gen.Elements(false, true)
         from epi in Gen.Elements(GemmEpilogue.None, GemmEpilogue.Bias, GemmEpilogue.BiasRelu, GemmEpilogue.Accumulate)
         from seed in Gen.Choose(0, int.MaxValue)
         select new GemmCase(m, n, k, ta, tb, epi, seed)).ToArbitrary();

    [Property(MaxTest = 100)]
    public Property DoubleMatchesReferenceOnEveryPath() =>
        Prop.ForAll(Cases(), g =>
        {
            foreach (SimdPath path in Paths) GemmTestData.Check<double>(g, path, 1e-12 / 64, 1e-300);
        });

    [Property(MaxTest = 100)]
    public Property FloatMatchesReferenceOnEveryPath() =>
        Prop.ForAll(Cases(), g =>
        {
            foreach (SimdPath path in Paths) GemmTestData.Check<float>(g, path, 2e-7, 1e-30);
        });

    [Fact]
    public void ExhaustiveSmallShapesAllLayoutsAndEpilogues()
    {
        int[] sizes = [1, 2, 5, 7, 8, 9, 16, 17, 33];
        int seed = 1;
        foreach (SimdPath path in Paths)
            foreach (int m in sizes)
                foreach (int n in sizes)
                    foreach (bool ta in new[] { false, true })
                        foreach (bool tb in new[] { false, true })
                            foreach (GemmEpilogue epi in Enum.GetValues<GemmEpilogue>())
                            {
                                var g = new GemmCase(m, n, 1 + (m * 7 + n) % 13, ta, tb, epi, seed++);
                                GemmTestData.Check<float>(g, path, 2e-7, 1e-30);
                                GemmTestData.Check<double>(g, path, 1e-12 / 64, 1e-300);
                            }
    }

    [Fact]
    public void DeepReductionCrossesSeveralKBlocks()
    {
        // K larger than every path's KC (≤ 512) exercises the first/last block logic of each epilogue.
        foreach (SimdPath path in Paths)
            foreach (GemmEpilogue epi in Enum.GetValues<GemmEpilogue>())
            {
                GemmTestData.Check<float>(new GemmCase(19, 37, 1100, false, false, epi, 7), path, 2e-7, 1e-30);
                GemmTestData.Check<double>(new GemmCase(19, 37, 1100, true, true, epi, 8), path, 1e-12 / 64, 1e-300);
            }
    }

    [Property(MaxTest = 8)]
    public Property ChecksumHoldsForLargeProducts() =>
        Prop.ForAll(Gen.Choose(0, 1 << 30).ToArbitrary(), seed =>
        {
            var rng = new System.Random(seed);
            int m = rng.Next(300, 420), n = rng.Next(250, 400), k = rng.Next(500, 800);
            bool ta = rng.Next(2) == 1, tb = rng.Next(2) == 1;
            float[] a = GemmTestData.Random<float>(rng, m * k), b = GemmTestData.Random<float>(rng, k * n);
            double[] t = GemmTestData.Random<double>(rng, n);
            var c = new float[m * n];
            foreach (SimdPath path in Paths)
            {
                Gemm.Multiply<float>(path, ta, tb, m, n, k, a, b, c);
                // ‖C·t − A·(B·t)‖ against ‖|A|·(|B|·|t|)‖: an O(MN + MK + KN) check of an O(MNK) product.
                var bt = new double[k];
                var absBt = new double[k];
                for (int p = 0; p < k; p++)
                    for (int j = 0; j < n; j++)
                    {
                        double bpj = ReferenceGemm.B<float>(b, tb, k, n, p, j);
                        bt[p] += bpj * t[j];
                        absBt[p] += Math.Abs(bpj * t[j]);
                    }
                double errSq = 0, magSq = 0;
                for (int i = 0; i < m; i++)
                {
                    double ct = 0, abt = 0, mag = 0;
                    for (int j = 0; j < n; j++) ct += c[i * n + j] * t[j];
                    for (int p = 0; p < k; p++)
                    {
                        double aip = ReferenceGemm.A<float>(a, ta, m, k, i, p);
                        abt += aip * bt[p];
                        mag += Math.Abs(aip) * absBt[p];
                    }
                    errSq += (ct - abt) * (ct - abt);
                    magSq += mag * mag;
                }
                Assert.True(Math.Sqrt(errSq) <= k * 2e-7 * Math.Sqrt(magSq),
                    $"{path} {m}×{k}·{k}×{n} ta={ta} tb={tb}: checksum error {Math.Sqrt(errSq):E3} vs magnitude {Math.Sqrt(magSq):E3}.");
            }
        });
}
