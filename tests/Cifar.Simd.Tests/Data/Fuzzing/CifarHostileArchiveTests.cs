using System.Formats.Tar;
using System.Text;
using Cifar.Simd.Data;
using Cifar.Simd.Tests.Data.Download;
using Cifar.Simd.Tests.Support.Fuzzing;

namespace Cifar.Simd.Tests.Data.Fuzzing;

/// <summary>
/// One test per bug the archive fuzzer found: each hostile archive must be refused with InvalidDataException
/// naming the archive, quickly and without allocating what its headers declare.
/// </summary>
public sealed class CifarHostileArchiveTests : IDisposable
{
    private const string Folder = "cifar-10-batches-bin";
    private const long SmallAllocation = 4 << 20;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] ValidTar()
    {
        var files = CifarTestData.BinaryFiles(1);
        return CifarTestData.TarBytes(files, Folder, files.Keys, TarEntryFormat.Gnu);
    }

    /// <summary>An entry (header and its data, padded to 512 bytes) put in front of a valid archive.</summary>
    private static byte[] Prepend(byte[] header, byte[] data, byte[] tar)
    {
        var padded = new byte[(data.Length + 511) / 512 * 512];
        data.CopyTo(padded, 0);
        return [.. header, .. padded, .. tar];
    }

    /// <summary>Loads the archive on the fuzz thread; returns the refusal and the bytes the load allocated.</summary>
    private (InvalidDataException Error, long Allocated) LoadRefused(byte[] tar, bool gzip)
    {
        string name = gzip ? "hostile.tar.gz" : "hostile.tar";
        string path = _dir.Combine(name);
        File.WriteAllBytes(path, gzip ? CifarTestData.Gzip(tar) : tar);
        InvalidDataException? error = null;
        using var runner = new FuzzRunner();
        var outcome = runner.Run(() =>
        {
            error = Assert.Throws<InvalidDataException>(() => Cifar10.Load(path));
            return false;
        });
        Assert.StartsWith(name + ": ", error!.Message);
        return (error, outcome.AllocatedBytes);
    }

    private InvalidDataException ExtractRefused(byte[] tar)
    {
        string archive = _dir.Combine("cifar-10-binary.tar.gz");
        File.WriteAllBytes(archive, CifarTestData.Gzip(tar));
        string parent = _dir.Combine("extracted");
        var e = Assert.Throws<InvalidDataException>(() => Cifar10Extractor.ExtractOnce(archive, parent, Cifar10ArchiveSpec.Binary));
        Assert.Contains(archive, e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
        return e;
    }

    // Found by the fuzzer: TarReader threw InvalidOperationException for a metadata entry of int.MaxValue bytes, and
    // rented a buffer of the declared size (1 GiB and 2 GiB seen) for anything below, from an archive of a few KB.
    [Theory]
    [InlineData('x', int.MaxValue)]
    [InlineData('x', 1L << 30)]
    [InlineData('g', 1L << 30)]
    [InlineData('L', int.MaxValue - 100L)]
    [InlineData('K', 1L << 30)]
    [InlineData('L', (1 << 20) + 1)]
    public void A_metadata_entry_declaring_more_than_1_MiB_is_refused_before_TarReader_allocates_it(char type, long size)
    {
        var tar = Prepend(TarEdits.Header("././@LongLink", (byte)type, size), Encoding.ASCII.GetBytes("20 path=x/data.bin\n"), ValidTar());
        foreach (bool gzip in new[] { true, false })
        {
            var (error, allocated) = LoadRefused(tar, gzip);
            Assert.Contains($"declares {size:N0} bytes, more than the 1,048,576", error.Message);
            Assert.True(allocated < SmallAllocation, $"allocated {allocated:N0} bytes");
        }
        Assert.Contains("declares", ExtractRefused(tar).Message);
    }

    [Fact]
    public void A_pax_size_record_is_followed_so_a_later_oversized_header_is_still_caught()
    {
        // A valid pax 'x' entry sets data_batch_1.bin's size to 3,073 though its header says 0; the guard must skip that much.
        var batch = CifarTestData.BinaryBatch(1);
        var pax = Encoding.ASCII.GetBytes(TarEdits.PaxRecord("size=3073"));
        var entry = Prepend(TarEdits.Header("PaxHeaders/x", (byte)'x', pax.Length), pax, []);
        var file = Prepend(TarEdits.Header($"{Folder}/data_batch_1.bin", (byte)'0', 0), batch, []);
        var files = CifarTestData.BinaryFiles(1);
        files.Remove("data_batch_1.bin");
        var rest = CifarTestData.TarBytes(files, Folder, files.Keys, TarEntryFormat.Gnu);
        string path = _dir.Combine("pax.tar");
        File.WriteAllBytes(path, [.. entry, .. file, .. rest]);
        Assert.Equal(batch[1..], Cifar10.Load(path).Train.Images[..3072]);

        var hostile = Prepend(TarEdits.Header("././@LongLink", (byte)'L', 1L << 30), "x\0"u8.ToArray(), rest);
        var (error, allocated) = LoadRefused([.. entry, .. file, .. hostile], gzip: true);
        Assert.Contains("GNU long-name entry declares 1,073,741,824 bytes", error.Message);
        Assert.True(allocated < SmallAllocation, $"allocated {allocated:N0} bytes");
    }

    // Found by the fuzzer: a pax entry right after a GNU long name is, to TarReader, the entry that name belongs to, so
    // its "size" record applies to nothing; the guard took it for the next entry's size (or, for "size=-1", stopped
    // following the layout) and missed a later GNU long name declaring 1 GiB, which TarReader then allocated.
    [Theory]
    [InlineData("size=-1")]
    [InlineData("size=3073")]
    [InlineData("size=0")]
    public void A_pax_entry_after_a_GNU_long_name_does_not_hide_a_later_oversized_header(string record)
    {
        var pax = Encoding.ASCII.GetBytes(TarEdits.PaxRecord(record));
        var named = Prepend(TarEdits.Header("././@LongLink", (byte)'L', 6), "long-x\0"u8.ToArray(),
            Prepend(TarEdits.Header("PaxHeaders/x", (byte)'x', pax.Length), pax, []));
        var files = CifarTestData.BinaryFiles(1);
        var rest = CifarTestData.TarBytes(files, Folder, files.Keys, TarEntryFormat.Gnu);
        // The valid archive after it still loads: TarReader hands the 'x' over as an entry, which the loader skips.
        string path = _dir.Combine("pax-after-long-name.tar");
        File.WriteAllBytes(path, [.. named, .. rest]);
        Assert.Equal(files["data_batch_1.bin"][1..], Cifar10.Load(path).Train.Images[..3072]);

        var hostile = Prepend(TarEdits.Header("././@LongLink", (byte)'L', 1L << 30), "x\0"u8.ToArray(), rest);
        foreach (bool gzip in new[] { false, true })
        {
            var (error, allocated) = LoadRefused([.. named, .. hostile], gzip);
            Assert.Contains("GNU long-name entry declares 1,073,741,824 bytes", error.Message);
            Assert.True(allocated < SmallAllocation, $"allocated {allocated:N0} bytes");
        }
    }

    // Found by the fuzzer: a GNU base-256 size too large for a long made TarReader throw OverflowException.
    [Fact]
    public void A_base_256_size_that_overflows_is_refused_as_InvalidDataException()
    {
        var tar = new List<byte>(ValidTar());
        tar[124] = 0x80;
        for (int i = 125; i < 136; i++) tar[i] = 0xFF;
        TarEdits.FixChecksum(tar, 0);
        var (error, _) = LoadRefused([.. tar], gzip: true);
        Assert.Contains("corrupt or truncated", error.Message);
        ExtractRefused([.. tar]);
    }

    // A base-256 size of 2^63 - 1 parses for TarReader; the guard stops following the layout there rather than overflow.
    [Fact]
    public void A_base_256_size_of_long_MaxValue_is_refused_as_InvalidDataException()
    {
        var tar = new List<byte>(ValidTar());
        tar[124] = 0x80;
        for (int i = 125; i < 136; i++) tar[i] = i < 128 ? (byte)0 : (byte)0xFF;
        tar[128] = 0x7F;
        tar[156] = (byte)'0';
        TarEdits.FixChecksum(tar, 0);
        var (error, allocated) = LoadRefused([.. tar], gzip: false);
        Assert.DoesNotContain("Specified argument", error.Message);
        Assert.True(allocated < SmallAllocation, $"allocated {allocated:N0} bytes");
    }

    // Found by reading TarReader: a GNU sparse entry ('S') made it throw NotSupportedException.
    [Fact]
    public void A_sparse_entry_is_refused_as_InvalidDataException()
    {
        var tar = Prepend(TarEdits.Header($"{Folder}/data_batch_1.bin", (byte)'S', 0), [], ValidTar());
        LoadRefused(tar, gzip: false);
        ExtractRefused(tar);
    }

    // Found by the fuzzer: an entry declaring 200 MB (under the 256 MiB cap) in a 20 KB archive was allocated in full
    // before the read ran out of data.
    [Theory]
    [InlineData(200_000_000L, true)]
    [InlineData(200_000_000L, false)]
    [InlineData(40_000L, false)]
    public void An_entry_declaring_more_than_the_archive_can_hold_is_refused_before_it_is_allocated(long size, bool gzip)
    {
        var tar = Prepend(TarEdits.Header($"{Folder}/data_batch_1.bin", (byte)'0', size), CifarTestData.BinaryBatch(1), []);
        var (error, allocated) = LoadRefused(tar, gzip);
        Assert.Contains($"entry {Folder}/data_batch_1.bin declares {size:N0} bytes, more than the", error.Message);
        Assert.True(allocated < SmallAllocation, $"allocated {allocated:N0} bytes");
    }

    // Found by review with the fuzzer's size table: the extractor wrote whatever an entry declared, so a small
    // .tar.gz could fill the disk (a decompression bomb); entries over 256 MiB are now refused before writing.
    [Fact]
    public void The_extractor_refuses_an_entry_declared_over_256_MiB_before_writing_it()
    {
        var tar = Prepend(TarEdits.Header($"{Folder}/data_batch_1.bin", (byte)'0', (256L << 20) + 1), new byte[1024], ValidTar());
        Assert.Contains("declares 268,435,457 bytes for 'cifar-10-batches-bin/data_batch_1.bin'", ExtractRefused(tar).Message);
    }

    // Found by the fuzzer: a malformed batch inside an archive was reported as "test_batch: …", not naming the archive.
    [Fact]
    public void A_malformed_entry_is_reported_with_the_archive_name_first()
    {
        var files = CifarTestData.PythonFiles(1);
        files["test_batch"] = files["test_batch"][..^5];
        var (error, _) = LoadRefused(CifarTestData.TarBytes(files, "cifar-10-batches-py", files.Keys), gzip: true);
        Assert.StartsWith("hostile.tar.gz: test_batch: the pickle is truncated", error.Message);
    }
}
