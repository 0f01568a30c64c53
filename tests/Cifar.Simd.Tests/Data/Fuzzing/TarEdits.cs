using System.Text;
using Cifar.Simd.Tests.Support.Fuzzing;

namespace Cifar.Simd.Tests.Data.Fuzzing;

/// <summary>
/// Tar- and gzip-aware edits. Header edits rewrite the checksum, so the reader gets past it to the field
/// that was changed: huge or negative sizes, odd entry types, pax and GNU metadata entries with huge records.
/// </summary>
internal static class TarEdits
{
    private const int Block = 512;
    private const int SizeField = 124, ChecksumField = 148, TypeField = 156;

    /// <summary>The offsets of the header blocks, found by walking sizes from the start; stops at the end marker or a bad size.</summary>
    private static List<int> Headers(List<byte> tar)
    {
        var headers = new List<int>();
        int offset = 0;
        while (offset + Block <= tar.Count)
        {
            if (tar.GetRange(offset, Block).All(b => b == 0)) break;
            headers.Add(offset);
            string field = Encoding.ASCII.GetString(tar.GetRange(offset + SizeField, 11).ToArray()).Trim(' ', '\0');
            long size;
            try { size = Convert.ToInt64(field.Length == 0 ? "0" : field, 8); }
            catch (FormatException) { break; }
            catch (ArgumentException) { break; }
            if (size < 0 || size > tar.Count) break;
            offset += Block + (int)((size + Block - 1) / Block * Block);
        }
        return headers;
    }

    /// <summary>Rewrites the checksum of the header at <paramref name="header"/> to match its bytes.</summary>
    public static void FixChecksum(List<byte> tar, int header)
    {
        int sum = 0;
        for (int i = 0; i < Block; i++) sum += i is >= ChecksumField and < ChecksumField + 8 ? ' ' : tar[header + i];
        var field = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
        for (int i = 0; i < 8; i++) tar[header + ChecksumField + i] = field[i];
    }

    private static void Write(List<byte> tar, int at, byte[] value, int width)
    {
        for (int i = 0; i < width; i++) tar[at + i] = i < value.Length ? value[i] : (byte)0;
    }

    /// <summary>Base-256 (GNU binary) encoding of a number in a field of <paramref name="width"/> bytes.</summary>
    private static byte[] Base256(long value, int width)
    {
        var field = new byte[width];
        for (int i = width - 1; i >= 1; i--, value >>= 8) field[i] = (byte)value;
        field[0] = (byte)(value < 0 ? 0xFF : 0x80);
        return field;
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>Sizes a header may declare: beyond the file, 8 GiB, base-256 giants, negatives, around the 256 MiB limit, garbage.</summary>
    private static readonly byte[][] Sizes =
    [
        Ascii("77777777777\0"), Ascii("00000000000\0"), Ascii("01000000000\0"), Ascii("02000000000\0"), Ascii("02000000001\0"),
        Ascii("00000030001\0"), Ascii("00000014000\0"), Ascii("00000000001\0"), Ascii("10000000000\0"), Ascii("9\0"), Ascii("-1\0"),
        Ascii("           \0"), Ascii("0x1000\0"), Base256(1L << 62, 12), Base256(long.MaxValue, 12), Base256(-1, 12),
        Base256(int.MaxValue + 1L, 12), Base256(200_000_000, 12), [0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
    ];

    /// <summary>Sets the size of header k and fixes the checksum.</summary>
    public static readonly FormatEdit Size = new("tarSize", 4, (tar, a, b) =>
    {
        var headers = Headers(tar);
        if (headers.Count == 0) return;
        int h = headers[a % headers.Count];
        Write(tar, h + SizeField, Sizes[b % Sizes.Length], 12);
        FixChecksum(tar, h);
    });

    private static readonly byte[] Types = Ascii("0123456789xgLKSDMNVAZ\0");

    /// <summary>Sets the entry type of header k (file, link, folder, pax, GNU long name, sparse, …) and fixes the checksum.</summary>
    public static readonly FormatEdit Type = new("tarType", 3, (tar, a, b) =>
    {
        var headers = Headers(tar);
        if (headers.Count == 0) return;
        int h = headers[a % headers.Count];
        tar[h + TypeField] = Types[b % Types.Length];
        FixChecksum(tar, h);
    });

    private static readonly (int Offset, int Width)[] Fields =
        [(0, 100), (100, 8), (108, 8), (116, 8), (136, 12), (157, 100), (257, 6), (263, 2), (265, 32), (329, 8), (337, 8), (345, 155)];

    private static readonly byte[][] FieldValues =
    [
        Ascii("77777777777\0"), Ascii("\0"), Ascii("../../evil\0"), Ascii("/abs/path\0"), Ascii("cifar-10-batches-bin/data_batch_1.bin\0"),
        Ascii("cifar-10-batches-py/data_batch_1\0"), Ascii("ustar\0"), Ascii("ustar  \0"), Ascii("00"), Ascii("zz"), Ascii("-7\0"),
        Base256(long.MaxValue, 12), Base256(long.MinValue, 12), [0xFF, 0xFE, 0xC3, 0x28, 0x00], Encoding.ASCII.GetBytes(new string('9', 12)),
    ];

    /// <summary>Overwrites a field of header k (name, mode, ids, mtime, link, magic, version, owner, devices, prefix) and fixes the checksum.</summary>
    public static readonly FormatEdit Field = new("tarField", 3, (tar, a, b) =>
    {
        var headers = Headers(tar);
        if (headers.Count == 0) return;
        int h = headers[a % headers.Count];
        var (offset, width) = Fields[(a / headers.Count) % Fields.Length];
        Write(tar, h + offset, FieldValues[b % FieldValues.Length], width);
        FixChecksum(tar, h);
    });

    /// <summary>Pax records for an inserted extended-attributes entry: huge sizes, unsafe paths, out-of-range times and ids.</summary>
    private static readonly string[] PaxRecords =
    [
        "size=99999999999999999999", "size=9223372036854775807", "size=-1", "size=268435457", "size=200000000", "size=1",
        "path=../../evil", "path=cifar-10-batches-bin/data_batch_1.bin", "path=", "mtime=1e400", "mtime=-99999999999999999",
        "mtime=abc", "uid=99999999999", "gid=-5", "GNU.sparse.major=1", "linkpath=/etc/passwd", "hdrcharset=BINARY", "=novalue", "novalue",
    ];

    /// <summary>One pax record, "LEN key=value\n", whose length counts its own digits.</summary>
    public static string PaxRecord(string keyValue)
    {
        int length = keyValue.Length + 3;
        while ($"{length} {keyValue}\n".Length != length) length++;
        return $"{length} {keyValue}\n";
    }

    /// <summary>A ustar header block for a metadata or file entry, with a valid checksum.</summary>
    public static byte[] Header(string name, byte type, long size)
    {
        var header = new List<byte>(new byte[Block]);
        Write(header, 0, Ascii(name + "\0"), 100);
        Write(header, 100, Ascii("0000644\0"), 8);
        Write(header, 108, Ascii("0000000\0"), 8);
        Write(header, 116, Ascii("0000000\0"), 8);
        Write(header, SizeField, Ascii(Convert.ToString(size, 8).PadLeft(11, '0') + "\0"), 12);
        Write(header, 136, Ascii("00000000000\0"), 12);
        header[TypeField] = type;
        Write(header, 257, Ascii("ustar\0"), 6);
        Write(header, 263, Ascii("00"), 2);
        FixChecksum(header, 0);
        return header.ToArray();
    }

    private static void InsertEntry(List<byte> tar, int a, byte[] header, byte[] data)
    {
        var headers = Headers(tar);
        int at = headers.Count == 0 ? 0 : headers[a % headers.Count];
        var padded = new byte[(data.Length + Block - 1) / Block * Block];
        data.CopyTo(padded, 0);
        tar.InsertRange(at, header.Concat(padded));
    }

    /// <summary>Inserts a pax extended-attributes entry ('x', or global 'g') with one or two records before header k.</summary>
    public static readonly FormatEdit Pax = new("paxRecords", 3, (tar, a, b) =>
    {
        string records = PaxRecord(PaxRecords[b % PaxRecords.Length]);
        if (b / PaxRecords.Length % 3 == 0) records += PaxRecord(PaxRecords[b / 7 % PaxRecords.Length]);
        var data = Encoding.UTF8.GetBytes(records);
        InsertEntry(tar, a, Header("PaxHeaders/x", (byte)(b % 5 == 0 ? 'g' : 'x'), data.Length), data);
    });

    /// <summary>Inserts a GNU long-name ('L') or long-link ('K') entry, sometimes declaring a huge size for a short name.</summary>
    public static readonly FormatEdit GnuLongName = new("gnuLongName", 2, (tar, a, b) =>
    {
        var data = Encoding.ASCII.GetBytes(b % 3 == 0 ? "../../evil\0" : "cifar-10-batches-bin/data_batch_1.bin\0");
        long declared = (b / 3 % 4) switch { 0 => data.Length, 1 => 1L << 33, 2 => 1 << 30, _ => 300_000 };
        var header = Header("././@LongLink", (byte)(b % 2 == 0 ? 'L' : 'K'), Math.Min(declared, (1L << 33) - 1));
        InsertEntry(tar, a, header, data);
    });

    /// <summary>Bytes that matter to gzip: the magic, method, flag bits (FEXTRA, FNAME, FCOMMENT, FHCRC, reserved), OS.</summary>
    public static readonly byte[] GzipBytes = [0x1F, 0x8B, 0x08, 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1C, 0xE0, 0xFF, 0x03];

    /// <summary>Gzip edits: the trailer's CRC and ISIZE set to huge or wrong values, FEXTRA with a 64 KiB XLEN, a second member.</summary>
    public static readonly FormatEdit GzipHeaderAndTrailer = new("gzip", 3, (gz, a, b) =>
    {
        int n = gz.Count;
        switch (b % 5)
        {
            case 0 when n >= 8: // ISIZE
                Write(gz, n - 4, (b / 5 % 3) switch { 0 => [0xFF, 0xFF, 0xFF, 0xFF], 1 => [0, 0, 0, 0], _ => [0, 0, 0, 0x80] }, 4);
                break;
            case 1 when n >= 8: // CRC32
                gz[n - 8 + a % 4] ^= 0x5A;
                break;
            case 2 when n >= 10: // FEXTRA with a huge XLEN and too little extra data
                gz[3] |= 0x04;
                gz.InsertRange(10, new byte[] { 0xFF, 0xFF, (byte)'x', (byte)'y' });
                break;
            case 3 when n >= 10: // FNAME that never ends
                gz[3] |= 0x08;
                gz.InsertRange(10, Encoding.ASCII.GetBytes(new string('n', a % 600)));
                break;
            case 4: // a second member, whole or cut short
                var copy = gz.ToArray();
                gz.AddRange(copy.Take(Math.Max(10, copy.Length - a % 64)));
                break;
        }
    });
}
