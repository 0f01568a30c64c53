using Cifar.Simd.Random;

namespace Cifar.Simd.Tests.Random;

public class NumpyRandomTests
{
    public static TheoryData<int> SeedIndices => [0, 1];

    [Fact]
    public void KnownSeedZeroValues()
    {
        var rng = new NumpyRandom(0);
        Assert.Equal(0.5488135039273248, rng.RandomSample());

        rng.Seed(0);
        Assert.Equal(1.764052345967664, rng.StandardNormal());
        Assert.Equal(0.4001572083672233, rng.StandardNormal());
        Assert.Equal(0.9787379841057392, rng.StandardNormal());
    }

    [Fact]
    public void FirstRawWordMatchesReferenceMt19937()
    {
        // 2357136044 is the first genrand_int32 output for init_genrand(0); proves init_genrand, not init_by_array.
        var rng = new NumpyRandom(0);
        Assert.Equal(2357136044u, rng.NextUInt32());
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void RandMatchesNumpy(int s)
    {
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        double[] expected = NumpyGolden.Rand[s];
        var actual = new double[expected.Length];
        rng.Rand(actual);
        Assert.Equal(expected, actual);

        rng.Seed(NumpyGolden.Seeds[s]);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], rng.RandomSample());
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void RandnMatchesNumpy(int s)
    {
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        double[] expected = NumpyGolden.Randn[s];
        var actual = new double[expected.Length];
        rng.Randn(actual);
        Assert.Equal(expected, actual);

        rng.Seed(NumpyGolden.Seeds[s]);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], rng.StandardNormal());
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void ScaledRandnMatchesNumpy(int s)
    {
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        float[] expected = NumpyGolden.RandnScaledFloat[s];
        var actual = new float[expected.Length];
        rng.Randn(actual, 0.001);
        Assert.Equal(expected, actual);

        rng.Seed(NumpyGolden.Seeds[s]);
        var asDouble = new double[expected.Length];
        rng.Randn(asDouble, 0.001);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(0.001 * NumpyGolden.Randn[s][i], asDouble[i]);
            Assert.Equal(expected[i], (float)asDouble[i]);
        }
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void RandIntMatchesNumpy(int s)
    {
        var rng = new NumpyRandom(0);
        foreach (var (low, high, values) in NumpyGolden.RandInt)
        {
            rng.Seed(NumpyGolden.Seeds[s]);
            long[] expected = values[s];
            var actual = new long[expected.Length];
            for (int i = 0; i < actual.Length; i++)
                actual[i] = rng.RandInt(low, high);
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void ChoiceMatchesNumpy(int s)
    {
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        int[] expected = NumpyGolden.Choice49000[s];
        var actual = new int[expected.Length];
        rng.Choice(49000, actual);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void PermutationMatchesNumpy(int s)
    {
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        Assert.Equal(NumpyGolden.Permutation10[s], rng.Permutation(10));

        rng.Seed(NumpyGolden.Seeds[s]);
        int[] big = rng.Permutation(49000);
        Assert.Equal(NumpyGolden.Permutation49000Head[s], big.AsSpan(0, NumpyGolden.Permutation49000Head[s].Length).ToArray());
        Array.Sort(big);
        for (int i = 0; i < big.Length; i++)
            Assert.Equal(i, big[i]);
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void ShuffleMatchesPermutation(int s)
    {
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        string[] names = ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"];
        rng.Shuffle<string>(names);
        string[] expected = NumpyGolden.Permutation10[s].Select(i => "a" + i).ToArray();
        Assert.Equal(expected, names);
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void GaussianCacheSurvivesRandAndSeedClearsIt(int s)
    {
        double[] expected = NumpyGolden.Mixed[s];
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        Assert.Equal(expected[0], rng.StandardNormal());
        Assert.Equal(expected[1], rng.RandomSample());
        Assert.Equal(expected[2], rng.StandardNormal());
        Assert.Equal(expected[3], rng.StandardNormal());
        rng.Seed(NumpyGolden.Seeds[s]);
        Assert.Equal(expected[4], rng.StandardNormal());
        Assert.Equal(expected[0], expected[4]);
    }

    [Theory]
    [MemberData(nameof(SeedIndices))]
    public void GetStateMatchesNumpyGetState(int s)
    {
        var rng = new NumpyRandom(NumpyGolden.Seeds[s]);
        rng.Randn(new double[3]);
        NumpyRandomState state = rng.GetState();
        Assert.Equal(NumpyRandomState.KeyLength, state.Key.Length);
        Assert.Equal(NumpyGolden.StateKeyHead[s], state.Key.AsSpan(0, 8).ToArray());
        Assert.Equal(NumpyGolden.StateKeyTail[s], state.Key.AsSpan(NumpyRandomState.KeyLength - 8, 8).ToArray());
        Assert.Equal(NumpyGolden.StatePosition[s], state.Position);
        Assert.Equal(NumpyGolden.StateHasGauss[s], state.HasGauss);
        Assert.Equal(NumpyGolden.StateGauss[s], state.Gauss);
    }

    [Theory]
    [InlineData(0u, 0)]
    [InlineData(0u, 3)]
    [InlineData(1u, 700)]
    [InlineData(12345u, 5)]
    public void StateRoundTripContinuesIdenticalStream(uint seed, int warmup)
    {
        var original = new NumpyRandom(seed);
        for (int i = 0; i < warmup; i++)
            original.StandardNormal();

        NumpyRandomState saved = original.GetState();
        double[] expected = DrawMixed(original);

        var restoredFresh = new NumpyRandom(saved);
        Assert.Equal(expected, DrawMixed(restoredFresh));

        var other = new NumpyRandom(999);
        other.StandardNormal();
        other.SetState(saved);
        Assert.Equal(saved, other.GetState());
        Assert.Equal(expected, DrawMixed(other));

        original.SetState(saved);
        Assert.Equal(expected, DrawMixed(original));
    }

    [Fact]
    public void StateIsASnapshotNotAView()
    {
        var rng = new NumpyRandom(7);
        NumpyRandomState before = rng.GetState();
        NumpyRandomState copy = new(before.Key.AsSpan(), before.Position, before.HasGauss, before.Gauss);
        rng.Rand(new double[1000]);
        Assert.Equal(copy, before);
        Assert.Equal(copy.GetHashCode(), before.GetHashCode());
        Assert.NotEqual(before, rng.GetState());
    }

    [Fact]
    public void StateConstructorRejectsBadParts()
    {
        var key = new uint[NumpyRandomState.KeyLength];
        var shortKey = Assert.Throws<ArgumentException>(() => new NumpyRandomState(key.AsSpan(1), 0, false, 0));
        Assert.Equal("key", shortKey.ParamName);
        Assert.Contains("623", shortKey.Message);

        var badPos = Assert.Throws<ArgumentOutOfRangeException>(() => new NumpyRandomState(key, 625, false, 0));
        Assert.Equal("position", badPos.ParamName);
        Assert.Contains("625", badPos.Message);

        Assert.Throws<ArgumentNullException>(() => new NumpyRandom(0).SetState(null!));
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(5L, 4L)]
    [InlineData(-1L, -3L)]
    public void RandIntRejectsEmptyRange(long low, long high)
    {
        var rng = new NumpyRandom(0);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => rng.RandInt(low, high));
        Assert.Equal("high", ex.ParamName);
        Assert.Equal(high, ex.ActualValue);
        Assert.Contains(high.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    public void ChoiceRejectsNonPositivePopulation(int n)
    {
        var rng = new NumpyRandom(0);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => rng.Choice(n, new int[3]));
        Assert.Equal("n", ex.ParamName);
        Assert.Equal(n, ex.ActualValue);
    }

    [Fact]
    public void PermutationRejectsNegativeAndAllowsEmpty()
    {
        var rng = new NumpyRandom(0);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => rng.Permutation(-1));
        Assert.Equal("n", ex.ParamName);
        Assert.Empty(rng.Permutation(0));
        Assert.Equal([0], rng.Permutation(1));
    }

    [Fact]
    public void DrawMethodsDoNotAllocate()
    {
        var rng = new NumpyRandom(3);
        var d = new double[64];
        var f = new float[64];
        var idx = new int[64];
        DrawAll(rng, d, f, idx);

        long before = GC.GetAllocatedBytesForCurrentThread();
        DrawAll(rng, d, f, idx);
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
    }

    private static void DrawAll(NumpyRandom rng, double[] d, float[] f, int[] idx)
    {
        rng.Rand(d);
        rng.Randn(d);
        rng.Randn(d, 0.5);
        rng.Randn(f, 0.01);
        rng.Choice(49000, idx);
        rng.Shuffle<int>(idx);
        rng.RandInt(-3, 1L << 40);
        rng.RandomSample();
        rng.StandardNormal();
    }

    private static double[] DrawMixed(NumpyRandom rng)
    {
        // Covers the Gaussian cache, uniform doubles, and both randint word widths across a key regeneration.
        var result = new double[1500];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = (i % 4) switch
            {
                0 => rng.StandardNormal(),
                1 => rng.RandomSample(),
                2 => rng.RandInt(0, 1000),
                _ => rng.RandInt(0, 1L << 50),
            };
        }
        return result;
    }
}
