using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Cifar.Simd.Data;

/// <summary>
/// Unpacks a CIFAR-10 <c>.tar.gz</c> atomically: into a temporary sibling folder first, then renamed
/// to its final name, so an interrupted extraction never leaves a folder that looks complete.
/// </summary>
public static class Cifar10Extractor
{
    /// <summary>Temporary folders and files older than this are taken to be left over from a crashed run and deleted.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private const int BufferSize = 1 << 16;

    /// <summary>
    /// Extracts <paramref name="archivePath"/> into <c>parentFolder/spec.FolderName</c> unless that folder
    /// is already complete, and returns its path.
    /// </summary>
    /// <remarks>
    /// Only regular-file entries named <c>spec.FolderName/&lt;name&gt;</c>, with <c>name</c> one of the
    /// spec's required or optional files, are extracted; other entries are skipped. An entry whose name is
    /// absolute or contains a <c>..</c> segment makes the whole archive refused. Temporary folders
    /// (<c>.FolderName.extract-&lt;random&gt;</c>) older than <see cref="StaleAfter"/> are deleted; younger
    /// ones may belong to a concurrent run and are left alone.
    /// </remarks>
    /// <param name="archivePath">A <c>.tar.gz</c> file.</param>
    /// <param name="parentFolder">The folder that receives <c>spec.FolderName</c>; created if missing.</param>
    /// <param name="spec">Which archive layout to expect.</param>
    /// <param name="cancellationToken">Checked between blocks; on cancellation the temporary folder is deleted.</param>
    /// <returns>The full path of the complete <c>spec.FolderName</c> folder.</returns>
    /// <exception cref="InvalidDataException">The archive is unreadable, holds an unsafe entry name, declares an entry over 256 MiB or larger than the archive can hold, or lacks a required file.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="archivePath"/> does not exist.</exception>
    public static string ExtractOnce(string archivePath, string parentFolder, Cifar10ArchiveSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        ArgumentException.ThrowIfNullOrEmpty(parentFolder);
        ArgumentNullException.ThrowIfNull(spec);
        parentFolder = Path.GetFullPath(parentFolder);
        string finalFolder = Path.Combine(parentFolder, spec.FolderName);
        if (spec.IsCompleteFolder(finalFolder))
            return finalFolder;
        if (!File.Exists(archivePath))
            throw new FileNotFoundException($"The CIFAR-10 archive '{archivePath}' does not exist.", archivePath);

        Directory.CreateDirectory(parentFolder);
        DeleteStale(parentFolder, $".{spec.FolderName}.extract-*");
        // A sibling of the final folder, so Directory.Move is a rename on the same volume.
        string tmpFolder = Path.Combine(parentFolder, $".{spec.FolderName}.extract-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        Directory.CreateDirectory(tmpFolder);
        bool moved = false;
        try
        {
            ExtractInto(archivePath, tmpFolder, spec, cancellationToken);
            string[] missing = spec.RequiredFiles.Where(f => !File.Exists(Path.Combine(tmpFolder, f))).ToArray();
            if (missing.Length > 0)
            {
                throw new InvalidDataException(
                    $"The archive '{archivePath}' lacks {string.Join(", ", missing.Select(m => $"{spec.FolderName}/{m}"))}; expected the official {spec.FileName} layout.");
            }

            if (Directory.Exists(finalFolder))
            {
                // Another run finished first, or an incomplete folder was made by hand.
                if (spec.IsCompleteFolder(finalFolder))
                    return finalFolder;
                throw new IOException($"The folder '{finalFolder}' exists but lacks some of {string.Join(", ", spec.RequiredFiles)}; delete it and try again.");
            }

            try
            {
                Directory.Move(tmpFolder, finalFolder);
                moved = true;
            }
            catch (IOException) when (spec.IsCompleteFolder(finalFolder))
            {
                // Lost a race with a concurrent extraction that produced the same folder.
            }

            return finalFolder;
        }
        finally
        {
            if (!moved)
                TryDeleteDirectory(tmpFolder);
        }
    }

    private static void ExtractInto(string archivePath, string tmpFolder, Cifar10ArchiveSpec spec, CancellationToken ct)
    {
        using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize);
        long plausible = TarInput.MaxPlausibleEntryBytes(file.Length, gzip: true);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(new TarMetadataGuardStream(gzip));
        byte[] buffer = new byte[BufferSize];
        InvalidDataException Unreadable(Exception e) => new($"The archive '{archivePath}' is not a readable .tar.gz: {e.Message}", e);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            TarEntry? entry = TarInput.NextEntry(tar, Unreadable);
            if (entry is null)
                break;
            string? name = SelectEntry(entry.Name, archivePath, spec);
            if (name is null || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                continue;
            // The header's size bounds what gets written to disk, so a decompression bomb is refused before it is inflated.
            if (entry.Length > TarInput.MaxEntryBytes || entry.Length > plausible)
            {
                throw new InvalidDataException(
                    $"The archive '{archivePath}' declares {entry.Length:N0} bytes for '{entry.Name}', more than a CIFAR-10 file can be " +
                    $"({TarInput.MaxEntryBytes:N0}) or than a {file.Length:N0}-byte .tar.gz can hold.");
            }

            using var output = new FileStream(Path.Combine(tmpFolder, name), FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
            int n;
            while ((n = TarInput.Read(entry.DataStream, buffer, e => new($"The archive '{archivePath}' is truncated or corrupt inside '{entry.Name}': {e.Message}", e))) > 0)
            {
                ct.ThrowIfCancellationRequested();
                output.Write(buffer, 0, n);
            }
        }
    }

    /// <summary>Returns the bare file name to extract for an entry, null to skip it; throws on an unsafe name.</summary>
    internal static string? SelectEntry(string entryName, string archivePath, Cifar10ArchiveSpec spec)
    {
        string normalized = entryName.Replace('\\', '/');
        bool absolute = normalized.StartsWith('/') || Path.IsPathRooted(entryName) || (normalized.Length >= 2 && normalized[1] == ':');
        string[] segments = normalized.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (absolute || segments.Contains(".."))
        {
            throw new InvalidDataException(
                $"The archive '{archivePath}' holds the entry '{entryName}', whose path is {(absolute ? "absolute" : "outside the archive's folder ('..')")}; refusing to extract it.");
        }

        segments = segments.Where(s => s != ".").ToArray();
        return segments.Length == 2 && segments[0] == spec.FolderName && spec.IsKnownFile(segments[1]) ? segments[1] : null;
    }

    /// <summary>Deletes files and folders in <paramref name="folder"/> matching <paramref name="pattern"/> and older than <see cref="StaleAfter"/>.</summary>
    internal static void DeleteStale(string folder, string pattern)
    {
        DateTime cutoff = DateTime.UtcNow - StaleAfter;
        foreach (string dir in Directory.EnumerateDirectories(folder, pattern))
        {
            if (Directory.GetLastWriteTimeUtc(dir) < cutoff)
                TryDeleteDirectory(dir);
        }

        foreach (string file in Directory.EnumerateFiles(folder, pattern))
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff)
                Cifar10Download.TryDeleteFile(file);
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: what cannot be deleted now is swept once it is stale.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
