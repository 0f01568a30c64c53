using System.Security.Cryptography;

namespace Cifar.Simd.IO;

/// <summary>
/// Replaces a file all at once: the content goes to a temporary file in the same folder, is
/// flushed to disk, and is then renamed over the target. A crash at any moment leaves either the
/// old file or the new one, never a torn mix. On failure the temporary file is deleted and the
/// exception propagates; the old file is untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> atomically: <paramref name="write"/> fills a temporary file
    /// <c>.{name}.tmp-{random}</c> beside the target, which is then flushed to disk and moved over
    /// <paramref name="path"/>.
    /// </summary>
    /// <param name="path">The file to create or replace. Its folder must exist.</param>
    /// <param name="write">Writes the whole new content to the stream it is given.</param>
    /// <exception cref="IOException">The temporary file cannot be created, flushed or moved.</exception>
    public static void Write(string path, Action<Stream> write) => Write(path, write, beforeReplace: null);

    /// <summary>The same as <see cref="Write(string, Action{Stream})"/>, with a hook called between the flush and the move (for fault-injection tests).</summary>
    internal static void Write(string path, Action<Stream> write, Action<string>? beforeReplace)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string tmpPath = TempPathFor(path);
        try
        {
            using (var stream = new FileStream(tmpPath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                // Without the flush to disk a power cut after the rename can leave an empty file under the final name.
                stream.Flush(flushToDisk: true);
            }
            beforeReplace?.Invoke(tmpPath);
            File.Move(tmpPath, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmpPath);
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> atomically and asynchronously; see <see cref="Write(string, Action{Stream})"/>.
    /// Cancellation before the move leaves the old file in place and no temporary file behind.
    /// </summary>
    /// <param name="path">The file to create or replace. Its folder must exist.</param>
    /// <param name="write">Writes the whole new content to the stream it is given.</param>
    /// <param name="cancellationToken">Cancels the write; passed on to <paramref name="write"/>.</param>
    /// <exception cref="IOException">The temporary file cannot be created, flushed or moved.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before the move.</exception>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string tmpPath = TempPathFor(path);
        try
        {
            await using (var stream = new FileStream(tmpPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(tmpPath, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmpPath);
            throw;
        }
    }

    /// <summary>The temporary name used for <paramref name="path"/>: hidden, in the same folder (so the rename never crosses file systems), and unique.</summary>
    internal static string TempPathFor(string path)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' names no file inside a folder.", nameof(path));
        string name = Path.GetFileName(full);
        if (name.Length == 0)
            throw new ArgumentException($"'{path}' names a folder, not a file.", nameof(path));
        return Path.Combine(folder, $".{name}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
