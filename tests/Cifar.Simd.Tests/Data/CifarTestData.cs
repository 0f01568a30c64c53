using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Cifar.Simd.Data;

namespace Cifar.Simd.Tests.Data;

/// <summary>Synthetic CIFAR-10 inputs (binary records, cPickle-style pickles, tar.gz archives) and the shared data's location.</summary>
internal static class CifarTestData
{
    public static readonly string[] LabelNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The shared CIFAR-10 folder: <c>../shared/cifar10</c> beside the folder holding <c>Cifar.Simd.sln</c>.</summary>
    public static string SharedFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Cifar.Simd.sln")))
                {
                    string shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "cifar10"));
                    Assert.True(Directory.Exists(shared), $"The shared CIFAR-10 data is expected at {shared} (../shared/cifar10 from the repository root).");
                    return shared;
                }
            throw new InvalidOperationException($"No folder holding Cifar.Simd.sln above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>A deterministic pixel value for (image, channel, row, col), distinct across channels.</summary>
    public static byte Pixel(int image, int channel, int row, int col) => (byte)((image * 7 + channel * 85 + row * 3 + col * 5) & 0xFF);

    /// <summary>Channel-planar images: n × 3072 bytes with <see cref="Pixel"/> values.</summary>
    public static byte[] PlanarImages(int n, int firstImage = 0)
    {
        var images = new byte[n * Cifar10.Features];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        images[i * 3072 + c * 1024 + y * 32 + x] = Pixel(firstImage + i, c, y, x);
        return images;
    }

    public static byte[] Labels(int n, int firstImage = 0)
    {
        var labels = new byte[n];
        for (int i = 0; i < n; i++) labels[i] = (byte)((firstImage + i) % 10);
        return labels;
    }

    /// <summary>A binary-format batch: n records of label + planar image.</summary>
    public static byte[] BinaryBatch(int n, int firstImage = 0)
    {
        var images = PlanarImages(n, firstImage);
        var labels = Labels(n, firstImage);
        var bytes = new byte[n * Cifar10.RecordBytes];
        for (int i = 0; i < n; i++)
        {
            bytes[i * 3073] = labels[i];
            images.AsSpan(i * 3072, 3072).CopyTo(bytes.AsSpan(i * 3073 + 1));
        }
        return bytes;
    }

    public static byte[] BinaryMeta() => Encoding.ASCII.GetBytes(string.Join("\n", LabelNames) + "\n\n");

    /// <summary>The files of a binary-format set with <paramref name="perBatch"/> images per batch.</summary>
    public static Dictionary<string, byte[]> BinaryFiles(int perBatch)
    {
        var files = new Dictionary<string, byte[]> { ["batches.meta.txt"] = BinaryMeta() };
        for (int b = 1; b <= 5; b++) files[$"data_batch_{b}.bin"] = BinaryBatch(perBatch, (b - 1) * perBatch);
        files["test_batch.bin"] = BinaryBatch(perBatch, 1000);
        return files;
    }

    /// <summary>The files of a python-format set with <paramref name="perBatch"/> images per batch.</summary>
    public static Dictionary<string, byte[]> PythonFiles(int perBatch)
    {
        var files = new Dictionary<string, byte[]> { ["batches.meta"] = PythonMeta(perBatch) };
        for (int b = 1; b <= 5; b++)
            files[$"data_batch_{b}"] = PythonBatch(PlanarImages(perBatch, (b - 1) * perBatch), Labels(perBatch, (b - 1) * perBatch), $"training batch {b} of 5");
        files["test_batch"] = PythonBatch(PlanarImages(perBatch, 1000), Labels(perBatch, 1000), "testing batch 1 of 1");
        return files;
    }

    public static string WriteFolder(Dictionary<string, byte[]> files, string? subfolder = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "cifar-simd-tests", Guid.NewGuid().ToString("N"));
        string dir = subfolder is null ? root : Path.Combine(root, subfolder);
        Directory.CreateDirectory(dir);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        return root;
    }

    /// <summary>A tar.gz holding the files under <paramref name="folder"/>/, in the given order of names.</summary>
    public static string WriteTarGz(Dictionary<string, byte[]> files, string folder, IEnumerable<string> order, bool gzip = true)
    {
        string dir = Path.Combine(Path.GetTempPath(), "cifar-simd-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, gzip ? "cifar-10-test.tar.gz" : "cifar-10-test.tar");
        var tar = TarBytes(files, folder, order);
        File.WriteAllBytes(path, gzip ? Gzip(tar) : tar);
        return path;
    }

    /// <summary>
    /// An uncompressed tar in <paramref name="format"/> holding a folder entry, a readme and the files under
    /// <paramref name="folder"/>/, in the given order of names.
    /// </summary>
    public static byte[] TarBytes(Dictionary<string, byte[]> files, string folder, IEnumerable<string> order, TarEntryFormat format = TarEntryFormat.Pax)
    {
        using var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, format, leaveOpen: true))
        {
            tar.WriteEntry(TarEntryOf(format, TarEntryType.Directory, folder + "/", null));
            tar.WriteEntry(TarEntryOf(format, TarEntryType.RegularFile, folder + "/readme.html", "<html></html>"u8.ToArray()));
            foreach (var name in order)
                tar.WriteEntry(TarEntryOf(format, TarEntryType.RegularFile, $"{folder}/{name}", files[name]));
        }
        return stream.ToArray();
    }

    private static TarEntry TarEntryOf(TarEntryFormat format, TarEntryType type, string name, byte[]? data)
    {
        TarEntry entry = format switch
        {
            TarEntryFormat.V7 => new V7TarEntry(type == TarEntryType.RegularFile ? TarEntryType.V7RegularFile : type, name),
            TarEntryFormat.Ustar => new UstarTarEntry(type, name),
            TarEntryFormat.Gnu => new GnuTarEntry(type, name),
            _ => new PaxTarEntry(type, name),
        };
        if (data is not null) entry.DataStream = new MemoryStream(data);
        return entry;
    }

    /// <summary>The bytes gzip-compressed (one member, fastest level).</summary>
    public static byte[] Gzip(byte[] bytes)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(bytes);
        return stream.ToArray();
    }

    /// <summary>A python-format batch written with the opcodes Python 2's cPickle uses (protocol 2).</summary>
    public static byte[] PythonBatch(byte[] planarImages, byte[] labels, string batchLabel)
    {
        var w = new PickleWriter();
        w.Proto().EmptyDict().Put().Mark();
        w.Str("batch_label").Put().Str(batchLabel).Put();
        w.Str("labels").Put().EmptyList().Put().Mark();
        foreach (var l in labels) w.Int(l);
        w.Op('e');
        w.Str("data").Put();
        w.NdArrayU1(planarImages.Length / Cifar10.Features, Cifar10.Features, planarImages);
        w.Str("filenames").Put().EmptyList().Put().Mark();
        for (int i = 0; i < labels.Length; i++) w.Str($"image_{i}.png").Put();
        w.Op('e');
        w.Op('u').Op('.');
        return w.ToArray();
    }

    public static byte[] PythonMeta(int perBatch)
    {
        var w = new PickleWriter();
        w.Proto().EmptyDict().Put().Mark();
        w.Str("num_cases_per_batch").Put().Int(perBatch);
        w.Str("label_names").Put().EmptyList().Put().Mark();
        foreach (var name in LabelNames) w.Str(name).Put();
        w.Op('e');
        w.Str("num_vis").Put().Int(3072);
        w.Op('u').Op('.');
        return w.ToArray();
    }
}

/// <summary>Writes pickle opcodes the way Python 2's cPickle does at protocol 2.</summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream _s = new();
    private int _memo;

    public PickleWriter Op(char op) { _s.WriteByte((byte)op); return this; }
    public PickleWriter Byte(byte b) { _s.WriteByte(b); return this; }
    public PickleWriter Raw(ReadOnlySpan<byte> bytes) { _s.Write(bytes); return this; }
    public PickleWriter Proto() => Byte(0x80).Byte(2);
    public PickleWriter EmptyDict() => Op('}');
    public PickleWriter EmptyList() => Op(']');
    public PickleWriter Mark() => Op('(');
    public PickleWriter None() => Op('N');
    public PickleWriter False() => Byte(0x89);
    public PickleWriter True() => Byte(0x88);

    /// <summary>The memo index the last <see cref="Put"/> stored to.</summary>
    public int LastMemo => _memo;

    /// <summary>BINGET or LONG_BINGET of a memo index, as cPickle writes a second reference to an object.</summary>
    public PickleWriter Get(int index)
    {
        if (index < 256) return Op('h').Byte((byte)index);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, index);
        return Op('j').Raw(b);
    }

    /// <summary>A protocol-3 BINBYTES payload.</summary>
    public PickleWriter BinBytes(byte[] bytes)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, bytes.Length);
        return Op('B').Raw(b).Raw(bytes);
    }

    public PickleWriter Put()
    {
        _memo++;
        if (_memo < 256) return Op('q').Byte((byte)_memo);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, _memo);
        return Op('r').Raw(b);
    }

    public PickleWriter Int(int v)
    {
        Span<byte> b = stackalloc byte[4];
        if (v is >= 0 and < 256) return Op('K').Byte((byte)v);
        if (v is >= 0 and < 65536) { BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); return Op('M').Raw(b[..2]); }
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        return Op('J').Raw(b);
    }

    public PickleWriter Str(string s) => Bytes(Encoding.Latin1.GetBytes(s));

    public PickleWriter Bytes(byte[] bytes)
    {
        if (bytes.Length < 256) return Op('U').Byte((byte)bytes.Length).Raw(bytes);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, bytes.Length);
        return Op('T').Raw(b).Raw(bytes);
    }

    public PickleWriter Global(string module, string name) => Op('c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    /// <summary>numpy's reduce of a C-order uint8 array of shape (rows, cols), as in the CIFAR-10 files.</summary>
    public PickleWriter NdArrayU1(int rows, int cols, byte[] data)
    {
        Global("numpy.core.multiarray", "_reconstruct").Put();
        Global("numpy", "ndarray").Put();
        Int(0).Byte(0x85).Put().Str("b").Put().Byte(0x87).Put().Op('R').Put();
        Mark().Int(1).Int(rows).Int(cols).Byte(0x86).Put();
        Global("numpy", "dtype").Put().Str("u1").Put().Int(0).Int(1).Byte(0x87).Put().Op('R').Put();
        Mark().Int(3).Str("|").Put().None().None().None().Int(-1).Int(-1).Int(0).Op('t').Put().Op('b');
        False().Bytes(data).Put().Op('t').Put().Op('b');
        return this;
    }

    public byte[] ToArray() => _s.ToArray();
}
