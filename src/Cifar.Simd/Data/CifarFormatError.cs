namespace Cifar.Simd.Data;

/// <summary>
/// Builds the <see cref="InvalidDataException"/> every malformed CIFAR-10 input raises; the message
/// reads <c>"{fileName}: {problem}"</c>. (InvalidDataException is sealed, so there is no subclass.)
/// </summary>
internal static class CifarFormatError
{
    /// <summary>The <see cref="Exception.Data"/> key that marks an exception as already naming its file.</summary>
    public const string Marker = "Cifar.Simd.Data.FileName";

    public static InvalidDataException Create(string fileName, string problem) => Mark(new($"{fileName}: {problem}"), fileName);

    public static InvalidDataException Create(string fileName, string problem, Exception inner) => Mark(new($"{fileName}: {problem}", inner), fileName);

    private static InvalidDataException Mark(InvalidDataException e, string fileName)
    {
        e.Data[Marker] = fileName;
        return e;
    }
}
