using System.Runtime.InteropServices;

namespace Cifar.Simd;

/// <summary>
/// Asks Linux to back a large buffer with 2 MiB transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>), for
/// systems whose THP mode is <c>madvise</c> (the Debian default). A training set gathered in random rows then
/// costs one TLB entry per 2 MiB instead of per 4 KiB, and filling it takes one page fault per 2 MiB: on the
/// project's VM, writing the 602 MB CIFAR-10 training set took 1.5 s instead of 2.3–3.3 s, and the default
/// run lost its 8–12 ms stalls. A hint only: elsewhere, or when the kernel refuses, nothing changes.
/// </summary>
internal static partial class HugePages
{
    /// <summary>Buffers at least this long are advised; smaller ones hold too few whole huge pages to matter.</summary>
    public const long MinBytes = 8L << 20;

    private const int MadvHugePage = 14;
    private const long HugePage = 2L << 20;
    private static bool s_unavailable;

    /// <summary>
    /// Advises the whole 2 MiB pages inside [<paramref name="address"/>, + <paramref name="bytes"/>); call it before the
    /// buffer is first written, so the first writes fault huge pages in. Returns whether the kernel accepted the advice.
    /// </summary>
    public static unsafe bool Advise(void* address, long bytes)
    {
        if (bytes < MinBytes || !OperatingSystem.IsLinux() || s_unavailable) return false;
        long start = ((long)address + HugePage - 1) & ~(HugePage - 1), end = ((long)address + bytes) & ~(HugePage - 1);
        if (end <= start) return false;
        try
        {
            return Madvise((nint)start, (nuint)(end - start), MadvHugePage) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
