using Cifar.Simd.IO;
using Cifar.Simd.Tests.Data.Download;

namespace Cifar.Simd.Tests.IO;

public class AtomicFileTests
{
    private static readonly byte[] OldContent = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();
    private static readonly byte[] NewContent = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 13 + 1)).ToArray();

    private sealed class InjectedFault() : Exception("injected fault");

    [Fact]
    public void Successful_write_replaces_the_file_and_leaves_no_temporary_file()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.bin");
        File.WriteAllBytes(path, OldContent);

        AtomicFile.Write(path, s => s.Write(NewContent));

        Assert.Equal(NewContent, File.ReadAllBytes(path));
        Assert.Equal(["model.bin"], dir.Listing());
    }

    [Fact]
    public void Write_creates_a_file_that_did_not_exist()
    {
        using var dir = new TempDir();
        string path = dir.Combine("new.bin");
        AtomicFile.Write(path, s => s.Write(NewContent));
        Assert.Equal(NewContent, File.ReadAllBytes(path));
        Assert.Equal(["new.bin"], dir.Listing());
    }

    [Fact]
    public void Fault_half_way_through_the_write_leaves_the_old_file_intact_and_no_temporary_file()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.bin");
        File.WriteAllBytes(path, OldContent);

        Assert.Throws<InjectedFault>(() => AtomicFile.Write(path, s =>
        {
            s.Write(NewContent, 0, NewContent.Length / 2);
            s.Flush();
            throw new InjectedFault();
        }));

        Assert.Equal(OldContent, File.ReadAllBytes(path));
        Assert.Equal(["model.bin"], dir.Listing());
    }

    [Fact]
    public void Fault_after_the_flush_but_before_the_rename_leaves_the_old_file_intact()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.bin");
        File.WriteAllBytes(path, OldContent);
        string? seenTemp = null;

        Assert.Throws<InjectedFault>(() => AtomicFile.Write(path, s => s.Write(NewContent), tmp =>
        {
            // At this instant the complete new content is on disk under the temporary name, beside the target.
            seenTemp = tmp;
            Assert.Equal(NewContent, File.ReadAllBytes(tmp));
            throw new InjectedFault();
        }));

        Assert.Equal(dir.Path, Path.GetDirectoryName(seenTemp));
        Assert.StartsWith(".model.bin.tmp-", Path.GetFileName(seenTemp));
        Assert.Equal(OldContent, File.ReadAllBytes(path));
        Assert.Equal(["model.bin"], dir.Listing());
    }

    [Fact]
    public async Task Cancelled_async_write_leaves_the_old_file_intact_and_no_temporary_file()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.bin");
        File.WriteAllBytes(path, OldContent);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AtomicFile.WriteAsync(path, async (s, ct) =>
        {
            await s.WriteAsync(NewContent.AsMemory(0, NewContent.Length / 2), ct);
            cts.Cancel();
            await s.WriteAsync(NewContent.AsMemory(NewContent.Length / 2), ct);
        }, cts.Token));

        Assert.Equal(OldContent, File.ReadAllBytes(path));
        Assert.Equal(["model.bin"], dir.Listing());
    }

    [Fact]
    public async Task Async_write_replaces_the_file()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.bin");
        File.WriteAllBytes(path, OldContent);
        await AtomicFile.WriteAsync(path, (s, ct) => s.WriteAsync(NewContent, ct).AsTask());
        Assert.Equal(NewContent, File.ReadAllBytes(path));
        Assert.Equal(["model.bin"], dir.Listing());
    }

    [Fact]
    public void Failed_safetensors_save_keeps_the_previous_model()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.safetensors");
        SafeTensorsTestData.SmallModel().Save(path);
        byte[] before = File.ReadAllBytes(path);
        var bad = SafeTensorsTestData.SmallModel();
        bad.Metadata["broken"] = null!;

        Assert.Throws<ArgumentException>(() => bad.Save(path));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], dir.Listing());
    }

    [Fact]
    public void Missing_folder_is_an_ordinary_IO_error()
    {
        using var dir = new TempDir();
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(dir.Combine("no", "such", "x.bin"), s => s.WriteByte(1)));
    }
}
