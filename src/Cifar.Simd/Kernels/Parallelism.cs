namespace Cifar.Simd.Kernels;

/// <summary>
/// How many threads the kernels may use. Results do not depend on it: work is split only over
/// independent output tiles, so every sum keeps one fixed order for any thread count.
/// </summary>
public static class Parallelism
{
    /// <summary>The environment variable read for the default thread count.</summary>
    public const string EnvironmentVariable = "CIFAR_SIMD_THREADS";

    private static int s_threadCount;

    /// <summary>
    /// The number of threads a large kernel may run on, counting the caller (≥ 1). Defaults to
    /// <c>CIFAR_SIMD_THREADS</c> when set, else <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is less than 1.</exception>
    public static int ThreadCount
    {
        get
        {
            int t = Volatile.Read(ref s_threadCount);
            if (t == 0)
            {
                t = ParseThreadCount(Environment.GetEnvironmentVariable(EnvironmentVariable));
                Volatile.Write(ref s_threadCount, t);
            }
            return t;
        }
        set
        {
            if (value < 1)
                ThrowHelper.OutOfRange(nameof(value), value, $"{nameof(ThreadCount)} must be at least 1; got {value}.");
            Volatile.Write(ref s_threadCount, value);
        }
    }

    internal static int ParseThreadCount(string? env)
    {
        if (string.IsNullOrWhiteSpace(env)) return Environment.ProcessorCount;
        if (!int.TryParse(env, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int t) || t < 1)
            ThrowHelper.Argument($"{EnvironmentVariable} = '{env}' is not a thread count; use an integer ≥ 1.", EnvironmentVariable);
        return t;
    }
}
