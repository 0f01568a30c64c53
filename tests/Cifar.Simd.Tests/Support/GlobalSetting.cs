using System.Runtime.InteropServices;

namespace Cifar.Simd.Tests.Support;

/// <summary>Test helpers for process-wide knobs and bit-for-bit comparisons.</summary>
internal static class GlobalSetting
{
    /// <summary>Runs <paramref name="run"/> with a process-wide setting changed to <paramref name="value"/>, restoring the old value afterwards.</summary>
    public static void With<T>(Func<T> get, Action<T> set, T value, Action run)
    {
        T saved = get();
        set(value);
        try
        {
            run();
        }
        finally
        {
            set(saved);
        }
    }

    /// <summary>Whether two arrays hold the same bits (NaN payloads and the sign of zero included).</summary>
    public static bool Bitwise<T>(T[] x, T[] y) where T : unmanaged =>
        MemoryMarshal.AsBytes(x.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(y.AsSpan()));
}
