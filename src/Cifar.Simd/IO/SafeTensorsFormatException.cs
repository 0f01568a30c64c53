namespace Cifar.Simd.IO;

/// <summary>
/// A safetensors file (or stream) is malformed or uses something this library does not read.
/// The message names the source and the problem, e.g.
/// <c>model.safetensors: tensor 'W1' declares shape [3072, 100] (307200 F32 = 1228800 bytes) but data_offsets span 1000 bytes</c>.
/// I/O failures such as a missing file are not wrapped: they stay plain <see cref="IOException"/>s.
/// </summary>
/// <remarks>
/// It derives from <see cref="IOException"/> (as <c>Cifar10DownloadException</c> does) because
/// <see cref="InvalidDataException"/> is sealed; <c>catch (IOException)</c> thus covers both
/// unreadable and malformed files, and this type tells them apart.
/// </remarks>
public sealed class SafeTensorsFormatException : IOException
{
    /// <summary>The file name or other label of the source that was refused.</summary>
    public string SourceName { get; }

    /// <summary>The problem, without the source name.</summary>
    public string Problem { get; }

    /// <summary>Creates the exception; the message is <c>{sourceName}: {problem}</c>.</summary>
    /// <param name="sourceName">The file name or label of the refused source.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The parser error behind the refusal, if any.</param>
    public SafeTensorsFormatException(string sourceName, string problem, Exception? innerException = null)
        : base($"{sourceName}: {problem}", innerException)
    {
        SourceName = sourceName;
        Problem = problem;
    }
}
