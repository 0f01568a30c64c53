namespace Cifar.Simd.Random;

/// <summary>
/// A generator that reproduces numpy's legacy <c>np.random.RandomState</c> stream bit for bit
/// for the same seed (MT19937 seeded like <c>np.random.seed(int)</c>).
/// </summary>
public sealed class NumpyRandom
{
    /// <summary>Creates a generator seeded like <c>np.random.seed(seed)</c>.</summary>
    public NumpyRandom(uint seed) => throw new NotImplementedException();

    /// <summary>Re-seeds like <c>np.random.seed(seed)</c>; clears the cached Gaussian.</summary>
    public void Seed(uint seed) => throw new NotImplementedException();

    /// <summary>One draw of <c>np.random.random_sample()</c> / <c>rand()</c> in [0, 1).</summary>
    public double RandomSample() => throw new NotImplementedException();

    /// <summary>Fills <paramref name="destination"/> like <c>np.random.rand(n)</c>.</summary>
    public void Rand(Span<double> destination) => throw new NotImplementedException();

    /// <summary>One draw of <c>np.random.standard_normal()</c> / <c>randn()</c>.</summary>
    public double StandardNormal() => throw new NotImplementedException();

    /// <summary>Fills <paramref name="destination"/> like <c>np.random.randn(n)</c>.</summary>
    public void Randn(Span<double> destination) => throw new NotImplementedException();

    /// <summary>Fills <paramref name="destination"/> like <c>scale * np.random.randn(n)</c>, rounded to float.</summary>
    public void Randn(Span<float> destination, double scale) => throw new NotImplementedException();

    /// <summary>Fills <paramref name="destination"/> like <c>scale * np.random.randn(n)</c>.</summary>
    public void Randn(Span<double> destination, double scale) => throw new NotImplementedException();

    /// <summary>One draw of <c>np.random.randint(low, high)</c> in [low, high).</summary>
    public long RandInt(long low, long high) => throw new NotImplementedException();

    /// <summary>Fills <paramref name="destination"/> like <c>np.random.choice(n, size, replace=True)</c>.</summary>
    public void Choice(int n, Span<int> destination) => throw new NotImplementedException();

    /// <summary>Like <c>np.random.permutation(n)</c>.</summary>
    public int[] Permutation(int n) => throw new NotImplementedException();

    /// <summary>Shuffles in place like <c>np.random.shuffle</c> on a 1-D array.</summary>
    public void Shuffle<T>(Span<T> values) => throw new NotImplementedException();
}
