using System.Formats.Tar;
using Cifar.Simd.Data;
using Cifar.Simd.Tests.Data.Download;
using Cifar.Simd.Tests.Support.Fuzzing;
using Xunit.Abstractions;

namespace Cifar.Simd.Tests.Data.Fuzzing;

/// <summary>
/// Mutates small valid CIFAR-10 archives — the tar inside (then gzipped, or left plain) and the gzip bytes themselves —
/// and checks that <see cref="Cifar10.Load"/> and <see cref="Cifar10Extractor.ExtractOnce"/> only ever succeed or throw
/// <see cref="InvalidDataException"/> naming the archive, within the deadline and without allocating from a declared size.
/// <c>CIFAR_SIMD_FUZZ_LONG=1</c> raises the case counts 50-fold.
/// </summary>
public sealed class CifarArchiveFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const string BinaryFolder = "cifar-10-batches-bin", PythonFolder = "cifar-10-batches-py";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] BinaryTar(TarEntryFormat format)
    {
        var files = CifarTestData.BinaryFiles(1);
        return CifarTestData.TarBytes(files, BinaryFolder, files.Keys.Reverse(), format);
    }

    private static byte[] PythonTar(TarEntryFormat format)
    {
        var files = CifarTestData.PythonFiles(1);
        return CifarTestData.TarBytes(files, PythonFolder, files.Keys, format);
    }

    /// <summary>Binary-layout tars in every tar format, then python-layout ones; each holds one image per batch.</summary>
    private static readonly byte[][] TarBases =
    [
        BinaryTar(TarEntryFormat.Pax), BinaryTar(TarEntryFormat.Gnu), BinaryTar(TarEntryFormat.Ustar), BinaryTar(TarEntryFormat.V7),
        PythonTar(TarEntryFormat.Pax), PythonTar(TarEntryFormat.Gnu),
    ];

    private const int BinaryTarBases = 4;

    private static readonly FormatEdit[] TarEditList =
        [TarEdits.Size, TarEdits.Type, TarEdits.Field, TarEdits.Pax, TarEdits.GnuLongName, FormatEdit.SetByte([0x00, (byte)'0', (byte)'7', 0x80, 0xFF])];

    private static readonly ByteFuzzer TarFuzzer = new(TarBases, TarEditList);

    private static readonly ByteFuzzer BinaryTarFuzzer = new(TarBases[..BinaryTarBases], TarEditList);

    private static readonly ByteFuzzer GzipFuzzer = new(TarBases.Select(CifarTestData.Gzip).ToArray(),
        TarEdits.GzipHeaderAndTrailer, FormatEdit.SetByte(TarEdits.GzipBytes, weight: 2));

    /// <summary>
    /// Memory allowed for one archive read: a fixed amount plus a multiple of the archive's size; gzip gets the
    /// deflate format's 1,032:1 ceiling, since an entry may honestly inflate that far.
    /// </summary>
    private static long LoadBudget(int length, bool gzip) => (4 << 20) + (gzip ? 1_100L : 8L) * length;

    private bool Load(byte[] archive, bool gzip)
    {
        string name = gzip ? "cifar-10-fuzz.tar.gz" : "cifar-10-fuzz.tar";
        string path = _dir.Combine(name);
        File.WriteAllBytes(path, gzip ? CifarTestData.Gzip(archive) : archive);
        return CifarFileFuzzTests.AcceptsOrRefuses(name, () =>
        {
            var set = Cifar10.Load(path);
            Assert.Equal(5 * set.Test.Count, set.Train.Count);
            Assert.Equal(10, set.LabelNames.Count);
        });
    }

    [Fact]
    public void Load_of_mutated_tar_gz_archives_ends_in_success_or_InvalidDataException()
    {
        using var runner = new FuzzRunner();
        var stats = runner.Check(TarFuzzer, FuzzSettings.Cases(600, 30_000), tar => Load(tar, gzip: true), n => LoadBudget(n, gzip: true));
        output.WriteLine($"Cifar10.Load, tar edits then gzip: {stats}");
        Assert.True(stats.Accepted > 0 && stats.Refused > 0);
    }

    [Fact]
    public void Load_of_mutated_plain_tar_archives_ends_in_success_or_InvalidDataException()
    {
        using var runner = new FuzzRunner();
        var stats = runner.Check(TarFuzzer, FuzzSettings.Cases(400, 20_000), tar => Load(tar, gzip: false), n => LoadBudget(n, gzip: false));
        output.WriteLine($"Cifar10.Load, tar edits, no gzip: {stats}");
        Assert.True(stats.Accepted > 0 && stats.Refused > 0);
    }

    [Fact]
    public void Load_of_archives_with_mutated_gzip_bytes_ends_in_success_or_InvalidDataException()
    {
        using var runner = new FuzzRunner();
        var stats = runner.Check(GzipFuzzer, FuzzSettings.Cases(400, 20_000), gz =>
        {
            string path = _dir.Combine("cifar-10-fuzz.tar.gz");
            File.WriteAllBytes(path, gz);
            return CifarFileFuzzTests.AcceptsOrRefuses("cifar-10-fuzz.tar.gz", () => Cifar10.Load(path));
        }, n => LoadBudget(n, gzip: true));
        output.WriteLine($"Cifar10.Load, gzip edits: {stats}");
        Assert.True(stats.Refused > 0);
    }

    /// <summary>The files of a binary and of a python set, one image per batch, each a base the folder fuzzer mutates.</summary>
    private static readonly (string Folder, string Name, byte[] Bytes)[] FolderFiles =
    [
        .. CifarTestData.BinaryFiles(1).Select(f => (BinaryFolder, f.Key, f.Value)),
        .. CifarTestData.PythonFiles(1).Select(f => (PythonFolder, f.Key, f.Value)),
    ];

    private static readonly ByteFuzzer FolderFuzzer = new(FolderFiles.Select(f => f.Bytes).ToArray(),
        PickleEdits.DeclaredLength, PickleEdits.Number, FormatEdit.SetByte([.. PickleEdits.Opcodes, 9, 10, 255]));

    [Fact]
    public void Load_of_a_folder_with_one_mutated_file_ends_in_success_or_InvalidDataException()
    {
        foreach (var (folder, name, bytes) in FolderFiles)
        {
            Directory.CreateDirectory(_dir.Combine(folder));
            File.WriteAllBytes(_dir.Combine(folder, name), bytes);
        }
        using var runner = new FuzzRunner();
        var stats = runner.Check(FolderFuzzer, FuzzSettings.Cases(200, 10_000), (c, mutated) =>
        {
            var (folder, name, original) = FolderFiles[c.Base];
            string path = _dir.Combine(folder, name);
            File.WriteAllBytes(path, mutated);
            try
            {
                // A batch that gained or lost records is caught by comparing counts, so the message may name another batch.
                var names = FolderFiles.Where(f => f.Folder == folder).Select(f => f.Name).ToArray();
                return CifarFileFuzzTests.AcceptsOrRefuses(names, () => Cifar10.Load(_dir.Combine(folder)));
            }
            finally
            {
                File.WriteAllBytes(path, original);
            }
        }, n => (1 << 20) + 64L * n);
        output.WriteLine($"Cifar10.Load of a folder, one file mutated: {stats}");
        Assert.True(stats.Accepted > 0 && stats.Refused > 0);
    }

    private int _extractions;

    private bool Extract(byte[] gz)
    {
        string archive = _dir.Combine("cifar-10-binary.tar.gz");
        File.WriteAllBytes(archive, gz);
        string parent = _dir.Combine($"x{_extractions++}");
        try
        {
            string folder = Cifar10Extractor.ExtractOnce(archive, parent, Cifar10ArchiveSpec.Binary);
            Assert.True(Cifar10ArchiveSpec.Binary.IsCompleteFolder(folder));
            return true;
        }
        catch (InvalidDataException e)
        {
            Assert.Contains(archive, e.Message);
            // A refused archive leaves no folder behind, complete-looking or temporary.
            Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
            return false;
        }
        finally
        {
            if (Directory.Exists(parent)) Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public void Extractor_on_mutated_archives_ends_in_success_or_InvalidDataException()
    {
        using var runner = new FuzzRunner();
        var tarStats = runner.Check(BinaryTarFuzzer, FuzzSettings.Cases(150, 12_000), tar => Extract(CifarTestData.Gzip(tar)), n => LoadBudget(n, gzip: true));
        output.WriteLine($"Cifar10Extractor, tar edits then gzip: {tarStats}");
        var gzipStats = runner.Check(GzipFuzzer, FuzzSettings.Cases(100, 8_000), Extract, n => LoadBudget(n, gzip: true));
        output.WriteLine($"Cifar10Extractor, gzip edits: {gzipStats}");
        Assert.True(tarStats.Accepted > 0 && tarStats.Refused > 0 && gzipStats.Refused > 0);
    }

    [Fact]
    public void The_archive_bases_load()
    {
        for (int i = 0; i < TarBases.Length; i++)
        {
            Assert.True(Load(TarBases[i], gzip: true), $"base {i}");
            Assert.True(Load(TarBases[i], gzip: false), $"base {i}");
        }
        Assert.True(Extract(CifarTestData.Gzip(TarBases[0])));
    }
}
