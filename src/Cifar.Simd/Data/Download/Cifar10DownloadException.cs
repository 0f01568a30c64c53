using System.Net;

namespace Cifar.Simd.Data;

/// <summary>Why a CIFAR-10 download failed.</summary>
public enum Cifar10DownloadFailure
{
    /// <summary>No connection could be made or kept (DNS failure, connection refused, timeout).</summary>
    Network,

    /// <summary>The server answered with an HTTP error status.</summary>
    HttpStatus,

    /// <summary>The connection ended before the announced number of bytes arrived.</summary>
    Truncated,

    /// <summary>The file arrived whole but its MD5 is not the expected one.</summary>
    ChecksumMismatch,
}

/// <summary>
/// A CIFAR-10 download or lookup failed. The message names the URL and the reason; the properties
/// carry the same facts for programs. No partial file is left behind when this is thrown.
/// </summary>
public sealed class Cifar10DownloadException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The full, human-readable message.</param>
    /// <param name="failure">The kind of failure.</param>
    /// <param name="url">The URL that was requested.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public Cifar10DownloadException(string message, Cifar10DownloadFailure failure, Uri? url, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        Url = url;
    }

    /// <summary>The kind of failure.</summary>
    public Cifar10DownloadFailure Failure { get; }

    /// <summary>The URL that was requested.</summary>
    public Uri? Url { get; }

    /// <summary>The HTTP status the server answered with, for <see cref="Cifar10DownloadFailure.HttpStatus"/>.</summary>
    public HttpStatusCode? StatusCode { get; init; }

    /// <summary>Bytes received before the failure, where known.</summary>
    public long? BytesReceived { get; init; }

    /// <summary>Bytes the server announced (Content-Length), where known.</summary>
    public long? BytesExpected { get; init; }

    /// <summary>The expected MD5 (lower-case hex), for <see cref="Cifar10DownloadFailure.ChecksumMismatch"/>.</summary>
    public string? ExpectedMd5 { get; init; }

    /// <summary>The MD5 of what arrived (lower-case hex), for <see cref="Cifar10DownloadFailure.ChecksumMismatch"/>.</summary>
    public string? ActualMd5 { get; init; }
}
