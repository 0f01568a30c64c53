using Cifar.Simd.Data;

namespace Cifar.Simd.Tests.Data.Download;

public sealed class Cifar10ExtractorTests
{
    private static readonly Cifar10ArchiveSpec Spec = Cifar10ArchiveSpec.Binary;

    [Fact]
    public void Extract_WritesTheExpectedFiles_AndNoTemporaryFolder()
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, TestArchives.Binary());

        string folder = Cifar10Extractor.ExtractOnce(archive, dir.Combine("cache"), Spec);

        Assert.Equal(dir.Combine("cache", "cifar-10-batches-bin"), folder);
        foreach (string file in Spec.RequiredFiles.Append("batches.meta.txt"))
            Assert.Equal(TestArchives.FakeContent(file), File.ReadAllBytes(Path.Combine(folder, file)));
        Assert.Equal(
            ["cache", "cache/cifar-10-batches-bin", .. Spec.RequiredFiles.Append("batches.meta.txt").Select(f => "cache/cifar-10-batches-bin/" + f).Order(StringComparer.Ordinal), "cifar-10-binary.tar.gz"],
            dir.Listing());
    }

    [Fact]
    public void SecondCall_ReusesTheFolder_WithoutReExtracting()
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, TestArchives.Binary());
        string folder = Cifar10Extractor.ExtractOnce(archive, dir.Path, Spec);
        string marker = Path.Combine(folder, "data_batch_1.bin");
        File.WriteAllText(marker, "changed after extraction");

        Assert.Equal(folder, Cifar10Extractor.ExtractOnce(archive, dir.Path, Spec));
        Assert.Equal("changed after extraction", File.ReadAllText(marker));
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("cifar-10-batches-bin/../../evil")]
    [InlineData("/tmp/cifar-simd-evil")]
    [InlineData("./../evil")]
    public void UnsafeEntryName_RefusesTheWholeArchive(string entry)
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, TestArchives.Binary(extra: [(entry, "pwned"u8.ToArray())]));
        string parent = dir.Combine("a", "b");

        var e = Assert.Throws<InvalidDataException>(() => Cifar10Extractor.ExtractOnce(archive, parent, Spec));

        Assert.Contains($"'{entry}'", e.Message);
        Assert.Contains("refusing", e.Message);
        Assert.Equal(["a", "a/b", "cifar-10-binary.tar.gz"], dir.Listing());
        Assert.False(File.Exists("/tmp/cifar-simd-evil"));
    }

    [Fact]
    public void UnknownEntriesAndLinks_AreSkipped()
    {
        using var dir = new TempDir();
        byte[] data = TestArchives.Binary(extra:
        [
            ("cifar-10-batches-bin/extra.sh", "echo hi"u8.ToArray()),
            ("other/data_batch_1.bin", "wrong folder"u8.ToArray()),
            ("cifar-10-batches-bin/sub/readme.html", "too deep"u8.ToArray()),
            ("cifar-10-batches-bin/readme.html", null),
        ]);
        string archive = TestArchives.WriteArchive(dir, data);

        string folder = Cifar10Extractor.ExtractOnce(archive, dir.Combine("out"), Spec);

        Assert.Equal(Spec.RequiredFiles.Append("batches.meta.txt").Order(StringComparer.Ordinal), Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MissingRequiredFile_Throws_AndLeavesNoFolder()
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, TestArchives.Binary(omit: ["test_batch.bin"]));

        var e = Assert.Throws<InvalidDataException>(() => Cifar10Extractor.ExtractOnce(archive, dir.Combine("out"), Spec));

        Assert.Contains("cifar-10-batches-bin/test_batch.bin", e.Message);
        Assert.Equal(["cifar-10-binary.tar.gz", "out"], dir.Listing());
    }

    [Fact]
    public void TruncatedArchive_ThrowsInvalidData_AndLeavesNoFolder()
    {
        using var dir = new TempDir();
        byte[] data = TestArchives.Binary();
        string archive = TestArchives.WriteArchive(dir, data[..(data.Length / 2)]);

        var e = Assert.ThrowsAny<Exception>(() => Cifar10Extractor.ExtractOnce(archive, dir.Combine("out"), Spec));

        Assert.True(e is InvalidDataException or EndOfStreamException, e.ToString());
        Assert.Contains(archive, e.Message);
        Assert.Equal(["cifar-10-binary.tar.gz", "out"], dir.Listing());
    }

    [Fact]
    public void NotGzip_ThrowsInvalidData()
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, "this is not a gzip file at all"u8.ToArray());

        var e = Assert.Throws<InvalidDataException>(() => Cifar10Extractor.ExtractOnce(archive, dir.Combine("out"), Spec));

        Assert.Contains(archive, e.Message);
        Assert.Equal(["cifar-10-binary.tar.gz", "out"], dir.Listing());
    }

    [Fact]
    public void StaleTemporaryFolder_IsDeleted_AndAFreshOneIsLeftAlone()
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, TestArchives.Binary());
        string parent = dir.Combine("out");
        string stale = Path.Combine(parent, ".cifar-10-batches-bin.extract-deadbeef0001");
        string fresh = Path.Combine(parent, ".cifar-10-batches-bin.extract-deadbeef0002");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "data_batch_1.bin"), "half");
        Directory.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-1));
        Directory.CreateDirectory(fresh);

        string folder = Cifar10Extractor.ExtractOnce(archive, parent, Spec);

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(fresh));
        Assert.Equal(TestArchives.FakeContent("data_batch_1.bin"), File.ReadAllBytes(Path.Combine(folder, "data_batch_1.bin")));
    }

    [Fact]
    public void IncompleteFinalFolder_IsNotTakenForComplete()
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, TestArchives.Binary());
        string parent = dir.Combine("out");
        Directory.CreateDirectory(Path.Combine(parent, "cifar-10-batches-bin"));
        File.WriteAllText(Path.Combine(parent, "cifar-10-batches-bin", "data_batch_1.bin"), "half");

        var e = Assert.Throws<IOException>(() => Cifar10Extractor.ExtractOnce(archive, parent, Spec));

        Assert.Contains("delete it", e.Message);
        Assert.Equal(["cifar-10-batches-bin", "cifar-10-batches-bin/data_batch_1.bin"], Directory.EnumerateFileSystemEntries(parent, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(parent, p)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Cancellation_LeavesNoFolder()
    {
        using var dir = new TempDir();
        string archive = TestArchives.WriteArchive(dir, TestArchives.Binary());
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => Cifar10Extractor.ExtractOnce(archive, dir.Combine("out"), Spec, cts.Token));

        Assert.Equal(["cifar-10-binary.tar.gz", "out"], dir.Listing());
    }
}
