using System.Formats.Tar;

namespace Cifar.Simd.Data;

/// <summary>
/// Reads tar entries from an untrusted archive. <see cref="TarReader"/> and <see cref="System.IO.Compression.GZipStream"/>
/// report a malformed archive with many exception types (a bad checksum as InvalidDataException, a base-256 size that
/// overflows as OverflowException, an oversized pax header as InvalidOperationException, a sparse entry as
/// NotSupportedException, an out-of-range pax time as ArgumentOutOfRangeException, …); these helpers turn each into
/// the caller's <see cref="InvalidDataException"/>.
/// </summary>
internal static class TarInput
{
    /// <summary>A CIFAR-10 batch of the official python version is about 31 MB; an entry far larger is not a CIFAR-10 file.</summary>
    public const long MaxEntryBytes = 256L << 20;

    /// <summary>Deflate's highest possible compression ratio (a 258-byte match per 2 bits, plus block overhead).</summary>
    public const long MaxDeflateRatio = 1032;

    /// <summary>
    /// True for what TarReader, GZipStream and the entry streams throw on malformed input. They are called only
    /// with valid arguments, so an argument or state exception from inside them comes from the archive's bytes.
    /// </summary>
    public static bool IsMalformedInput(Exception e) =>
        e is InvalidDataException or EndOfStreamException or FormatException or OverflowException
            or InvalidOperationException or NotSupportedException or ArgumentException;

    /// <summary>The next entry, or null at the end of the archive.</summary>
    /// <exception cref="InvalidDataException">The archive is malformed; <paramref name="error"/> builds the exception from the cause.</exception>
    public static TarEntry? NextEntry(TarReader tar, Func<Exception, InvalidDataException> error)
    {
        try
        {
            return tar.GetNextEntry();
        }
        catch (Exception e) when (IsMalformedInput(e))
        {
            throw error(e);
        }
    }

    /// <summary>Reads up to <paramref name="buffer"/>'s length from an entry's data; 0 at its end.</summary>
    /// <exception cref="InvalidDataException">The data is truncated or corrupt; <paramref name="error"/> builds the exception from the cause.</exception>
    public static int Read(Stream data, Span<byte> buffer, Func<Exception, InvalidDataException> error)
    {
        try
        {
            return data.Read(buffer);
        }
        catch (Exception e) when (IsMalformedInput(e))
        {
            throw error(e);
        }
    }

    /// <summary>
    /// The most bytes an entry of an archive of <paramref name="archiveBytes"/> bytes can really hold: the archive's
    /// own size for a plain tar, 1,032 times it for gzip. A header that declares more is lying.
    /// </summary>
    public static long MaxPlausibleEntryBytes(long archiveBytes, bool gzip) =>
        gzip ? (archiveBytes > long.MaxValue / MaxDeflateRatio ? long.MaxValue : archiveBytes * MaxDeflateRatio) : archiveBytes;
}

/// <summary>
/// A forward-only view of a tar stream for <see cref="TarReader"/> that follows the archive's layout and refuses a
/// metadata entry (pax 'x' or 'g', GNU long name 'L' or long link 'K') declaring more than
/// <see cref="MaxMetadataBytes"/> before TarReader sees its header: System.Formats.Tar 10.0 rents a buffer of the
/// declared size for these, so a 1 KB archive could make it allocate 2 GB. It finds headers as TarReader does
/// (each at the end of the previous entry's data, rounded up to 512 bytes, with a pax "size" record overriding the
/// next entry's size, except for an 'x' right after a GNU long name or link, which TarReader reads as an ordinary entry).
/// Where the layout stops making sense (a size or checksum field that does not parse, pax records that do not parse or
/// a negative pax size, the end marker) it stops checking and passes bytes through, because TarReader refuses or stops
/// at that same header.
/// </summary>
internal sealed class TarMetadataGuardStream(Stream inner) : Stream
{
    /// <summary>The largest metadata entry accepted; real pax headers and GNU long names are a few hundred bytes.</summary>
    public const int MaxMetadataBytes = 1 << 20;

    private const int Block = 512;
    private readonly byte[] _header = new byte[Block];
    private int _headerStart, _headerEnd;   // read-ahead header bytes not yet passed on
    private long _position;                  // bytes passed on so far
    private long _nextHeader;                // where the next header starts; -1 once checking stops
    private long _paxStart = -1, _paxEnd;    // the data of the last 'x' entry, kept to find a "size" record
    private bool _afterGnuMetadata;          // the last header was a GNU long name or long link
    private readonly MemoryStream _pax = new();

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        if (_headerStart == _headerEnd && _position == _nextHeader) ReadHeader();
        int n;
        if (_headerStart < _headerEnd)
        {
            n = Math.Min(buffer.Length, _headerEnd - _headerStart);
            _header.AsSpan(_headerStart, n).CopyTo(buffer);
            _headerStart += n;
        }
        else
        {
            // Never read past the next header, so it is checked before any of it is passed on.
            if (_nextHeader >= 0) buffer = buffer[..(int)Math.Min(buffer.Length, _nextHeader - _position)];
            n = inner.Read(buffer);
            if (_paxStart >= 0 && _position < _paxEnd) KeepPaxData(buffer[..n]);
        }
        _position += n;
        return n;
    }

    private void KeepPaxData(ReadOnlySpan<byte> read)
    {
        long from = Math.Max(_position, _paxStart), to = Math.Min(_position + read.Length, _paxEnd);
        if (to > from) _pax.Write(read.Slice((int)(from - _position), (int)(to - from)));
    }

    private void ReadHeader()
    {
        _headerStart = 0;
        _headerEnd = inner.ReadAtLeast(_header, Block, throwOnEndOfStream: false);
        if (_headerEnd < Block || !TryHeaderSize(_header, out long size))
        {
            _nextHeader = -1;
            return;
        }
        if (_paxStart >= 0)
        {
            // The entry after an 'x' entry has the size its pax "size" record gives, if any.
            long? paxSize = PaxSize(_pax.GetBuffer().AsSpan(0, (int)_pax.Length), out bool valid);
            _paxStart = -1;
            if (!valid)
            {
                _nextHeader = -1;
                return;
            }
            size = paxSize ?? size;
        }
        byte type = _header[156];
        // TarReader reads the header after an 'L' or 'K' as the entry those name, whatever its type: an 'x' there is an
        // ordinary entry, and its "size" record does not apply to the header after it.
        bool afterGnu = _afterGnuMetadata;
        _afterGnuMetadata = type is (byte)'L' or (byte)'K';
        if (type is (byte)'x' or (byte)'g' or (byte)'L' or (byte)'K' && size > MaxMetadataBytes)
            throw new InvalidDataException($"a {(type is (byte)'L' or (byte)'K' ? "GNU long-name" : "pax")} entry declares {size:N0} bytes, more than the {MaxMetadataBytes:N0} such an entry may have");
        long dataStart = _position + Block;
        if (size > long.MaxValue - dataStart - Block)
        {
            // No stream holds that much; TarReader's own read of the data fails.
            _nextHeader = -1;
            return;
        }
        if (type == (byte)'x' && !afterGnu)
        {
            _pax.SetLength(0);
            (_paxStart, _paxEnd) = (dataStart, dataStart + size);
        }
        _nextHeader = dataStart + (size + Block - 1) / Block * Block;
    }

    /// <summary>
    /// The size field of a header that TarReader reads as an entry; false for the end marker or a header it refuses.
    /// The checksum is not compared: TarReader 10.0 does not compare it either, so a header with a wrong one is still read.
    /// </summary>
    private static bool TryHeaderSize(ReadOnlySpan<byte> header, out long size)
    {
        size = 0;
        var checksumField = header.Slice(148, 8);
        return checksumField.ContainsAnyExcept((byte)0) && TryOctal(checksumField, out long checksum) && checksum != 0
            && TrySize(header.Slice(124, 12), out size);
    }

    /// <summary>A size field as TarReader reads it: octal, or GNU base-256 (0x80 then 11 big-endian bytes); negative sizes it refuses.</summary>
    private static bool TrySize(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field[0] == 0xFF) return false;
        if (field[0] != 0x80) return TryOctal(field, out value);
        var digits = field[1..];
        for (int i = 0; i < digits.Length; i++)
        {
            if (i < digits.Length - 8 && digits[i] != 0) return false;
            value = value << 8 | digits[i];
        }
        return value >= 0;
    }

    /// <summary>Octal digits up to the first NUL, spaces around them ignored, as TarReader parses them.</summary>
    private static bool TryOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        int end = field.IndexOf((byte)0);
        foreach (byte b in (end < 0 ? field : field[..end]).Trim((byte)' '))
        {
            if (b is < (byte)'0' or > (byte)'7' || value > (long.MaxValue >> 3)) return false;
            value = value * 8 + (b - '0');
        }
        return true;
    }

    /// <summary>The "size" record of pax data ("LEN key=value\n" records), if any; <paramref name="valid"/> is false when the records do not parse.</summary>
    private static long? PaxSize(ReadOnlySpan<byte> records, out bool valid)
    {
        long? size = null;
        valid = false;
        while (!records.IsEmpty)
        {
            int space = records.IndexOf((byte)' ');
            if (space <= 0 || !int.TryParse(records[..space], System.Globalization.NumberStyles.None, null, out int length)
                || length <= space + 1 || length > records.Length || records[length - 1] != (byte)'\n')
                return null;
            var record = records[(space + 1)..(length - 1)];
            int eq = record.IndexOf((byte)'=');
            if (eq < 0) return null;
            if (record[..eq].SequenceEqual("size"u8))
            {
                string text = System.Text.Encoding.UTF8.GetString(record[(eq + 1)..]);
                if (text.Length > 0)
                {
                    if (!long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long parsed) || parsed < 0)
                        return null;
                    size = parsed;
                }
            }
            records = records[length..];
        }
        valid = true;
        return size;
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override void Flush() { }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _pax.Dispose();
        }
        base.Dispose(disposing);
    }
}
