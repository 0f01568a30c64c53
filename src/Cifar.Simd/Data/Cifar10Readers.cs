using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using static Cifar.Simd.Data.PickleReader;

namespace Cifar.Simd.Data;

public static partial class Cifar10
{
    /// <summary>The five training batch names, without the binary format's <c>.bin</c> suffix.</summary>
    private static readonly string[] TrainBatchNames = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"];

    private const string TestBatchName = "test_batch";
    private const string BinaryMetaName = "batches.meta.txt";
    private const string PythonMetaName = "batches.meta";
    private const string BinaryFolderName = "cifar-10-batches-bin";
    private const string PythonFolderName = "cifar-10-batches-py";

    private const long MaxFileBytes = TarInput.MaxEntryBytes;

    /// <summary>
    /// Loads the whole set from <paramref name="path"/>: a <c>cifar-10-batches-bin</c> or <c>cifar-10-batches-py</c>
    /// folder, a folder that contains one of them, or a <c>.tar.gz</c> (or plain <c>.tar</c>) archive of either
    /// official download. Archive entries are found by file name in any order, without extracting to disk.
    /// The binary layout wins when both are present.
    /// </summary>
    /// <exception cref="FileNotFoundException">The path does not exist, or a folder lacks a batch or meta file (the message names it).</exception>
    /// <exception cref="InvalidDataException">
    /// A file is malformed, an archive is corrupt or lacks a batch or meta entry, or an archive entry declares more
    /// bytes than the archive can hold. The message starts with the file's name; for an archive, with the archive's.
    /// </exception>
    public static Cifar10RawSet Load(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) return LoadFolder(path, cancellationToken);
        if (File.Exists(path)) return LoadArchive(path, cancellationToken);
        throw new FileNotFoundException($"{path}: no such CIFAR-10 folder or archive.", path);
    }

    /// <summary>Reads one binary-format batch file (<c>data_batch_N.bin</c> or <c>test_batch.bin</c>).</summary>
    /// <exception cref="InvalidDataException">The length is not a positive whole number of 3,073-byte records, or a label exceeds 9.</exception>
    public static Cifar10Batch ReadBinaryBatch(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ParseBinaryBatch(ReadFile(path), Path.GetFileName(path));
    }

    /// <summary>Parses binary-format records held in memory; <paramref name="name"/> names them in error messages.</summary>
    /// <exception cref="InvalidDataException">The length is not a positive whole number of 3,073-byte records, or a label exceeds 9.</exception>
    public static Cifar10Batch ParseBinaryBatch(ReadOnlySpan<byte> data, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int n = CountBinaryRecords(data.Length, name);
        var labels = new byte[n];
        var images = GC.AllocateUninitializedArray<byte>(n * Features);
        ParseBinaryInto(data, name, images, labels);
        return new Cifar10Batch(name, images, labels);
    }

    private static int CountBinaryRecords(int length, string name)
    {
        if (length == 0 || length % RecordBytes != 0)
            throw CifarFormatError.Create(name, $"its length {length:N0} bytes is not a positive whole number of {RecordBytes:N0}-byte records " +
                $"({length / RecordBytes:N0} records and {length % RecordBytes:N0} bytes left over; truncated or not a CIFAR-10 binary batch).");
        return length / RecordBytes;
    }

    /// <summary>Splits whole records into <paramref name="images"/> and <paramref name="labels"/>, which hold exactly their count.</summary>
    private static void ParseBinaryInto(ReadOnlySpan<byte> data, string name, Span<byte> images, Span<byte> labels)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            var record = data.Slice(i * RecordBytes, RecordBytes);
            if (record[0] >= Classes)
                throw CifarFormatError.Create(name, $"record {i} has label {record[0]}; labels are 0 to {Classes - 1}.");
            labels[i] = record[0];
            record[1..].CopyTo(images.Slice(i * Features, Features));
        }
    }

    /// <summary>Reads one python-format batch file (<c>data_batch_N</c> or <c>test_batch</c>, a cPickle protocol-2 dict).</summary>
    /// <exception cref="InvalidDataException">The pickle is outside the accepted subset, truncated, or not a CIFAR-10 batch dict.</exception>
    public static Cifar10Batch ReadPythonBatch(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ParsePythonBatch(ReadFile(path), Path.GetFileName(path));
    }

    /// <summary>Parses a python-format batch held in memory; <paramref name="name"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The pickle is outside the accepted subset, truncated, or not a CIFAR-10 batch dict.</exception>
    public static Cifar10Batch ParsePythonBatch(byte[] data, string name)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(name);
        var (images, labels) = ParsePythonCore(data, name);
        return new Cifar10Batch(name, images.ToArray(), labels);
    }

    /// <summary>The batch's image bytes (a slice of <paramref name="data"/>, not copied) and its validated labels.</summary>
    private static (ArraySegment<byte> Images, byte[] Labels) ParsePythonCore(byte[] data, string name)
    {
        var dict = PickleReader.Load(data, name) as PickleDict
            ?? throw CifarFormatError.Create(name, "the pickle does not hold a dict.");
        var labelList = Field<List<object>>(dict, "labels", "list", name);
        var array = Field<PickleNdArray>(dict, "data", "numpy array", name);
        if (array.Shape is not [int rows, Features])
            throw CifarFormatError.Create(name, $"'data' has shape ({string.Join(", ", array.Shape ?? [])}); expected (N, {Features}).");
        if (labelList.Count != rows)
            throw CifarFormatError.Create(name, $"'labels' has {labelList.Count} entries but 'data' has {rows} rows.");
        var labels = new byte[rows];
        for (int i = 0; i < rows; i++)
        {
            if (labelList[i] is not long label)
                throw CifarFormatError.Create(name, $"labels[{i}] is a {TypeName(labelList[i])}, not an int.");
            if ((ulong)label >= Classes)
                throw CifarFormatError.Create(name, $"labels[{i}] = {label}; labels are 0 to {Classes - 1}.");
            labels[i] = (byte)label;
        }
        return (array.Data, labels);
    }

    /// <summary>Parses label names from the binary format's <c>batches.meta.txt</c>: one name a line, blank lines ignored.</summary>
    /// <exception cref="InvalidDataException">Fewer than ten names.</exception>
    public static IReadOnlyList<string> ParseBinaryMeta(ReadOnlySpan<byte> data, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var names = Encoding.UTF8.GetString(data)
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return CheckLabelNames(names, name);
    }

    /// <summary>Parses label names from the python format's <c>batches.meta</c> pickle (a dict with <c>label_names</c>, <c>num_cases_per_batch</c>, <c>num_vis</c>).</summary>
    /// <exception cref="InvalidDataException">The pickle is outside the accepted subset, or the dict lacks <c>label_names</c> or has <c>num_vis</c> ≠ 3072.</exception>
    public static IReadOnlyList<string> ParsePythonMeta(byte[] data, string name)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(name);
        var dict = PickleReader.Load(data, name) as PickleDict
            ?? throw CifarFormatError.Create(name, "the pickle does not hold a dict.");
        var list = Field<List<object>>(dict, "label_names", "list", name);
        if (dict.Items.TryGetValue("num_vis", out var vis) && vis is not (long)Features)
            throw CifarFormatError.Create(name, $"num_vis is {(vis is long v ? v.ToString() : TypeName(vis))}; CIFAR-10 images have {Features} values.");
        if (list.Count < Classes)
            throw CifarFormatError.Create(name, $"it lists {list.Count} label names; CIFAR-10 has {Classes}.");
        // Only the names used are decoded: a hostile list can hold the same long string many times.
        var names = new string[Classes];
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not PickleBytes s)
                throw CifarFormatError.Create(name, $"label_names[{i}] is a {TypeName(list[i])}, not a str.");
            if (i < Classes) names[i] = s.Text;
        }
        return names;
    }

    private static string[] CheckLabelNames(string[] names, string name) =>
        names.Length >= Classes ? names[..Classes] : throw CifarFormatError.Create(name, $"it lists {names.Length} label names; CIFAR-10 has {Classes}.");

    private static T Field<T>(PickleDict dict, string key, string what, string name) where T : class
    {
        if (!dict.Items.TryGetValue(key, out var value))
            throw CifarFormatError.Create(name, $"the dict has no '{key}' entry.");
        return value as T ?? throw CifarFormatError.Create(name, $"'{key}' is a {TypeName(value)}, not a {what}.");
    }

    private static byte[] ReadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: the CIFAR-10 file is missing.", path);
        if (info.Length > MaxFileBytes)
            throw CifarFormatError.Create(info.Name, $"it is {info.Length:N0} bytes, more than the {MaxFileBytes:N0} a CIFAR-10 batch can be.");
        return File.ReadAllBytes(path);
    }

    private static Cifar10RawSet LoadFolder(string folder, CancellationToken cancellationToken)
    {
        // Accept the extracted archive's parent as well as the batches folder itself.
        if (!HasBatch(folder))
        {
            if (Directory.Exists(Path.Combine(folder, BinaryFolderName))) folder = Path.Combine(folder, BinaryFolderName);
            else if (Directory.Exists(Path.Combine(folder, PythonFolderName))) folder = Path.Combine(folder, PythonFolderName);
        }
        bool binary = File.Exists(Path.Combine(folder, TrainBatchNames[0] + ".bin")) || !File.Exists(Path.Combine(folder, TrainBatchNames[0]));
        return Assemble(binary ? Cifar10Format.Binary : Cifar10Format.Python, fileName =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ReadFile(Path.Combine(folder, fileName));
        });
    }

    private static bool HasBatch(string folder) =>
        File.Exists(Path.Combine(folder, TrainBatchNames[0] + ".bin")) || File.Exists(Path.Combine(folder, TrainBatchNames[0]));

    private static Cifar10RawSet LoadArchive(string archivePath, CancellationToken cancellationToken)
    {
        string archiveName = Path.GetFileName(archivePath);
        var wanted = new HashSet<string>(StringComparer.Ordinal) { TestBatchName, TestBatchName + ".bin", BinaryMetaName, PythonMetaName };
        foreach (var b in TrainBatchNames) { wanted.Add(b); wanted.Add(b + ".bin"); }
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        InvalidDataException Corrupt(Exception e) => CifarFormatError.Create(archiveName, $"the archive is corrupt or truncated ({e.Message}).", e);

        using (var file = File.OpenRead(archivePath))
        {
            Span<byte> magic = stackalloc byte[2];
            int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            bool gzip = got == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
            long plausible = TarInput.MaxPlausibleEntryBytes(file.Length, gzip);
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            // The guard keeps TarReader from allocating what an oversized pax or GNU long-name header declares.
            using var tar = new TarReader(new TarMetadataGuardStream(stream));
            while (TarInput.NextEntry(tar, Corrupt) is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                string name = entry.Name.Replace('\\', '/');
                name = name[(name.LastIndexOf('/') + 1)..];
                if (!wanted.Contains(name)) continue;
                if (entries.ContainsKey(name))
                    throw CifarFormatError.Create(archiveName, $"it holds more than one entry named {name} (ambiguous).");
                if (entry.Length > MaxFileBytes)
                    throw CifarFormatError.Create(archiveName, $"entry {entry.Name} is {entry.Length:N0} bytes, more than the {MaxFileBytes:N0} a CIFAR-10 batch can be.");
                // The size comes from the header, so it is checked against what the archive can hold before it is allocated.
                if (entry.Length > plausible)
                    throw CifarFormatError.Create(archiveName, $"entry {entry.Name} declares {entry.Length:N0} bytes, more than the {file.Length:N0}-byte archive can hold" +
                        (gzip ? $" even at deflate's highest ratio of {TarInput.MaxDeflateRatio:N0}:1 (corrupt header)." : " (corrupt header)."));
                var bytes = GC.AllocateUninitializedArray<byte>((int)entry.Length);
                for (int filled = 0, n; filled < bytes.Length; filled += n)
                {
                    n = TarInput.Read(entry.DataStream, bytes.AsSpan(filled), Corrupt);
                    if (n == 0)
                        throw CifarFormatError.Create(archiveName, $"entry {entry.Name} declares {entry.Length:N0} bytes but the archive ends after {filled:N0} (truncated).");
                }
                entries.Add(name, bytes);
            }
        }

        bool binary = entries.ContainsKey(TrainBatchNames[0] + ".bin") || !entries.ContainsKey(TrainBatchNames[0]);
        try
        {
            return Assemble(binary ? Cifar10Format.Binary : Cifar10Format.Python, fileName =>
                entries.Remove(fileName, out var bytes) ? bytes
                    : throw CifarFormatError.Create(archiveName, $"the archive has no entry named {fileName} (a {(binary ? "binary" : "python")}-format CIFAR-10 archive needs data_batch_1 to 5, test_batch and the meta file)."));
        }
        catch (InvalidDataException e) when (e.Data[CifarFormatError.Marker] is string named && named != archiveName)
        {
            // A malformed entry names itself; the archive's name goes first, so the message says which file to look at.
            throw CifarFormatError.Create(archiveName, e.Message, e);
        }
    }

    private static Cifar10RawSet Assemble(Cifar10Format format, Func<string, byte[]> open)
    {
        bool binary = format == Cifar10Format.Binary;
        string suffix = binary ? ".bin" : "";
        var names = binary ? ParseBinaryMeta(open(BinaryMetaName), BinaryMetaName) : ParsePythonMeta(open(PythonMetaName), PythonMetaName);

        // Parse headers and counts of all six batches first, so the training images land in one buffer with one copy.
        var fileNames = TrainBatchNames.Append(TestBatchName).Select(b => b + suffix).ToArray();
        var files = new byte[fileNames.Length][];
        var pythonImages = new ArraySegment<byte>[fileNames.Length];
        var pythonLabels = new byte[fileNames.Length][];
        var counts = new int[fileNames.Length];
        for (int b = 0; b < fileNames.Length; b++)
        {
            files[b] = open(fileNames[b]);
            if (binary) counts[b] = CountBinaryRecords(files[b].Length, fileNames[b]);
            else
            {
                (pythonImages[b], pythonLabels[b]) = ParsePythonCore(files[b], fileNames[b]);
                counts[b] = pythonLabels[b].Length;
            }
        }
        // The official batches all hold the same number of images, so one that differs was truncated at a record boundary.
        for (int b = 1; b < fileNames.Length; b++)
            if (counts[b] != counts[0])
                throw CifarFormatError.Create(fileNames[b], $"it holds {counts[b]:N0} images but {fileNames[0]} holds {counts[0]:N0}; every batch of a CIFAR-10 set holds the same number (truncated file?).");

        int n = counts[0];
        int trainBatches = TrainBatchNames.Length;
        var trainImages = GC.AllocateUninitializedArray<byte>(checked(n * trainBatches * Features));
        var trainLabels = new byte[n * trainBatches];
        var testImages = GC.AllocateUninitializedArray<byte>(n * Features);
        var testLabels = new byte[n];
        for (int b = 0; b < fileNames.Length; b++)
        {
            bool test = b == trainBatches;
            var images = test ? testImages.AsSpan() : trainImages.AsSpan(b * n * Features, n * Features);
            var labels = test ? testLabels.AsSpan() : trainLabels.AsSpan(b * n, n);
            if (binary) ParseBinaryInto(files[b], fileNames[b], images, labels);
            else
            {
                pythonImages[b].AsSpan().CopyTo(images);
                pythonLabels[b].CopyTo(labels);
            }
            files[b] = [];
        }
        return new Cifar10RawSet(
            new Cifar10Batch("data_batch_1-5" + suffix, trainImages, trainLabels),
            new Cifar10Batch(fileNames[trainBatches], testImages, testLabels),
            names, format);
    }
}
