namespace Cifar.Simd.Data;

/// <summary>
/// Describes one official CIFAR-10 archive: its file name, the folder it unpacks to, its MD5,
/// and the file names that may be extracted from it (nothing else is).
/// </summary>
/// <param name="FileName">The archive's file name, e.g. <c>cifar-10-binary.tar.gz</c>; also the last segment of its URL.</param>
/// <param name="FolderName">The single top-level folder inside the archive, e.g. <c>cifar-10-batches-bin</c>.</param>
/// <param name="Md5">The expected MD5 of the archive as lower-case hex (32 characters).</param>
/// <param name="RequiredFiles">Files that must be present in <paramref name="FolderName"/> for it to count as complete.</param>
/// <param name="OptionalFiles">Further files that are extracted when present.</param>
public sealed record Cifar10ArchiveSpec(
    string FileName,
    string FolderName,
    string Md5,
    IReadOnlyList<string> RequiredFiles,
    IReadOnlyList<string> OptionalFiles)
{
    /// <summary>The official "binary version": <c>cifar-10-binary.tar.gz</c> → <c>cifar-10-batches-bin/</c>.</summary>
    public static Cifar10ArchiveSpec Binary { get; } = new(
        "cifar-10-binary.tar.gz",
        "cifar-10-batches-bin",
        "c32a1d4ab5d03f1284b67883e8d87530",
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"],
        ["batches.meta.txt", "readme.html"]);

    /// <summary>The official "python version": <c>cifar-10-python.tar.gz</c> → <c>cifar-10-batches-py/</c>.</summary>
    public static Cifar10ArchiveSpec Python { get; } = new(
        "cifar-10-python.tar.gz",
        "cifar-10-batches-py",
        "c58f30108f718f92721af3b95e74349a",
        ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"],
        ["batches.meta", "readme.html"]);

    /// <summary>True when <paramref name="name"/> is one of <see cref="RequiredFiles"/> or <see cref="OptionalFiles"/>.</summary>
    /// <param name="name">A bare file name (no folder).</param>
    public bool IsKnownFile(string name) => RequiredFiles.Contains(name, StringComparer.Ordinal) || OptionalFiles.Contains(name, StringComparer.Ordinal);

    /// <summary>True when <paramref name="folder"/> exists and holds every one of <see cref="RequiredFiles"/>.</summary>
    /// <param name="folder">A folder path.</param>
    public bool IsCompleteFolder(string folder) =>
        Directory.Exists(folder) && RequiredFiles.All(f => File.Exists(Path.Combine(folder, f)));
}
