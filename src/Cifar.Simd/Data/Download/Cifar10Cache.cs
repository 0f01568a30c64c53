using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cifar.Simd.Data;

/// <summary>
/// Finds CIFAR-10 on this machine, or downloads and unpacks it once into a per-user cache folder.
/// </summary>
/// <remarks>
/// Where data is looked for, in order (see <c>docs/data-download.md</c>):
/// <list type="number">
/// <item>the <c>dataPath</c> argument: a <c>.tar.gz</c> archive, an extracted folder, or a folder holding either;</item>
/// <item>the environment variable <see cref="EnvironmentVariable"/>: the same, or else an existing folder used as the cache folder;</item>
/// <item>the cache folder (<see cref="Root"/>): an extracted folder, else the archive, else a download into it.</item>
/// </list>
/// Archives found in steps 1 and 2 are extracted once into <c>Root/extracted/&lt;name&gt;-&lt;key&gt;/</c>,
/// where the key hashes the archive's file name, size and last-write time.
/// </remarks>
public sealed class Cifar10Cache
{
    /// <summary>The environment variable that points at CIFAR-10 data or a cache folder.</summary>
    public const string EnvironmentVariable = "CIFAR_SIMD_DATA";

    /// <summary>The name of the sub-folder of the cache that holds user archives' extractions.</summary>
    public const string ExtractedFolderName = "extracted";

    private readonly string? _explicitRoot;
    private readonly Func<string, string?> _getEnvironmentVariable;

    /// <summary>Creates a cache.</summary>
    /// <param name="root">The cache folder; null for <see cref="DefaultRoot"/> (or the folder named by <see cref="EnvironmentVariable"/>, when it names one).</param>
    /// <param name="download">The downloader; null for one that fetches from <see cref="Cifar10Download.OfficialBaseUrl"/>.</param>
    public Cifar10Cache(string? root = null, Cifar10Download? download = null)
        : this(root, download, Environment.GetEnvironmentVariable)
    {
    }

    // Tests inject the environment so they never mutate the process's variables.
    internal Cifar10Cache(string? root, Cifar10Download? download, Func<string, string?> getEnvironmentVariable)
    {
        if (root is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(root);
            _explicitRoot = Path.GetFullPath(root);
        }

        Download = download ?? new Cifar10Download();
        _getEnvironmentVariable = getEnvironmentVariable;
    }

    /// <summary>
    /// The per-user default cache folder: <c>%LOCALAPPDATA%\cifar-simd</c> on Windows; elsewhere
    /// <c>$XDG_CACHE_HOME/cifar-simd</c> when that variable holds an absolute path, else <c>~/.cache/cifar-simd</c>.
    /// </summary>
    public static string DefaultRoot => ComputeDefaultRoot(Environment.GetEnvironmentVariable, OperatingSystem.IsWindows());

    /// <summary>
    /// The cache folder this instance uses when <see cref="EnvironmentVariable"/> does not name one:
    /// the constructor's <c>root</c>, else <see cref="DefaultRoot"/>.
    /// </summary>
    public string Root => _explicitRoot ?? ComputeDefaultRoot(_getEnvironmentVariable, OperatingSystem.IsWindows());

    /// <summary>The downloader used when the cache is empty.</summary>
    public Cifar10Download Download { get; }

    /// <summary>
    /// Returns the path of a complete <c>cifar-10-batches-bin</c> folder, finding, extracting or
    /// downloading it as described on <see cref="Cifar10Cache"/>. Blocks until done.
    /// </summary>
    /// <param name="dataPath">A <c>cifar-10-binary.tar.gz</c>, a <c>cifar-10-batches-bin</c> folder, or a folder holding either; null to use the environment variable and the cache.</param>
    /// <param name="progress">Receives download progress; may be null.</param>
    /// <param name="cancellationToken">Cancels a download or extraction; nothing partial is left behind.</param>
    /// <returns>The full path of the folder holding <c>data_batch_1.bin</c> … <c>test_batch.bin</c>.</returns>
    /// <exception cref="FileNotFoundException"><paramref name="dataPath"/> or the environment variable names something that does not exist or holds no CIFAR-10 data.</exception>
    /// <exception cref="Cifar10DownloadException">The data was not found and could not be downloaded.</exception>
    /// <exception cref="InvalidDataException">An archive is unreadable, unsafe, or incomplete.</exception>
    public string EnsureBinaryFolder(string? dataPath = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        EnsureFolderAsync(Cifar10ArchiveSpec.Binary, dataPath, progress, cancellationToken).GetAwaiter().GetResult();

    /// <summary>The asynchronous form of <see cref="EnsureBinaryFolder"/>.</summary>
    /// <param name="dataPath">A <c>cifar-10-binary.tar.gz</c>, a <c>cifar-10-batches-bin</c> folder, or a folder holding either; null to use the environment variable and the cache.</param>
    /// <param name="progress">Receives download progress; may be null.</param>
    /// <param name="cancellationToken">Cancels a download or extraction; nothing partial is left behind.</param>
    /// <returns>The full path of the folder holding <c>data_batch_1.bin</c> … <c>test_batch.bin</c>.</returns>
    public Task<string> EnsureBinaryFolderAsync(string? dataPath = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        EnsureFolderAsync(Cifar10ArchiveSpec.Binary, dataPath, progress, cancellationToken);

    /// <summary>
    /// Returns the path of a complete <c>spec.FolderName</c> folder (e.g. <c>cifar-10-batches-py</c> for
    /// <see cref="Cifar10ArchiveSpec.Python"/>), finding, extracting or downloading it as described on <see cref="Cifar10Cache"/>.
    /// </summary>
    /// <param name="spec">Which archive.</param>
    /// <param name="dataPath">The archive, the extracted folder, or a folder holding either; null to use the environment variable and the cache.</param>
    /// <param name="progress">Receives download progress; may be null.</param>
    /// <param name="cancellationToken">Cancels a download or extraction; nothing partial is left behind.</param>
    /// <returns>The full path of the folder holding every one of <c>spec.RequiredFiles</c>.</returns>
    public async Task<string> EnsureFolderAsync(Cifar10ArchiveSpec spec, string? dataPath, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (dataPath is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
            return FromUserPath(spec, dataPath, "The data path", allowCacheFolder: false, cancellationToken)!;
        }

        string? env = _getEnvironmentVariable(EnvironmentVariable);
        string root = Root;
        if (!string.IsNullOrWhiteSpace(env))
        {
            string? found = FromUserPath(spec, env, $"The environment variable {EnvironmentVariable}", allowCacheFolder: true, cancellationToken);
            if (found is not null)
                return found;
            root = _explicitRoot ?? Path.GetFullPath(env);
        }

        return await FromCacheAsync(spec, root, env, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resolves a user-given path; null means "an existing folder to use as the cache" (only when allowed).</summary>
    private string? FromUserPath(Cifar10ArchiveSpec spec, string path, string source, bool allowCacheFolder, CancellationToken ct)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            if (!IsTarGz(full))
            {
                throw new FileNotFoundException(
                    $"{source} '{path}' is a file but not a .tar.gz archive; expected {spec.FileName}, a {spec.FolderName} folder, or a folder holding either.", full);
            }

            return ExtractUserArchive(spec, full, ct);
        }

        if (Directory.Exists(full))
        {
            if (spec.IsCompleteFolder(full))
                return full;
            string sub = Path.Combine(full, spec.FolderName);
            if (spec.IsCompleteFolder(sub))
                return sub;
            if (allowCacheFolder)
                return null;
            string archive = Path.Combine(full, spec.FileName);
            if (File.Exists(archive))
                return ExtractUserArchive(spec, archive, ct);
            throw new FileNotFoundException(
                $"{source} '{path}' is a folder but holds neither {string.Join(", ", spec.RequiredFiles)}, nor a complete {spec.FolderName}/ folder, nor {spec.FileName}.", full);
        }

        throw new FileNotFoundException(
            $"{source} '{path}' does not exist; expected {spec.FileName}, a {spec.FolderName} folder, or a folder holding either.", full);
    }

    private string ExtractUserArchive(Cifar10ArchiveSpec spec, string archive, CancellationToken ct)
    {
        var info = new FileInfo(archive);
        string key = string.Create(CultureInfo.InvariantCulture, $"{info.Name}|{info.Length}|{info.LastWriteTimeUtc.Ticks}");
        // Name + size + mtime is free to compute, whereas hashing 160 MB would cost a second on every call.
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        string stem = info.Name.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) ? info.Name[..^7] : Path.GetFileNameWithoutExtension(info.Name);
        string parent = Path.Combine(Root, ExtractedFolderName, $"{stem}-{hash}");
        return Cifar10Extractor.ExtractOnce(archive, parent, spec, ct);
    }

    private async Task<string> FromCacheAsync(Cifar10ArchiveSpec spec, string root, string? env, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        string folder = Path.Combine(root, spec.FolderName);
        if (spec.IsCompleteFolder(folder))
            return folder;
        string archive = Path.Combine(root, spec.FileName);
        if (!File.Exists(archive))
        {
            if (Directory.Exists(root))
                Cifar10Extractor.DeleteStale(root, $"{spec.FileName}.partial-*");
            try
            {
                archive = await Download.DownloadAsync(spec, root, progress, ct).ConfigureAwait(false);
            }
            catch (Cifar10DownloadException e) when (e.Failure == Cifar10DownloadFailure.Network)
            {
                throw new Cifar10DownloadException(NotFoundMessage(spec, root, env, e), e.Failure, e.Url, e.InnerException);
            }
        }

        return Cifar10Extractor.ExtractOnce(archive, root, spec, ct);
    }

    private static string NotFoundMessage(Cifar10ArchiveSpec spec, string root, string? env, Cifar10DownloadException e)
    {
        string envText = string.IsNullOrWhiteSpace(env) ? "is not set" : $"is '{env}' (a folder without the data)";
        string reason = e.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }
            ? "the host name could not be resolved"
            : e.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } ? "no connection could be made" : "the server did not answer";
        return $"CIFAR-10 was not found and could not be downloaded from {e.Url} ({reason}). "
            + $"Looked in the cache folder '{root}' (no {spec.FolderName}/ and no {spec.FileName} there); the environment variable {EnvironmentVariable} {envText}. "
            + $"Pass the data explicitly: the CLI option --data PATH, or set {EnvironmentVariable}=PATH, where PATH is {spec.FileName}, a {spec.FolderName} folder, or a folder holding either.";
    }

    private static bool IsTarGz(string path) =>
        path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    internal static string ComputeDefaultRoot(Func<string, string?> getEnvironmentVariable, bool isWindows)
    {
        const string Name = "cifar-simd";
        if (isWindows)
        {
            string? local = getEnvironmentVariable("LOCALAPPDATA");
            if (string.IsNullOrEmpty(local))
                local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            return Path.Combine(local, Name);
        }

        // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
        string? xdg = getEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
            return Path.Combine(xdg, Name);
        string? home = getEnvironmentVariable("HOME");
        if (string.IsNullOrEmpty(home))
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", Name);
    }
}
