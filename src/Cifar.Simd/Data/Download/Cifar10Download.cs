using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;

namespace Cifar.Simd.Data;

/// <summary>
/// Downloads a CIFAR-10 archive over HTTP(S), verifying its MD5 while it streams to a temporary file
/// beside the destination, and moves it into place only when it is complete and verified.
/// </summary>
/// <remarks>
/// On any failure (HTTP error, dropped connection, checksum mismatch, cancellation) the temporary
/// file is deleted, so the destination folder never holds a partial archive under any name.
/// Instances are thread-safe; concurrent downloads of the same file each use their own temporary file.
/// </remarks>
public sealed class Cifar10Download
{
    /// <summary>The folder on the official site that holds the archives.</summary>
    public const string OfficialBaseUrl = "https://www.cs.toronto.edu/~kriz/";

    private const int BufferSize = 1 << 16;

    // One client per process: HttpClient is meant to be shared, and sockets are pooled by it.
    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromSeconds(100) });

    private readonly HttpClient _client;

    /// <summary>Creates a downloader.</summary>
    /// <param name="baseUri">The folder URL the archive file names are appended to; null for <see cref="OfficialBaseUrl"/>. A missing trailing slash is added.</param>
    /// <param name="httpClient">The client to send requests with; null for a shared default client. The caller keeps ownership.</param>
    public Cifar10Download(Uri? baseUri = null, HttpClient? httpClient = null)
    {
        baseUri ??= new Uri(OfficialBaseUrl);
        if (!baseUri.IsAbsoluteUri)
            ThrowHelper.Argument($"baseUri '{baseUri}' is relative; expected an absolute http(s) URL.", nameof(baseUri));
        // Without the slash, new Uri(base, name) would replace the last segment instead of appending.
        BaseUri = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
        _client = httpClient ?? SharedClient.Value;
    }

    /// <summary>The folder URL the archive file names are appended to (always ends with '/').</summary>
    public Uri BaseUri { get; }

    /// <summary>
    /// How long a read of the response body may wait for data before the download fails as a
    /// <see cref="Cifar10DownloadFailure.Network"/> error. Default 60 s.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The URL of <paramref name="spec"/>'s archive under <see cref="BaseUri"/>.</summary>
    /// <param name="spec">Which archive.</param>
    public Uri GetUri(Cifar10ArchiveSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new Uri(BaseUri, spec.FileName);
    }

    /// <summary>
    /// Downloads <paramref name="spec"/>'s archive into <paramref name="folder"/> as
    /// <c>folder/spec.FileName</c>, verified against <c>spec.Md5</c>, replacing any file of that name.
    /// </summary>
    /// <param name="spec">Which archive, and its expected MD5.</param>
    /// <param name="folder">The destination folder; created if missing.</param>
    /// <param name="progress">Receives progress reports (about ten a second, plus a final one); may be null.</param>
    /// <param name="cancellationToken">Cancels the download; the temporary file is deleted and <see cref="OperationCanceledException"/> is thrown.</param>
    /// <returns>The full path of the verified archive.</returns>
    /// <exception cref="Cifar10DownloadException">The download failed; nothing is left behind.</exception>
    public Task<string> DownloadAsync(Cifar10ArchiveSpec spec, string folder, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        return DownloadFileAsync(GetUri(spec), spec.Md5, Path.Combine(folder, spec.FileName), progress, cancellationToken);
    }

    /// <summary>
    /// Downloads <paramref name="url"/> to <paramref name="destinationPath"/>, streaming to
    /// <c>destinationPath.partial-&lt;random&gt;</c> and moving it into place only when its MD5 equals
    /// <paramref name="expectedMd5"/>.
    /// </summary>
    /// <param name="url">An absolute http(s) URL.</param>
    /// <param name="expectedMd5">The expected MD5 as hex (case-insensitive, 32 characters).</param>
    /// <param name="destinationPath">Where the verified file goes; its folder is created if missing.</param>
    /// <param name="progress">Receives progress reports (about ten a second, plus a final one); may be null.</param>
    /// <param name="cancellationToken">Cancels the download; the temporary file is deleted and <see cref="OperationCanceledException"/> is thrown.</param>
    /// <returns>The full path of the verified file.</returns>
    /// <exception cref="Cifar10DownloadException">The download failed; nothing is left behind.</exception>
    public async Task<string> DownloadFileAsync(Uri url, string expectedMd5, string destinationPath, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        ArgumentNullException.ThrowIfNull(expectedMd5);
        if (expectedMd5.Length != 32 || !expectedMd5.All(char.IsAsciiHexDigit))
            ThrowHelper.Argument($"expectedMd5 '{expectedMd5}' is not an MD5; expected 32 hex digits.", nameof(expectedMd5));
        expectedMd5 = expectedMd5.ToLowerInvariant();

        string finalPath = Path.GetFullPath(destinationPath);
        // Same folder as the destination, so the final move is a rename, never a copy.
        string tmpPath = $"{finalPath}.partial-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        bool moved = false;
        try
        {
            await DownloadToAsync(url, expectedMd5, tmpPath, progress, cancellationToken).ConfigureAwait(false);
            File.Move(tmpPath, finalPath, overwrite: true);
            moved = true;
            return finalPath;
        }
        finally
        {
            if (!moved)
                TryDeleteFile(tmpPath);
        }
    }

    private async Task DownloadToAsync(Uri url, string expectedMd5, string tmpPath, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new Cifar10DownloadException($"Could not download {url}: {DescribeRequestError(e)}.", Cifar10DownloadFailure.Network, url, e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new Cifar10DownloadException($"Could not download {url}: the server did not answer within {_client.Timeout.TotalSeconds:0} s.", Cifar10DownloadFailure.Network, url, e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new Cifar10DownloadException(
                    $"Could not download {url}: the server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}.",
                    Cifar10DownloadFailure.HttpStatus, url) { StatusCode = response.StatusCode };
            }

            long? total = response.Content.Headers.ContentLength;
            long received = 0;
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            byte[] buffer = new byte[BufferSize];
            long lastReportMs = -1000;
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                // Created only once the server has answered, so an offline attempt leaves no empty folder.
                Directory.CreateDirectory(Path.GetDirectoryName(tmpPath)!);
                await using var file = new FileStream(tmpPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
                while (true)
                {
                    idle.CancelAfter(ReadTimeout);
                    int n;
                    try
                    {
                        n = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
                    {
                        // Only the network read is caught here: a local disk error must not read as a dropped connection.
                        throw new Cifar10DownloadException(
                            $"Could not download {url}: the connection dropped after {received} of {TotalText(total)} bytes ({e.Message}).",
                            Cifar10DownloadFailure.Truncated, url, e) { BytesReceived = received, BytesExpected = total };
                    }

                    if (n == 0)
                        break;
                    md5.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    received += n;
                    long now = clock.ElapsedMilliseconds;
                    if (progress is not null && now - lastReportMs >= 100)
                    {
                        lastReportMs = now;
                        progress.Report(new DownloadProgress(received, total, Rate(received, clock)));
                    }
                }
                await file.FlushAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new Cifar10DownloadException(
                    $"Could not download {url}: no data arrived for {ReadTimeout.TotalSeconds:0.###} s after {received} of {TotalText(total)} bytes.",
                    Cifar10DownloadFailure.Network, url, e) { BytesReceived = received, BytesExpected = total };
            }

            if (total is long expected && received != expected)
            {
                throw new Cifar10DownloadException(
                    $"Could not download {url}: received {received} bytes but the server announced {expected}.",
                    Cifar10DownloadFailure.Truncated, url) { BytesReceived = received, BytesExpected = total };
            }

            string actualMd5 = Convert.ToHexStringLower(md5.GetHashAndReset());
            if (actualMd5 != expectedMd5)
            {
                throw new Cifar10DownloadException(
                    $"Downloaded {url} ({received} bytes) but its MD5 is {actualMd5}, expected {expectedMd5}; the file was discarded.",
                    Cifar10DownloadFailure.ChecksumMismatch, url) { BytesReceived = received, BytesExpected = total, ExpectedMd5 = expectedMd5, ActualMd5 = actualMd5 };
            }
            progress?.Report(new DownloadProgress(received, total, Rate(received, clock)));
        }
    }

    private static double Rate(long bytes, Stopwatch clock) => bytes / Math.Max(clock.Elapsed.TotalSeconds, 1e-6);

    private static string TotalText(long? total) => total is long t ? t.ToString(System.Globalization.CultureInfo.InvariantCulture) : "an unknown number of";

    private static string DescribeRequestError(HttpRequestException e) => e.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => $"the host name could not be resolved ({e.Message})",
        HttpRequestError.ConnectionError => $"no connection could be made ({e.Message})",
        HttpRequestError.SecureConnectionError => $"the TLS handshake failed ({e.Message})",
        HttpRequestError.ProxyTunnelError => $"the proxy refused the connection ({e.Message})",
        _ => e.Message,
    };

    internal static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a file another process holds open is left for the stale-file sweep.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
