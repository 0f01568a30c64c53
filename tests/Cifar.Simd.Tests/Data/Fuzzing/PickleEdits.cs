using System.Buffers.Binary;
using System.Text;
using Cifar.Simd.Tests.Support.Fuzzing;

namespace Cifar.Simd.Tests.Data.Fuzzing;

/// <summary>Pickle-aware edits: huge declared lengths, odd ints and memo indices, opcodes spliced in.</summary>
internal static class PickleEdits
{
    private enum FieldKind { Length, Int, Memo }

    /// <summary>An opcode argument found by walking the stream: where it is, how wide, and what it declares.</summary>
    private readonly record struct Field(int Position, int Width, FieldKind Kind);

    /// <summary>
    /// Walks the opcodes of a (possibly already mutated) pickle and lists the arguments that declare a length,
    /// an int or a memo index; stops at the first opcode it does not know.
    /// </summary>
    private static List<Field> Fields(List<byte> bytes)
    {
        var fields = new List<Field>();
        int pos = 0, n = bytes.Count;
        while (pos < n)
        {
            byte op = bytes[pos++];
            int width = op switch
            {
                0x80 or (byte)'K' or (byte)'q' or (byte)'h' or (byte)'U' => 1,
                (byte)'M' => 2,
                (byte)'J' or (byte)'T' or (byte)'B' or (byte)'r' or (byte)'j' => 4,
                _ => 0,
            };
            if (op == (byte)'c')
            {
                for (int lines = 0; lines < 2 && pos < n; pos++)
                    if (bytes[pos] == (byte)'\n') lines++;
                continue;
            }
            if (width == 0)
            {
                if (!NoArgumentOpcodes.Contains((char)op)) return fields;
                continue;
            }
            if (pos + width > n) return fields;
            var kind = op switch
            {
                (byte)'U' or (byte)'T' or (byte)'B' => FieldKind.Length,
                (byte)'q' or (byte)'r' or (byte)'h' or (byte)'j' => FieldKind.Memo,
                _ => FieldKind.Int,
            };
            if (op != 0x80) fields.Add(new Field(pos, width, kind));
            long length = kind != FieldKind.Length ? 0 : width == 1 ? bytes[pos] : ReadUInt32(bytes, pos);
            pos += width;
            if (length > n - pos) return fields;
            pos += (int)length;
        }
        return fields;
    }

    private static uint ReadUInt32(List<byte> bytes, int pos) =>
        (uint)(bytes[pos] | bytes[pos + 1] << 8 | bytes[pos + 2] << 16 | bytes[pos + 3] << 24);

    private static void Write(List<byte> bytes, Field field, long value)
    {
        Span<byte> le = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(le, value);
        for (int i = 0; i < field.Width; i++) bytes[field.Position + i] = le[i];
    }

    /// <summary>Lengths a string or bytes opcode may claim: 2 GB in a small file, sign-bit values, one past what remains, zero.</summary>
    private static readonly Func<long, long, long>[] Lengths =
    [
        (_, _) => uint.MaxValue, (_, _) => int.MaxValue, (_, _) => 1L << 31, (_, _) => 1L << 30, (_, _) => 0,
        (declared, _) => declared + 1, (declared, _) => declared - 1, (_, remaining) => remaining + 1, (_, remaining) => remaining,
        (_, _) => 255, (_, _) => 256,
    ];

    /// <summary>Values written over ints and memo indices: shape dimensions, labels out of range, limits and signs.</summary>
    private static readonly long[] Ints = [0, 1, 9, 10, 255, 256, 3072, 3073, 65535, 65536, int.MaxValue, int.MinValue, -1, uint.MaxValue, 1 << 24];

    /// <summary>Sets a length argument (SHORT_BINSTRING, BINSTRING, BINBYTES) to a huge or off-by-one value.</summary>
    public static readonly FormatEdit DeclaredLength = new("declaredLength", 4, (bytes, a, b) =>
    {
        var lengths = Fields(bytes).Where(f => f.Kind == FieldKind.Length).ToList();
        if (lengths.Count == 0) return;
        var field = lengths[a % lengths.Count];
        long declared = field.Width == 1 ? bytes[field.Position] : ReadUInt32(bytes, field.Position);
        long remaining = bytes.Count - field.Position - field.Width;
        Write(bytes, field, Lengths[b % Lengths.Length](declared, remaining));
    });

    /// <summary>Sets an int argument (BININT1/2/BININT: labels, shape, num_vis) or a memo index to a boundary value.</summary>
    public static readonly FormatEdit Number = new("number", 4, (bytes, a, b) =>
    {
        var fields = Fields(bytes).Where(f => f.Kind != FieldKind.Length).ToList();
        if (fields.Count == 0) return;
        Write(bytes, fields[a % fields.Count], Ints[b % Ints.Length]);
    });

    /// <summary>Every opcode the reader accepts, and some it must refuse (INST, POP, FRAME, BINUNICODE, MEMOIZE, …).</summary>
    public static readonly byte[] Opcodes = Encoding.Latin1.GetBytes(NoArgumentOpcodes + "KMJUTBqrhjc\x80" + "i0XP\x95\x94\x8C\x00\xFF");

    private const string NoArgumentOpcodes = "}](N\x88\x89teausRb.\x85\x86\x87";

    /// <summary>Opcode sequences spliced in: nesting, stray marks, forbidden globals, BINUNICODE with a huge length, memo reads.</summary>
    public static readonly byte[][] Snippets =
    [
        .. new[]
        {
            "(", "((((((((", "t", "\x85", "\x86", "\x87", "}", "]", "N", "a", "e", "s", "u", "R", "b", ".", "0",
            "h\x01", "h\xFF", "j\x00\x01\x00\x00", "j\xFF\xFF\xFF\xFF", "q\x00", "r\xFF\xFF\xFF\xFF", "K\x0A", "M\x00\x0C",
            "U\x00", "U\xFF", "T\xFF\xFF\xFF\x7F", "B\xFF\xFF\xFF\xFF", "X\xFF\xFF\xFF\x7F", "\x8C\xFF",
            "cos\nsystem\n", "cnumpy\ndtype\n", "cnumpy.core.multiarray\n_reconstruct\n", "cnumpy\nndarray\n", "c" + new string('a', 80),
            "\x80\x05", "\x95\x00\x00\x00\x00\x00\x00\x00\x7F",
        }.Select(s => Encoding.Latin1.GetBytes(s)),
    ];
}
