using Cifar.Simd.Random;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Random;

/// <summary>
/// The vectorized parts of <see cref="NumpyRandom"/> against plain references: the key regeneration against
/// Matsumoto and Nishimura's reference MT19937 over several regenerations, and the bulk <see cref="NumpyRandom.Rand"/>
/// against one <see cref="NumpyRandom.RandomSample"/> per element from every position in the key, at lengths that are
/// not multiples of the vector width. (The numpy golden values cover the first few draws only.)
/// </summary>
public class NumpyRandomBulkTests
{
    [Property(MaxTest = 40)]
    public Property RawWordsMatchReferenceMt19937() => Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), s =>
    {
        uint seed = (uint)s * 2654435761u;
        var rng = new NumpyRandom(seed);
        var reference = new ReferenceMt19937(seed);
        for (int i = 0; i < 4 * 624 + 17; i++)
            Assert.True(reference.Next() == rng.NextUInt32(), $"seed {seed}: word {i} differs from the reference MT19937.");
    });

    private static Arbitrary<(int Seed, int Skip, int Length)> BulkCases() =>
        (from seed in Gen.Choose(0, int.MaxValue)
         from skip in Gen.Choose(0, 700)
         from length in Gen.Frequency((3, Gen.Choose(0, 40)), (2, Gen.Choose(300, 2000)))
         select (seed, skip, length)).ToArbitrary();

    [Property(MaxTest = 60)]
    public Property BulkRandIsOneRandomSamplePerElement() => Prop.ForAll(BulkCases(), c =>
    {
        var rng = new NumpyRandom((uint)c.Seed);
        // Single words move the position to every offset and parity in the key.
        for (int i = 0; i < c.Skip; i++) rng.NextUInt32();
        var twin = new NumpyRandom(rng.GetState());
        var bulk = new double[c.Length];
        rng.Rand(bulk);
        for (int i = 0; i < c.Length; i++)
        {
            double one = twin.RandomSample();
            Assert.True(BitConverter.DoubleToInt64Bits(one) == BitConverter.DoubleToInt64Bits(bulk[i]),
                $"seed {c.Seed}, {c.Skip} words skipped: draw {i} of {c.Length} is {bulk[i]:R}, one at a time {one:R}.");
        }
        // Both end at the same place in the stream.
        Assert.Equal(twin.NextUInt32(), rng.NextUInt32());
    });

    /// <summary>MT19937 as in the authors' mt19937ar.c: init_genrand and genrand_int32, one word at a time.</summary>
    private sealed class ReferenceMt19937
    {
        private readonly uint[] _mt = new uint[624];
        private int _mti;

        public ReferenceMt19937(uint seed)
        {
            _mt[0] = seed;
            for (_mti = 1; _mti < 624; _mti++)
                _mt[_mti] = 1812433253u * (_mt[_mti - 1] ^ (_mt[_mti - 1] >> 30)) + (uint)_mti;
        }

        public uint Next()
        {
            if (_mti >= 624)
            {
                for (int kk = 0; kk < 624; kk++)
                {
                    uint y = (_mt[kk] & 0x80000000u) | (_mt[(kk + 1) % 624] & 0x7fffffffu);
                    _mt[kk] = _mt[(kk + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
                }
                _mti = 0;
            }
            uint w = _mt[_mti++];
            w ^= w >> 11;
            w ^= (w << 7) & 0x9d2c5680u;
            w ^= (w << 15) & 0xefc60000u;
            w ^= w >> 18;
            return w;
        }
    }
}
