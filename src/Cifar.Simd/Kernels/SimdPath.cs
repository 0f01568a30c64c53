using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cifar.Simd.Kernels;

/// <summary>
/// The instruction-set recipe the kernels run on. Chosen once at start-up as the best the CPU
/// supports; the environment variable <c>CIFAR_SIMD_PATH</c> (<c>avx512</c>, <c>avx2</c> or
/// <c>portable</c>) forces one. See <see cref="Gemm.Path"/> for the active one.
/// </summary>
public enum SimdPath
{
    /// <summary>AVX-512F with 512-bit vectors (32 zmm registers).</summary>
    Avx512,
    /// <summary>AVX2 with FMA3 and 256-bit vectors (16 ymm registers).</summary>
    Avx2,
    /// <summary>128-bit <see cref="Vector128{T}"/> code that runs on any CPU (SSE, NEON, or software).</summary>
    Portable,
}

/// <summary>Detects the CPU's best <see cref="SimdPath"/> and honours the <c>CIFAR_SIMD_PATH</c> override.</summary>
internal static class SimdPaths
{
    public const string EnvironmentVariable = "CIFAR_SIMD_PATH";

    // -1 until first use, so a bad override throws a plain exception rather than a TypeInitializationException.
    private static int s_active = -1;

    /// <summary>The best path this CPU supports.</summary>
    public static SimdPath Best =>
        IsSupported(SimdPath.Avx512) ? SimdPath.Avx512 : IsSupported(SimdPath.Avx2) ? SimdPath.Avx2 : SimdPath.Portable;

    /// <summary>Whether the CPU (and the runtime's configuration, e.g. <c>DOTNET_EnableAVX512F</c>) supports a path.</summary>
    public static bool IsSupported(SimdPath path) => path switch
    {
        SimdPath.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        SimdPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        SimdPath.Portable => true,
        _ => false,
    };

    /// <summary>All paths this CPU supports, best first.</summary>
    public static SimdPath[] Supported() =>
        [.. new[] { SimdPath.Avx512, SimdPath.Avx2, SimdPath.Portable }.Where(IsSupported)];

    /// <summary>The path in use: the override if set, else <see cref="Best"/>.</summary>
    public static SimdPath Active
    {
        get
        {
            int v = Volatile.Read(ref s_active);
            if (v < 0)
            {
                v = (int)Resolve(Environment.GetEnvironmentVariable(EnvironmentVariable));
                Volatile.Write(ref s_active, v);
            }
            return (SimdPath)v;
        }
    }

    internal static SimdPath Resolve(string? forced)
    {
        if (string.IsNullOrWhiteSpace(forced)) return Best;
        SimdPath path = forced.Trim().ToLowerInvariant() switch
        {
            "avx512" => SimdPath.Avx512,
            "avx2" => SimdPath.Avx2,
            "portable" => SimdPath.Portable,
            _ => throw new ArgumentException(
                $"{EnvironmentVariable} = '{forced}' is not a SIMD path; use avx512, avx2 or portable (this CPU's best is {Best}).",
                EnvironmentVariable),
        };
        ThrowIfUnsupported(path);
        return path;
    }

    public static void ThrowIfUnsupported(SimdPath path)
    {
        if (!IsSupported(path))
            throw new PlatformNotSupportedException(
                $"SIMD path {path} is not supported by this CPU (set via {EnvironmentVariable} or a test); the best supported path is {Best}.");
    }
}
