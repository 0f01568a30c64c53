namespace Cifar.Simd.Data;

/// <summary>One progress report of a download.</summary>
/// <param name="BytesReceived">Bytes written to the temporary file so far.</param>
/// <param name="TotalBytes">The size announced by the server (Content-Length), or null when it sent none.</param>
/// <param name="BytesPerSecond">Average rate since the first byte was requested, in bytes per second.</param>
public readonly record struct DownloadProgress(long BytesReceived, long? TotalBytes, double BytesPerSecond)
{
    /// <summary>The fraction done in [0, 1], or null when the total is unknown.</summary>
    public double? Fraction => TotalBytes is > 0 and var total ? Math.Min(1.0, (double)BytesReceived / total) : null;
}
