using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.IO;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors), so that
/// weights saved here open in Python with numpy, PyTorch or the <c>safetensors</c> package.
/// Layout: an 8-byte little-endian header length N; N bytes of UTF-8 JSON mapping each tensor name
/// to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> plus an optional
/// <c>"__metadata__"</c> object of strings, padded with spaces to a multiple of 8 bytes; then the
/// raw little-endian data, with offsets relative to its start. Only F32 and F64 tensors of rank 1
/// to 4 are read and written.
/// </summary>
/// <remarks>
/// Loading treats the input as hostile: every number is checked before anything is allocated from
/// it, and every problem is a <see cref="SafeTensorsFormatException"/> naming the source (see
/// <c>docs/model-format.md</c> for the full list of checks).
/// </remarks>
public static class SafeTensors
{
    /// <summary>The largest header this reader accepts, in bytes (100 MB, as the reference implementation).</summary>
    public const long MaxHeaderLength = 100_000_000;

    // Deep nesting cannot occur in a valid header (it is at most 3 levels), so a low limit costs nothing.
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 8 };

    /// <summary>Saves <paramref name="file"/> to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        byte[] header = BuildHeader(file);
        AtomicFile.Write(path, stream => WriteCore(stream, header, file));
    }

    /// <summary>Writes <paramref name="file"/> in safetensors layout to <paramref name="stream"/> at its current position.</summary>
    public static void Write(Stream stream, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        WriteCore(stream, BuildHeader(file), file);
    }

    /// <summary>The safetensors bytes of <paramref name="file"/>.</summary>
    public static byte[] ToBytes(SafeTensorsFile file)
    {
        using var stream = new MemoryStream();
        Write(stream, file);
        return stream.ToArray();
    }

    /// <summary>Loads the safetensors file at <paramref name="path"/>; messages name it as given.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is malformed or holds something other than F32/F64 tensors of rank 1 to 4.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Buffer size 1 turns FileStream's buffer off: tensor data is read straight into the tensors.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return Read(stream, path);
    }

    /// <summary>Reads a safetensors file held in memory; <paramref name="sourceName"/> labels it in messages.</summary>
    /// <exception cref="SafeTensorsFormatException">The bytes are malformed or hold something other than F32/F64 tensors of rank 1 to 4.</exception>
    public static SafeTensorsFile Read(byte[] bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        return Read(stream, sourceName);
    }

    /// <summary>
    /// Reads a safetensors file from a seekable stream, from its current position to its end;
    /// <paramref name="sourceName"/> labels it in messages.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot read or seek (its length bounds every allocation).</exception>
    /// <exception cref="SafeTensorsFormatException">The content is malformed or holds something other than F32/F64 tensors of rank 1 to 4.</exception>
    /// <exception cref="IOException">The stream fails to read.</exception>
    public static SafeTensorsFile Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        if (!stream.CanRead || !stream.CanSeek)
            ThrowHelper.Argument("A safetensors stream must be readable and seekable: its length bounds what the header may declare.", nameof(stream));

        long available = stream.Length - stream.Position;
        if (available < 8)
            throw Fail(sourceName, $"is {available} bytes long; a safetensors file starts with an 8-byte header length");
        Span<byte> lengthField = stackalloc byte[8];
        ReadExactly(stream, lengthField, sourceName);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthField);
        if (headerLength > MaxHeaderLength)
            throw Fail(sourceName, $"header length {headerLength} bytes exceeds the {MaxHeaderLength}-byte limit");
        if (headerLength > (ulong)(available - 8))
            throw Fail(sourceName, $"header length {headerLength} bytes is more than the {available - 8} bytes after the length field");

        var header = new byte[(int)headerLength];
        ReadExactly(stream, header, sourceName);
        long dataLength = available - 8 - (long)headerLength;
        var (entries, metadata) = ParseHeader(header, dataLength, sourceName);

        var file = new SafeTensorsFile();
        foreach (var (key, value) in metadata)
            file.Metadata[key] = value;
        // Entries are sorted by offset and cover the data section without gaps, so reading is sequential.
        foreach (var entry in entries)
        {
            SafeTensor tensor = entry.DType == SafeTensorsDType.F32
                ? ReadTensor<float>(stream, entry, sourceName)
                : ReadTensor<double>(stream, entry, sourceName);
            file.Add(tensor);
        }
        return file;
    }

    private readonly record struct Entry(string Name, SafeTensorsDType DType, int[] Dims, long Begin, long End);

    private static SafeTensor<T> ReadTensor<T>(Stream stream, Entry entry, string sourceName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensor = Tensor<T>.Uninitialized(entry.Dims);
        var bytes = MemoryMarshal.AsBytes(tensor.AsSpan());
        ReadExactly(stream, bytes, sourceName);
        if (!BitConverter.IsLittleEndian)
            ReverseElements(bytes, Marshal.SizeOf<T>());
        return new SafeTensor<T>(entry.Name, tensor);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string sourceName)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            // Only reachable when the file shrinks while it is read: the length was checked up front.
            throw Fail(sourceName, "ends before the data its header declares (was it truncated while being read?)", e);
        }
    }

    private static (List<Entry> Entries, List<KeyValuePair<string, string>> Metadata) ParseHeader(byte[] header, long dataLength, string source)
    {
        if (!Utf8.IsValid(header))
            throw Fail(source, "header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, JsonOptions);
        }
        catch (JsonException e)
        {
            throw Fail(source, $"header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Fail(source, $"header is a JSON {Kind(root)}, not an object");

            var entries = new List<Entry>();
            var metadata = new List<KeyValuePair<string, string>>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                string name = NameOf(property, source);
                if (!names.Add(name))
                    throw Fail(source, $"header names {Quote(name)} twice");
                if (name == SafeTensorsFile.MetadataKey)
                    ParseMetadata(property.Value, metadata, source);
                else
                    entries.Add(ParseEntry(name, property.Value, dataLength, source));
            }

            CheckCoverage(entries, dataLength, source);
            return (entries, metadata);
        }
    }

    private static void ParseMetadata(JsonElement value, List<KeyValuePair<string, string>> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(source, $"'{SafeTensorsFile.MetadataKey}' is a JSON {Kind(value)}, not an object of strings");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateObject())
        {
            string key = NameOf(item, source);
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Fail(source, $"'{SafeTensorsFile.MetadataKey}' entry {Quote(key)} is a JSON {Kind(item.Value)}, not a string");
            if (!keys.Add(key))
                throw Fail(source, $"'{SafeTensorsFile.MetadataKey}' names {Quote(key)} twice");
            metadata.Add(new(key, TextOf(item.Value, source)));
        }
    }

    private static Entry ParseEntry(string name, JsonElement value, long dataLength, string source)
    {
        if (name.Length == 0)
            throw Fail(source, "a tensor has an empty name");
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(source, $"tensor {Quote(name)} is a JSON {Kind(value)}, not an object");

        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (var field in value.EnumerateObject())
        {
            ref JsonElement? slot = ref dtypeElement;
            string fieldName = NameOf(field, source);
            switch (fieldName)
            {
                case "dtype": slot = ref dtypeElement; break;
                case "shape": slot = ref shapeElement; break;
                case "data_offsets": slot = ref offsetsElement; break;
                default: continue; // Unknown fields are ignored, as the reference reader does.
            }
            if (slot is not null)
                throw Fail(source, $"tensor {Quote(name)} has '{fieldName}' twice");
            slot = field.Value;
        }
        if (dtypeElement is not { } dtypeValue)
            throw Fail(source, $"tensor {Quote(name)} has no 'dtype'");
        if (shapeElement is not { } shapeValue)
            throw Fail(source, $"tensor {Quote(name)} has no 'shape'");
        if (offsetsElement is not { } offsetsValue)
            throw Fail(source, $"tensor {Quote(name)} has no 'data_offsets'");

        if (dtypeValue.ValueKind != JsonValueKind.String)
            throw Fail(source, $"tensor {Quote(name)} has a dtype that is a JSON {Kind(dtypeValue)}, not a string");
        string dtypeName = TextOf(dtypeValue, source);
        SafeTensorsDType dtype = dtypeName switch
        {
            "F32" => SafeTensorsDType.F32,
            "F64" => SafeTensorsDType.F64,
            _ => throw Fail(source, $"tensor {Quote(name)} has dtype {Quote(dtypeName)}; only F32 and F64 are supported"),
        };
        int elementSize = dtype == SafeTensorsDType.F32 ? 4 : 8;

        if (shapeValue.ValueKind != JsonValueKind.Array)
            throw Fail(source, $"tensor {Quote(name)} has a shape that is a JSON {Kind(shapeValue)}, not an array");
        int rank = shapeValue.GetArrayLength();
        if (rank is < 1 or > Shape.MaxRank)
            throw Fail(source, $"tensor {Quote(name)} has rank {rank}; ranks 1 to {Shape.MaxRank} are supported");
        var dims = new int[rank];
        long count = 1;
        bool overflow = false, tooLarge = false;
        for (int i = 0; i < rank; i++)
        {
            var dim = shapeValue[i];
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d) || d < 0)
                throw Fail(source, $"tensor {Quote(name)} has shape entry {Raw(dim)}, not a non-negative integer");
            if (d > int.MaxValue)
                throw Fail(source, $"tensor {Quote(name)} has shape entry {d}, larger than {int.MaxValue}");
            dims[i] = (int)d;
            try { count = checked(count * d); }
            catch (OverflowException) { overflow = true; }
            // Shape refuses a leading product above Array.MaxLength even when a later 0 makes the tensor empty.
            tooLarge |= overflow || count > Array.MaxLength;
        }
        string shapeText = $"[{string.Join(", ", dims)}]";
        long byteLength = 0;
        if (!overflow)
        {
            try { byteLength = checked(count * elementSize); }
            catch (OverflowException) { overflow = true; }
        }
        if (overflow)
            throw Fail(source, $"tensor {Quote(name)} declares shape {shapeText}, whose byte size overflows a 64-bit integer");

        if (offsetsValue.ValueKind != JsonValueKind.Array || offsetsValue.GetArrayLength() != 2)
            throw Fail(source, $"tensor {Quote(name)} has data_offsets {Raw(offsetsValue)}, not an array [begin, end]");
        long begin = ParseOffset(offsetsValue[0], name, source);
        long end = ParseOffset(offsetsValue[1], name, source);
        if (begin > end)
            throw Fail(source, $"tensor {Quote(name)} has data_offsets [{begin}, {end}] with begin after end");
        if (end > dataLength)
            throw Fail(source, $"tensor {Quote(name)} has data_offsets [{begin}, {end}] beyond the {dataLength}-byte data section");
        if (end - begin != byteLength)
            throw Fail(source, $"tensor {Quote(name)} declares shape {shapeText} ({count} {dtypeName} = {byteLength} bytes) but data_offsets span {end - begin} bytes");
        if (tooLarge)
            throw Fail(source, $"tensor {Quote(name)} declares shape {shapeText}, larger than a tensor can hold (at most {Array.MaxLength} elements, counting each leading product of dimensions)");
        return new Entry(name, dtype, dims, begin, end);
    }

    private static long ParseOffset(JsonElement element, string name, string source)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long value) || value < 0)
            throw Fail(source, $"tensor {Quote(name)} has data offset {Raw(element)}, not a non-negative 64-bit integer");
        return value;
    }

    private static void CheckCoverage(List<Entry> entries, long dataLength, string source)
    {
        // The reference reader requires the data section to be tiled exactly: no holes, no overlaps, nothing after.
        entries.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        string? previous = null;
        foreach (var entry in entries)
        {
            if (entry.Begin < covered)
                throw Fail(source, $"tensor {Quote(entry.Name)} data_offsets [{entry.Begin}, {entry.End}] overlap tensor {Quote(previous!)}, which ends at {covered}");
            if (entry.Begin > covered)
                throw Fail(source, $"data bytes [{covered}, {entry.Begin}) before tensor {Quote(entry.Name)} belong to no tensor");
            covered = entry.End;
            previous = entry.Name;
        }
        if (covered != dataLength)
            throw Fail(source, $"the data section is {dataLength} bytes but its tensors cover only {covered}");
    }

    private static byte[] BuildHeader(SafeTensorsFile file)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (file.Metadata.Count > 0)
            {
                json.WriteStartObject(SafeTensorsFile.MetadataKey);
                foreach (var (key, value) in file.Metadata)
                {
                    if (value is null)
                        ThrowHelper.Argument($"Metadata entry '{key}' is null; safetensors metadata values are strings.", nameof(file));
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in file.Tensors)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", SafeTensor.DTypeName(tensor.DType));
                json.WriteStartArray("shape");
                for (int i = 0; i < tensor.Shape.Rank; i++)
                    json.WriteNumberValue(tensor.Shape[i]);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.ByteLength;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Spaces pad the header so the data section starts 8-byte aligned, as the reference writer does.
        int padded = (buffer.WrittenCount + 7) & ~7;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteCore(Stream stream, byte[] header, SafeTensorsFile file)
    {
        Span<byte> lengthField = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthField, (ulong)header.Length);
        stream.Write(lengthField);
        stream.Write(header);
        foreach (var tensor in file.Tensors)
        {
            if (BitConverter.IsLittleEndian)
            {
                stream.Write(tensor.HostBytes);
                continue;
            }
            // Big-endian hosts swap through a small buffer so the tensor itself is never modified.
            var bytes = tensor.HostBytes;
            var chunk = new byte[Math.Min(bytes.Length, 1 << 16)];
            for (int start = 0; start < bytes.Length; start += chunk.Length)
            {
                int n = Math.Min(chunk.Length, bytes.Length - start);
                bytes.Slice(start, n).CopyTo(chunk);
                ReverseElements(chunk.AsSpan(0, n), tensor.ElementSize);
                stream.Write(chunk, 0, n);
            }
        }
    }

    private static void ReverseElements(Span<byte> bytes, int elementSize)
    {
        for (int i = 0; i + elementSize <= bytes.Length; i += elementSize)
            bytes.Slice(i, elementSize).Reverse();
    }

    // JSON escapes can encode lone UTF-16 surrogates, which System.Text.Json refuses to decode with InvalidOperationException
    // (ValueEquals and NameEquals decode too), so every name and string goes through these two.
    private static string NameOf(JsonProperty property, string source)
    {
        try { return property.Name; }
        catch (InvalidOperationException e) { throw Fail(source, $"header holds a name that is not valid UTF-16 ({e.Message})", e); }
    }

    private static string TextOf(JsonElement element, string source)
    {
        try { return element.GetString()!; }
        catch (InvalidOperationException e) { throw Fail(source, $"header holds a string that is not valid UTF-16 ({e.Message})", e); }
    }

    private static SafeTensorsFormatException Fail(string source, string problem, Exception? inner = null) => new(source, problem, inner);

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString(),
    };

    // Hostile headers can hold megabyte-long names and numbers; messages show a bounded prefix.
    private const int MaxShown = 64;

    private static string Quote(string text) => text.Length <= MaxShown ? $"'{text}'" : $"'{text[..MaxShown]}…' ({text.Length} chars)";

    private static string Raw(JsonElement element)
    {
        string raw = element.GetRawText();
        return raw.Length <= MaxShown ? raw : $"{raw[..MaxShown]}… ({raw.Length} chars)";
    }
}
