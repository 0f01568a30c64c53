using System.Net;
using Cifar.Simd.Data;

namespace Cifar.Simd.Tests.Data.Download;

public sealed class Cifar10DownloadTests
{
    private static readonly byte[] Archive = TestArchives.Binary();

    [Fact]
    public async Task GoodArchive_IsVerifiedMovedIntoPlace_AndReportsProgress()
    {
        using var dir = new TempDir();
        await using var server = new LoopbackServer(LoopbackServer.Serve(Archive));
        using var client = TestArchives.LoopbackClient();
        var reports = new List<DownloadProgress>();

        string path = await new Cifar10Download(server.BaseUri, client)
            .DownloadAsync(TestArchives.BinarySpecFor(Archive), dir.Path, new SyncProgress<DownloadProgress>(reports.Add));

        Assert.Equal(dir.Combine("cifar-10-binary.tar.gz"), path);
        Assert.Equal(Archive, await File.ReadAllBytesAsync(path));
        Assert.Equal(["cifar-10-binary.tar.gz"], dir.Listing());
        Assert.Equal(["/files/cifar-10-binary.tar.gz"], server.Paths);
        Assert.NotEmpty(reports);
        Assert.Equal(new DownloadProgress(Archive.Length, Archive.Length, reports[^1].BytesPerSecond), reports[^1]);
        Assert.Equal(1.0, reports[^1].Fraction);
        Assert.True(reports[^1].BytesPerSecond > 0);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.BytesReceived <= p.Second.BytesReceived));
    }

    [Fact]
    public async Task GoodArchive_ReplacesAnExistingFile()
    {
        using var dir = new TempDir();
        await File.WriteAllTextAsync(dir.Combine("cifar-10-binary.tar.gz"), "stale");
        await using var server = new LoopbackServer(LoopbackServer.Serve(Archive));
        using var client = TestArchives.LoopbackClient();

        string path = await new Cifar10Download(server.BaseUri, client).DownloadAsync(TestArchives.BinarySpecFor(Archive), dir.Path);

        Assert.Equal(Archive, await File.ReadAllBytesAsync(path));
        Assert.Equal(["cifar-10-binary.tar.gz"], dir.Listing());
    }

    [Fact]
    public async Task CorruptedArchive_ThrowsWithBothMd5s_AndLeavesNothing()
    {
        using var dir = new TempDir();
        byte[] corrupted = (byte[])Archive.Clone();
        corrupted[corrupted.Length / 2] ^= 0x5A;
        await using var server = new LoopbackServer(LoopbackServer.Serve(corrupted));
        using var client = TestArchives.LoopbackClient();
        var spec = TestArchives.BinarySpecFor(Archive);

        var e = await Assert.ThrowsAsync<Cifar10DownloadException>(() => new Cifar10Download(server.BaseUri, client).DownloadAsync(spec, dir.Path));

        Assert.Equal(Cifar10DownloadFailure.ChecksumMismatch, e.Failure);
        Assert.Equal(spec.Md5, e.ExpectedMd5);
        Assert.Equal(TestArchives.Md5(corrupted), e.ActualMd5);
        Assert.Contains(spec.Md5, e.Message);
        Assert.Contains(TestArchives.Md5(corrupted), e.Message);
        Assert.Contains(server.BaseUri + "cifar-10-binary.tar.gz", e.Message);
        Assert.Empty(dir.Listing());
    }

    [Fact]
    public async Task DroppedConnection_ThrowsWithByteCounts_AndLeavesNothing()
    {
        using var dir = new TempDir();
        await using var server = new LoopbackServer(LoopbackServer.DropHalfway(Archive));
        using var client = TestArchives.LoopbackClient();

        var e = await Assert.ThrowsAsync<Cifar10DownloadException>(
            () => new Cifar10Download(server.BaseUri, client).DownloadAsync(TestArchives.BinarySpecFor(Archive), dir.Path));

        Assert.Equal(Cifar10DownloadFailure.Truncated, e.Failure);
        Assert.Equal(Archive.Length, e.BytesExpected);
        Assert.True(e.BytesReceived < Archive.Length, $"received {e.BytesReceived}");
        Assert.Contains(Archive.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Empty(dir.Listing());
    }

    [Fact]
    public async Task HttpNotFound_ThrowsWithStatus_AndLeavesNothing()
    {
        using var dir = new TempDir();
        await using var server = new LoopbackServer(LoopbackServer.Status(404, "Not Found"));
        using var client = TestArchives.LoopbackClient();

        var e = await Assert.ThrowsAsync<Cifar10DownloadException>(
            () => new Cifar10Download(server.BaseUri, client).DownloadAsync(TestArchives.BinarySpecFor(Archive), dir.Path));

        Assert.Equal(Cifar10DownloadFailure.HttpStatus, e.Failure);
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("404", e.Message);
        Assert.Contains("cifar-10-binary.tar.gz", e.Message);
        Assert.Empty(dir.Listing());
    }

    [Fact]
    public async Task CancellationMidDownload_ThrowsOperationCanceled_AndLeavesNothing()
    {
        using var dir = new TempDir();
        byte[] big = new byte[4 << 20];
        await using var server = new LoopbackServer(LoopbackServer.Stall(big, 64 << 10));
        using var client = TestArchives.LoopbackClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        long seen = 0;
        var progress = new SyncProgress<DownloadProgress>(p =>
        {
            seen = p.BytesReceived;
            cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new Cifar10Download(server.BaseUri, client).DownloadAsync(TestArchives.BinarySpecFor(big), dir.Path, progress, cts.Token));

        Assert.True(seen > 0);
        Assert.Empty(dir.Listing());
    }

    [Fact]
    public async Task StalledServer_FailsAfterReadTimeout_AndLeavesNothing()
    {
        using var dir = new TempDir();
        byte[] big = new byte[1 << 20];
        await using var server = new LoopbackServer(LoopbackServer.Stall(big, 1000));
        using var client = TestArchives.LoopbackClient();
        var download = new Cifar10Download(server.BaseUri, client) { ReadTimeout = TimeSpan.FromMilliseconds(300) };

        var e = await Assert.ThrowsAsync<Cifar10DownloadException>(() => download.DownloadAsync(TestArchives.BinarySpecFor(big), dir.Path));

        Assert.Equal(Cifar10DownloadFailure.Network, e.Failure);
        Assert.Equal(1000, e.BytesReceived);
        Assert.Contains("0.3 s", e.Message);
        Assert.Empty(dir.Listing());
    }

    [Fact]
    public async Task ConnectionRefused_IsANetworkFailure_AndLeavesNothing()
    {
        using var dir = new TempDir();
        using var client = TestArchives.LoopbackClient();
        var download = new Cifar10Download(new Uri($"http://127.0.0.1:{LoopbackServer.FreePort()}/files"), client);

        var e = await Assert.ThrowsAsync<Cifar10DownloadException>(() => download.DownloadAsync(TestArchives.BinarySpecFor(Archive), dir.Path));

        Assert.Equal(Cifar10DownloadFailure.Network, e.Failure);
        Assert.Empty(dir.Listing());
    }

    [Fact]
    public void BaseUri_GetsATrailingSlash_AndTheOfficialUrlIsTheDefault()
    {
        Assert.Equal("http://127.0.0.1:1/a/b/cifar-10-binary.tar.gz", new Cifar10Download(new Uri("http://127.0.0.1:1/a/b")).GetUri(Cifar10ArchiveSpec.Binary).AbsoluteUri);
        Assert.Equal("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", new Cifar10Download().GetUri(Cifar10ArchiveSpec.Binary).AbsoluteUri);
        Assert.Equal("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", new Cifar10Download().GetUri(Cifar10ArchiveSpec.Python).AbsoluteUri);
    }

    [Fact]
    public async Task BadMd5Argument_IsRejectedBeforeAnyRequest()
    {
        using var dir = new TempDir();
        var download = new Cifar10Download(new Uri("http://127.0.0.1:1/"));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => download.DownloadFileAsync(new Uri("http://127.0.0.1:1/x"), "abc", dir.Combine("x")));
        Assert.Contains("'abc'", e.Message);
    }
}
