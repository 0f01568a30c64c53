using System.Numerics;
using System.Runtime.CompilerServices;

namespace Cifar.Simd.Random;

/// <summary>
/// A generator that reproduces numpy's legacy <c>np.random.RandomState</c> stream bit for bit
/// for the same seed (MT19937 seeded like <c>np.random.seed(int)</c>).
/// </summary>
/// <remarks>Not thread-safe: one instance must not be drawn from by several threads at once.</remarks>
public sealed class NumpyRandom
{
    private const int N = NumpyRandomState.KeyLength;
    private const int M = 397;
    private const uint MatrixA = 0x9908b0dfU;
    private const uint UpperMask = 0x80000000U;
    private const uint LowerMask = 0x7fffffffU;

    private readonly uint[] _key = new uint[N];
    private int _pos;
    private bool _hasGauss;
    private double _gauss;

    /// <summary>Creates a generator seeded like <c>np.random.seed(seed)</c>.</summary>
    /// <param name="seed">The seed; numpy accepts exactly the range of <see cref="uint"/>.</param>
    public NumpyRandom(uint seed) => Seed(seed);

    /// <summary>Creates a generator that continues exactly from a saved <paramref name="state"/>.</summary>
    /// <param name="state">A state from <see cref="GetState"/> (or built from numpy's <c>get_state()</c>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    public NumpyRandom(NumpyRandomState state) => SetState(state);

    /// <summary>Re-seeds like <c>np.random.seed(seed)</c>; clears the cached Gaussian.</summary>
    /// <param name="seed">The seed; numpy accepts exactly the range of <see cref="uint"/>.</param>
    public void Seed(uint seed)
    {
        // numpy's legacy seed(int) uses Knuth's init_genrand, not init_by_array.
        uint s = seed;
        for (int i = 0; i < N; i++)
        {
            _key[i] = s;
            s = unchecked(1812433253U * (s ^ (s >> 30)) + (uint)i + 1U);
        }
        _pos = N;
        _hasGauss = false;
        _gauss = 0.0;
    }

    /// <summary>
    /// Captures the complete generator state (like <c>RandomState.get_state()</c>): the 624 key words,
    /// the position, and the cached Gaussian.
    /// </summary>
    /// <returns>An immutable snapshot; passing it to <see cref="SetState"/> later continues the identical stream.</returns>
    public NumpyRandomState GetState() => new(_key, _pos, _hasGauss, _hasGauss ? _gauss : 0.0);

    /// <summary>Restores a state captured by <see cref="GetState"/> (like <c>RandomState.set_state()</c>).</summary>
    /// <param name="state">The state to restore; it is copied, so later use of it does not affect this generator.</param>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    public void SetState(NumpyRandomState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Key.CopyTo(_key);
        _pos = state.Position;
        _hasGauss = state.HasGauss;
        _gauss = state.HasGauss ? state.Gauss : 0.0;
    }

    /// <summary>One draw of <c>np.random.random_sample()</c> / <c>rand()</c> in [0, 1).</summary>
    /// <returns>A double with 53 random bits, built from two 32-bit words.</returns>
    public double RandomSample()
    {
        uint a = NextUInt32() >> 5;
        uint b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>Fills <paramref name="destination"/> like <c>np.random.rand(n)</c>.</summary>
    /// <param name="destination">Receives one <see cref="RandomSample"/> per element, in order.</param>
    public void Rand(Span<double> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            // Whole vectors of words straight from the key: the same tempering and the same two words per double, in order.
            int words = Vector<uint>.Count, perVector = words / 2;
            while (destination.Length - i >= perVector)
            {
                if (N - _pos < words)
                {
                    // The last few words of the key, possibly one pair across a regeneration, one double at a time.
                    destination[i++] = RandomSample();
                    continue;
                }
                var y = new Vector<uint>(_key.AsSpan(_pos, words));
                _pos += words;
                y ^= Vector.ShiftRightLogical(y, 11);
                y ^= Vector.ShiftLeft(y, 7) & new Vector<uint>(0x9d2c5680U);
                y ^= Vector.ShiftLeft(y, 15) & new Vector<uint>(0xefc60000U);
                y ^= Vector.ShiftRightLogical(y, 18);
                // Little-endian: each 64-bit lane holds the first word of a pair in its low half.
                var pair = Vector.AsVectorUInt64(y);
                var a = Vector.ConvertToDouble(Vector.ShiftRightLogical(pair & new Vector<ulong>(0xFFFFFFFFUL), 5));
                var b = Vector.ConvertToDouble(Vector.ShiftRightLogical(pair, 38));
                // Both products and the sum are exact below 2⁵³, so this is bitwise RandomSample.
                ((a * 67108864.0 + b) / 9007199254740992.0).CopyTo(destination.Slice(i));
                i += perVector;
            }
        }
        for (; i < destination.Length; i++)
            destination[i] = RandomSample();
    }

    /// <summary>One draw of <c>np.random.standard_normal()</c> / <c>randn()</c>.</summary>
    /// <returns>A standard normal deviate from numpy's legacy polar Box–Muller (<c>legacy_gauss</c>).</returns>
    public double StandardNormal()
    {
        if (_hasGauss)
        {
            _hasGauss = false;
            double cached = _gauss;
            _gauss = 0.0;
            return cached;
        }

        double x1, x2, r2;
        do
        {
            x1 = 2.0 * RandomSample() - 1.0;
            x2 = 2.0 * RandomSample() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        }
        while (r2 >= 1.0 || r2 == 0.0);

        double f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        _gauss = f * x1;
        _hasGauss = true;
        return f * x2;
    }

    /// <summary>Fills <paramref name="destination"/> like <c>np.random.randn(n)</c>.</summary>
    /// <param name="destination">Receives one <see cref="StandardNormal"/> per element, in order.</param>
    public void Randn(Span<double> destination)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = StandardNormal();
    }

    /// <summary>Fills <paramref name="destination"/> like <c>scale * np.random.randn(n)</c>, rounded to float.</summary>
    /// <param name="destination">Receives <c>(float)(scale * StandardNormal())</c> per element, in order.</param>
    /// <param name="scale">The factor applied in double precision before rounding.</param>
    public void Randn(Span<float> destination, double scale)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (float)(scale * StandardNormal());
    }

    /// <summary>Fills <paramref name="destination"/> like <c>scale * np.random.randn(n)</c>.</summary>
    /// <param name="destination">Receives <c>scale * StandardNormal()</c> per element, in order.</param>
    /// <param name="scale">The factor applied to each deviate.</param>
    public void Randn(Span<double> destination, double scale)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = scale * StandardNormal();
    }

    /// <summary>One draw of <c>np.random.randint(low, high)</c> in [low, high).</summary>
    /// <param name="low">The inclusive lower bound.</param>
    /// <param name="high">The exclusive upper bound; must be greater than <paramref name="low"/>.</param>
    /// <returns>A value in [<paramref name="low"/>, <paramref name="high"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="high"/> is not greater than <paramref name="low"/>.</exception>
    public long RandInt(long low, long high)
    {
        if (high <= low)
            ThrowHelper.OutOfRange(nameof(high), high, $"high must be greater than low ({low}); got high = {high}.");
        // The true range high-1-low fits in 64 unsigned bits, so wrapping arithmetic gives it exactly.
        ulong rng = unchecked((ulong)(high - 1 - low));
        return unchecked((long)((ulong)low + BoundedMaskedUInt64(rng)));
    }

    /// <summary>Fills <paramref name="destination"/> like <c>np.random.choice(n, size, replace=True)</c>.</summary>
    /// <param name="n">The population size; indices are drawn from [0, n). Must be positive.</param>
    /// <param name="destination">Receives one index per element, in order (numpy's <c>randint(0, n, size)</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is zero or negative.</exception>
    public void Choice(int n, Span<int> destination)
    {
        if (n <= 0)
            ThrowHelper.OutOfRange(nameof(n), n, $"n must be positive to choose from [0, n); got n = {n}.");
        ulong rng = (ulong)(n - 1);
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (int)BoundedMaskedUInt64(rng);
    }

    /// <summary>Like <c>np.random.permutation(n)</c>.</summary>
    /// <param name="n">The number of elements; must not be negative.</param>
    /// <returns>A new array holding 0..n-1 shuffled by <see cref="Shuffle{T}"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    public int[] Permutation(int n)
    {
        if (n < 0)
            ThrowHelper.OutOfRange(nameof(n), n, $"n must not be negative; got n = {n}.");
        var result = new int[n];
        for (int i = 0; i < n; i++)
            result[i] = i;
        Shuffle<int>(result);
        return result;
    }

    /// <summary>Shuffles in place like <c>np.random.shuffle</c> on a 1-D array.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="values">The elements to shuffle (Fisher–Yates from the end, numpy's draw order).</param>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i >= 1; i--)
        {
            int j = (int)RandomInterval((uint)i);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>Next raw 32-bit MT19937 output (numpy's <c>mt19937_next32</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint NextUInt32()
    {
        if (_pos == N)
            Generate();
        uint y = _key[_pos++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680U;
        y ^= (y << 15) & 0xefc60000U;
        y ^= y >> 18;
        return y;
    }

    // numpy's next_uint64 for MT19937 puts the first word in the high half.
    private ulong NextUInt64()
    {
        ulong hi = NextUInt32();
        return (hi << 32) | NextUInt32();
    }

    private void Generate()
    {
        uint[] key = _key;
        // Word i reads words i + 1 (not yet rewritten) and i + 397 or i - 227 (rewritten at least 227 words
        // earlier), so a vector of consecutive words gives exactly the scalar recurrence.
        int i = 0, w = Vector<uint>.Count;
        if (Vector.IsHardwareAccelerated)
            for (; i + w <= N - M; i += w) TwistVector(key, i, i + M);
        for (; i < N - M; i++) TwistOne(key, i, i + M);
        if (Vector.IsHardwareAccelerated)
            for (; i + w <= N - 1; i += w) TwistVector(key, i, i + (M - N));
        for (; i < N - 1; i++) TwistOne(key, i, i + (M - N));
        uint y = (key[N - 1] & UpperMask) | (key[0] & LowerMask);
        key[N - 1] = key[M - 1] ^ (y >> 1) ^ ((0U - (y & 1U)) & MatrixA);
        _pos = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwistOne(uint[] key, int i, int j)
    {
        uint y = (key[i] & UpperMask) | (key[i + 1] & LowerMask);
        key[i] = key[j] ^ (y >> 1) ^ ((0U - (y & 1U)) & MatrixA);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwistVector(uint[] key, int i, int j)
    {
        var y = (new Vector<uint>(key.AsSpan(i)) & new Vector<uint>(UpperMask)) | (new Vector<uint>(key.AsSpan(i + 1)) & new Vector<uint>(LowerMask));
        var odd = Vector.Equals(y & Vector<uint>.One, Vector<uint>.One) & new Vector<uint>(MatrixA);
        (new Vector<uint>(key.AsSpan(j)) ^ Vector.ShiftRightLogical(y, 1) ^ odd).CopyTo(key.AsSpan(i));
    }

    private static ulong GenMask(ulong max)
    {
        ulong mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        return mask;
    }

    // Mirrors random_bounded_uint64_fill with use_masked=true (legacy randint for int64): value in [0, rng].
    private ulong BoundedMaskedUInt64(ulong rng)
    {
        if (rng == 0)
            return 0;
        if (rng <= 0xFFFFFFFFUL)
        {
            if (rng == 0xFFFFFFFFUL)
                return NextUInt32();
            uint mask32 = (uint)GenMask(rng);
            uint v32;
            while ((v32 = NextUInt32() & mask32) > rng) { }
            return v32;
        }
        if (rng == ulong.MaxValue)
            return NextUInt64();
        ulong mask = GenMask(rng);
        ulong v;
        while ((v = NextUInt64() & mask) > rng) { }
        return v;
    }

    // Mirrors random_interval, which the legacy shuffle uses: value in [0, max].
    private ulong RandomInterval(ulong max)
    {
        if (max == 0)
            return 0;
        ulong mask = GenMask(max);
        ulong value;
        if (max <= 0xFFFFFFFFUL)
        {
            while ((value = NextUInt32() & mask) > max) { }
        }
        else
        {
            while ((value = NextUInt64() & mask) > max) { }
        }
        return value;
    }
}
