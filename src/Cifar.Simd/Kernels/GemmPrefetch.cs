using System.Runtime.CompilerServices;

namespace Cifar.Simd.Kernels;

/// <summary>
/// The cache lines of the next block a GEMM region will pack, handed to the microkernel calls of the current
/// block a few at a time, so that reading a gathered minibatch from memory overlaps arithmetic
/// (docs/kernels.md, "Prefetching the next gathered block").
/// </summary>
internal unsafe struct Prefetches
{
    [ThreadStatic] private static nint[]? t_lines;

    private byte** _next;
    private int _left, _perCall;

    /// <summary>
    /// The lines of bytes [<paramref name="offset"/>, offset + <paramref name="length"/>) of stored rows
    /// <paramref name="r0"/> .. r0 + <paramref name="count"/> (row r at base + rows[r]·rowBytes, or r·rowBytes when
    /// <paramref name="rows"/> is null), shared out evenly over <paramref name="calls"/> microkernel calls of
    /// <paramref name="kc"/> steps each (a call prefetches at most one line every second step).
    /// The list lives in a per-thread buffer that the next call of this method on the thread overwrites.
    /// </summary>
    public static Prefetches Of(byte* baseAddress, int* rows, nint rowBytes, int r0, int count, nint offset, nint length, int calls, int kc)
    {
        if (calls <= 0 || count <= 0 || length <= 0) return default;
        nint* lines = PackBuffers<nint>.Get(ref t_lines, checked(count * (int)(length / 64 + 2)));
        int n = Lines(baseAddress, rows, rowBytes, r0, count, offset, length, lines);
        return new Prefetches { _next = (byte**)lines, _left = n, _perCall = Math.Min((kc + 1) / 2, (n + calls - 1) / calls) };
    }

    /// <summary>
    /// Writes to <paramref name="lines"/> the 64-byte-aligned address of every line that bytes
    /// [offset, offset + length) of each of the rows touch, row by row, front to back; returns how many.
    /// <paramref name="lines"/> must hold count·(length / 64 + 2) entries.
    /// </summary>
    public static int Lines(byte* baseAddress, int* rows, nint rowBytes, int r0, int count, nint offset, nint length, nint* lines)
    {
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            nint start = (nint)(baseAddress + (nint)(rows == null ? r0 + i : rows[r0 + i]) * rowBytes + offset);
            for (nint line = start & ~(nint)63; line < start + length; line += 64) lines[n++] = line;
        }
        return n;
    }

    /// <summary>The next call's share of the lines: sets <paramref name="lines"/> and returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Take(out byte** lines)
    {
        lines = _next;
        int n = Math.Min(_perCall, _left);
        _next += n;
        _left -= n;
        return n;
    }
}
