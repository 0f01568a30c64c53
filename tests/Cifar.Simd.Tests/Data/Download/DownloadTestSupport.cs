using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http;
using System.Security.Cryptography;
using Cifar.Simd.Data;

namespace Cifar.Simd.Tests.Data.Download;

/// <summary>A fresh folder under the temp directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cifar-simd-tests-" + Guid.NewGuid().ToString("N"));

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Every file and folder under the root, relative, sorted.</summary>
    public string[] Listing() => Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories)
        .Select(p => System.IO.Path.GetRelativePath(Path, p).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Reports synchronously, so a test sees every report before the call returns.</summary>
internal sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}

internal static class TestArchives
{
    /// <summary>Deterministic content for a fake batch file: two CIFAR records' worth of bytes.</summary>
    public static byte[] FakeContent(string name)
    {
        byte[] bytes = new byte[2 * 3073];
        int seed = name.Aggregate(17, (h, c) => (h * 31) + c);
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)((i * 7) + seed);
        return bytes;
    }

    /// <summary>
    /// A tar.gz in the official binary layout (a folder entry, the six batches, batches.meta.txt),
    /// optionally without some files and with extra entries (name → content; null content makes a symlink).
    /// </summary>
    public static byte[] Binary(IEnumerable<string>? omit = null, IEnumerable<(string Name, byte[]? Content)>? extra = null)
    {
        var spec = Cifar10ArchiveSpec.Binary;
        var skip = new HashSet<string>(omit ?? []);
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, spec.FolderName + "/"));
            foreach (string file in spec.RequiredFiles.Append("batches.meta.txt").Where(f => !skip.Contains(f)))
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{spec.FolderName}/{file}") { DataStream = new MemoryStream(FakeContent(file)) });
            foreach ((string name, byte[]? content) in extra ?? [])
            {
                tar.WriteEntry(content is null
                    ? new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = "/etc/passwd" }
                    : new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            }
        }

        return buffer.ToArray();
    }

    public static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    public static Cifar10ArchiveSpec BinarySpecFor(byte[] archive) => Cifar10ArchiveSpec.Binary with { Md5 = Md5(archive) };

    /// <summary>A client that never uses a proxy, so tests reach only 127.0.0.1.</summary>
    public static HttpClient LoopbackClient() =>
        new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(10) };

    public static string WriteArchive(TempDir dir, byte[] archive, string name = "cifar-10-binary.tar.gz")
    {
        string path = dir.Combine(name);
        File.WriteAllBytes(path, archive);
        return path;
    }
}
