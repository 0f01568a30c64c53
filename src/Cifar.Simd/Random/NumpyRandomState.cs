using System.Collections.Immutable;

namespace Cifar.Simd.Random;

/// <summary>
/// An immutable snapshot of a <see cref="NumpyRandom"/> generator, the same fields as numpy's
/// <c>RandomState.get_state()</c>: <c>('MT19937', key, pos, has_gauss, cached_gaussian)</c>.
/// </summary>
public sealed class NumpyRandomState : IEquatable<NumpyRandomState>
{
    /// <summary>The number of 32-bit words in the MT19937 key (624).</summary>
    public const int KeyLength = 624;

    /// <summary>Creates a state from its parts, copying <paramref name="key"/>.</summary>
    /// <param name="key">The 624 MT19937 key words.</param>
    /// <param name="position">The index of the next key word to temper, in [0, 624]; 624 means the key is regenerated first.</param>
    /// <param name="hasGauss">Whether a second Box–Muller deviate is cached.</param>
    /// <param name="gauss">The cached deviate; stored as 0 when <paramref name="hasGauss"/> is false.</param>
    /// <exception cref="ArgumentException"><paramref name="key"/> does not hold exactly 624 words.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> is outside [0, 624].</exception>
    public NumpyRandomState(ReadOnlySpan<uint> key, int position, bool hasGauss, double gauss)
    {
        if (key.Length != KeyLength)
            ThrowHelper.Argument($"key has {key.Length} words but an MT19937 state needs {KeyLength}.", nameof(key));
        if ((uint)position > KeyLength)
            ThrowHelper.OutOfRange(nameof(position), position, $"position must be in [0, {KeyLength}]; got {position}.");
        Key = ImmutableArray.Create(key);
        Position = position;
        HasGauss = hasGauss;
        Gauss = hasGauss ? gauss : 0.0;
    }

    /// <summary>The 624 MT19937 key words (numpy's <c>state[1]</c>).</summary>
    public ImmutableArray<uint> Key { get; }

    /// <summary>The index of the next key word to use, in [0, 624] (numpy's <c>state[2]</c>).</summary>
    public int Position { get; }

    /// <summary>Whether a Gaussian deviate is cached for the next <see cref="NumpyRandom.StandardNormal"/> (numpy's <c>state[3]</c>).</summary>
    public bool HasGauss { get; }

    /// <summary>The cached Gaussian deviate, or 0 when <see cref="HasGauss"/> is false (numpy's <c>state[4]</c>).</summary>
    public double Gauss { get; }

    /// <summary>Whether <paramref name="other"/> holds the same key words, position and cached Gaussian (compared bitwise).</summary>
    /// <param name="other">The state to compare with.</param>
    /// <returns><see langword="true"/> when both states continue the identical stream.</returns>
    public bool Equals(NumpyRandomState? other) =>
        other is not null
        && Position == other.Position
        && HasGauss == other.HasGauss
        && BitConverter.DoubleToInt64Bits(Gauss) == BitConverter.DoubleToInt64Bits(other.Gauss)
        && Key.AsSpan().SequenceEqual(other.Key.AsSpan());

    /// <summary>Whether <paramref name="obj"/> is a <see cref="NumpyRandomState"/> equal to this one.</summary>
    /// <param name="obj">The object to compare with.</param>
    /// <returns><see langword="true"/> when <paramref name="obj"/> is an equal state.</returns>
    public override bool Equals(object? obj) => Equals(obj as NumpyRandomState);

    /// <summary>A hash over the position, the cached Gaussian and the key words.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Position);
        hash.Add(HasGauss);
        hash.Add(BitConverter.DoubleToInt64Bits(Gauss));
        foreach (uint word in Key)
            hash.Add(word);
        return hash.ToHashCode();
    }
}
