using Cifar.Simd.Data;

namespace Cifar.Simd.Tests.Data.Download;

public sealed class Cifar10CacheTests
{
    private static readonly byte[] Archive = TestArchives.Binary();
    private static readonly Cifar10ArchiveSpec Spec = TestArchives.BinarySpecFor(Archive);

    private static Func<string, string?> Env(string? data = null) => name => name == Cifar10Cache.EnvironmentVariable ? data : null;

    /// <summary>A cache whose downloader points at a port with nothing listening, so any download attempt fails fast.</summary>
    private static Cifar10Cache Offline(string root, Func<string, string?> env, HttpClient client) =>
        new(root, new Cifar10Download(new Uri($"http://127.0.0.1:{LoopbackServer.FreePort()}/files/"), client), env);

    [Fact]
    public async Task EmptyCache_DownloadsOnce_ExtractsOnce_ThenReuses()
    {
        using var dir = new TempDir();
        await using var server = new LoopbackServer(LoopbackServer.Serve(Archive));
        using var client = TestArchives.LoopbackClient();
        var cache = new Cifar10Cache(dir.Path, new Cifar10Download(server.BaseUri, client), Env());
        var reports = new List<DownloadProgress>();
        string stalePartial = dir.Combine("cifar-10-binary.tar.gz.partial-0123456789ab");
        await File.WriteAllTextAsync(stalePartial, "left by a crashed run");
        File.SetLastWriteTimeUtc(stalePartial, DateTime.UtcNow.AddDays(-2));

        string folder = await cache.EnsureFolderAsync(Spec, null, new SyncProgress<DownloadProgress>(reports.Add));
        string again = await cache.EnsureFolderAsync(Spec, null);

        Assert.Equal(dir.Combine("cifar-10-batches-bin"), folder);
        Assert.Equal(folder, again);
        Assert.Equal(1, server.RequestCount);
        Assert.Equal(Archive.Length, reports[^1].BytesReceived);
        Assert.Equal(TestArchives.FakeContent("test_batch.bin"), await File.ReadAllBytesAsync(Path.Combine(folder, "test_batch.bin")));
        Assert.DoesNotContain(dir.Listing(), p => p.Contains("partial", StringComparison.Ordinal) || p.Contains(".extract-", StringComparison.Ordinal));
        Assert.True(File.Exists(dir.Combine("cifar-10-binary.tar.gz")));
    }

    [Fact]
    public void Offline_EmptyCache_GivesOneClearMessage()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        var cache = Offline(dir.Path, Env(), client);

        var e = Assert.Throws<Cifar10DownloadException>(() => cache.EnsureBinaryFolder());

        Assert.Equal(Cifar10DownloadFailure.Network, e.Failure);
        Assert.Contains($"'{dir.Path}'", e.Message);
        Assert.Contains("CIFAR_SIMD_DATA is not set", e.Message);
        Assert.Contains("--data PATH", e.Message);
        Assert.Contains("no connection could be made", e.Message);
        Assert.Contains("127.0.0.1", e.Message);
        Assert.Empty(dir.Listing());
        Assert.False(Directory.Exists(dir.Combine("never-made")));
        Assert.Throws<Cifar10DownloadException>(() => Offline(dir.Combine("never-made"), Env(), client).EnsureBinaryFolder());
        Assert.False(Directory.Exists(dir.Combine("never-made")));
    }

    [Fact]
    public void Offline_EnvFolderWithoutData_IsTheCacheFolder_AndNamedInTheMessage()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        string envFolder = dir.Combine("env");
        Directory.CreateDirectory(envFolder);
        var cache = new Cifar10Cache(null, new Cifar10Download(new Uri($"http://127.0.0.1:{LoopbackServer.FreePort()}/"), client), Env(envFolder));

        var e = Assert.Throws<Cifar10DownloadException>(() => cache.EnsureBinaryFolder());

        Assert.Contains($"cache folder '{envFolder}'", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(envFolder));
        Assert.Contains($"CIFAR_SIMD_DATA is '{envFolder}'", e.Message);
    }

    [Fact]
    public void ArchiveInCache_IsExtractedWithoutDownloading()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        TestArchives.WriteArchive(dir, Archive);

        string folder = Offline(dir.Path, Env(), client).EnsureBinaryFolder();

        Assert.Equal(dir.Combine("cifar-10-batches-bin"), folder);
    }

    [Fact]
    public void DataPath_Folder_IsUsedAsIs_AndItsParentWorksToo()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        string data = Cifar10Extractor.ExtractOnce(TestArchives.WriteArchive(dir, Archive), dir.Combine("data"), Spec);
        var cache = Offline(dir.Combine("cache"), Env(), client);

        Assert.Equal(data, cache.EnsureBinaryFolder(data));
        Assert.Equal(data, cache.EnsureBinaryFolder(dir.Combine("data")));
        Assert.False(Directory.Exists(dir.Combine("cache")));
    }

    [Fact]
    public void DataPath_Archive_IsExtractedOnceIntoTheCache_AndReused()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        string archive = TestArchives.WriteArchive(dir, Archive);
        var cache = Offline(dir.Combine("cache"), Env(), client);

        string folder = cache.EnsureBinaryFolder(archive);
        File.WriteAllText(Path.Combine(folder, "data_batch_2.bin"), "marker");
        string again = cache.EnsureBinaryFolder(archive);
        string viaParent = cache.EnsureBinaryFolder(dir.Path);

        Assert.StartsWith(dir.Combine("cache", "extracted", "cifar-10-binary-"), folder);
        Assert.EndsWith(Path.DirectorySeparatorChar + "cifar-10-batches-bin", folder);
        Assert.Equal(folder, again);
        Assert.Equal(folder, viaParent);
        Assert.Equal("marker", File.ReadAllText(Path.Combine(folder, "data_batch_2.bin")));
    }

    [Fact]
    public void DataPath_ArchiveChanged_IsExtractedAgainUnderANewKey()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        string archive = TestArchives.WriteArchive(dir, Archive);
        var cache = Offline(dir.Combine("cache"), Env(), client);
        string first = cache.EnsureBinaryFolder(archive);

        File.SetLastWriteTimeUtc(archive, File.GetLastWriteTimeUtc(archive).AddMinutes(-5));
        string second = cache.EnsureBinaryFolder(archive);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void EnvironmentVariable_Archive_IsUsed_ButDataPathWins()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        string archive = TestArchives.WriteArchive(dir, Archive);
        string other = Cifar10Extractor.ExtractOnce(archive, dir.Combine("other"), Spec);
        var cache = Offline(dir.Combine("cache"), Env(archive), client);

        Assert.StartsWith(dir.Combine("cache", "extracted"), cache.EnsureBinaryFolder());
        Assert.Equal(other, cache.EnsureBinaryFolder(other));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("file.bin")]
    [InlineData("emptyfolder")]
    public void DataPath_Unusable_ThrowsFileNotFound_NamingThePath(string name)
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        File.WriteAllText(dir.Combine("file.bin"), "x");
        Directory.CreateDirectory(dir.Combine("emptyfolder"));
        var cache = Offline(dir.Combine("cache"), Env(), client);

        var e = Assert.Throws<FileNotFoundException>(() => cache.EnsureBinaryFolder(dir.Combine(name)));

        Assert.Contains(dir.Combine(name), e.Message);
    }

    [Fact]
    public void EnvironmentVariable_Missing_ThrowsFileNotFound_NamingTheVariable()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        var cache = Offline(dir.Combine("cache"), Env(dir.Combine("nope.tar.gz")), client);

        var e = Assert.Throws<FileNotFoundException>(() => cache.EnsureBinaryFolder());

        Assert.Contains("CIFAR_SIMD_DATA", e.Message);
    }

    [Fact]
    public void DefaultRoot_FollowsXdgHomeAndLocalAppData()
    {
        string sep = Path.DirectorySeparatorChar.ToString();
        Func<string, string?> env = n => n switch { "XDG_CACHE_HOME" => "/x/cache", "HOME" => "/home/u", "LOCALAPPDATA" => "/appdata", _ => null };
        Func<string, string?> noXdg = n => n switch { "XDG_CACHE_HOME" => "relative/ignored", "HOME" => "/home/u", _ => null };

        Assert.Equal(Path.Combine("/x/cache", "cifar-simd"), Cifar10Cache.ComputeDefaultRoot(env, isWindows: false));
        Assert.Equal(Path.Combine("/home/u", ".cache", "cifar-simd"), Cifar10Cache.ComputeDefaultRoot(noXdg, isWindows: false));
        Assert.Equal(Path.Combine("/appdata", "cifar-simd"), Cifar10Cache.ComputeDefaultRoot(env, isWindows: true));
        Assert.EndsWith(sep + "cifar-simd", Cifar10Cache.DefaultRoot);
        Assert.Equal(Path.GetFullPath("some/where"), new Cifar10Cache("some/where").Root);
    }
}
