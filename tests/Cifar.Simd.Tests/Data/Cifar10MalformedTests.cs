using Cifar.Simd.Data;

namespace Cifar.Simd.Tests.Data;

public class Cifar10MalformedTests
{
    private static void AssertError(Action action, string fileName, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(action);
        Assert.Contains(fileName, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void TruncatedBinaryFile_NamesFileAndLength()
    {
        string dir = CifarTestData.WriteFolder(new() { ["data_batch_2.bin"] = CifarTestData.BinaryBatch(2)[..5000] });
        AssertError(() => Cifar10.ReadBinaryBatch(Path.Combine(dir, "data_batch_2.bin")), "data_batch_2.bin", "5,000 bytes is not a positive whole number of 3,073-byte records");
    }

    [Fact]
    public void NonWholeRecordCount_ReportsLeftover()
    {
        var bytes = CifarTestData.BinaryBatch(3).Concat(new byte[7]).ToArray();
        AssertError(() => Cifar10.ParseBinaryBatch(bytes, "test_batch.bin"), "test_batch.bin", "3 records and 7 bytes left over");
    }

    [Fact]
    public void EmptyBinaryFile_IsRejected()
    {
        AssertError(() => Cifar10.ParseBinaryBatch([], "data_batch_1.bin"), "data_batch_1.bin", "length 0 bytes");
    }

    [Fact]
    public void Label10_NamesRecord()
    {
        var bytes = CifarTestData.BinaryBatch(3);
        bytes[2 * 3073] = 10;
        AssertError(() => Cifar10.ParseBinaryBatch(bytes, "data_batch_3.bin"), "data_batch_3.bin", "record 2 has label 10");
    }

    [Fact]
    public void PythonLabel10_NamesIndex()
    {
        var labels = CifarTestData.Labels(3);
        labels[1] = 10;
        var bytes = CifarTestData.PythonBatch(CifarTestData.PlanarImages(3), labels, "b");
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "labels[1] = 10");
    }

    [Fact]
    public void MissingBatchInFolder_NamesFile()
    {
        var files = CifarTestData.BinaryFiles(2);
        files.Remove("data_batch_4.bin");
        string root = CifarTestData.WriteFolder(files);
        var e = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(root));
        Assert.Contains("data_batch_4.bin", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void MissingBatchInArchive_NamesArchiveAndEntry()
    {
        var files = CifarTestData.BinaryFiles(2);
        string path = CifarTestData.WriteTarGz(files, "cifar-10-batches-bin", files.Keys.Where(k => k != "test_batch.bin"));
        AssertError(() => Cifar10.Load(path), "cifar-10-test.tar.gz", "no entry named test_batch.bin");
    }

    [Fact]
    public void BatchTruncatedAtRecordBoundary_DetectedByCount()
    {
        var files = CifarTestData.BinaryFiles(3);
        files["data_batch_5.bin"] = files["data_batch_5.bin"][..(2 * 3073)];
        AssertError(() => Cifar10.Load(CifarTestData.WriteFolder(files)), "data_batch_5.bin", "holds 2 images but data_batch_1.bin holds 3");
    }

    [Fact]
    public void TruncatedGzip_NamesArchive()
    {
        var files = CifarTestData.BinaryFiles(20);
        string path = CifarTestData.WriteTarGz(files, "cifar-10-batches-bin", files.Keys);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertError(() => Cifar10.Load(path), "cifar-10-test.tar.gz", "");
    }

    [Fact]
    public void Missing_Path()
    {
        Assert.Throws<FileNotFoundException>(() => Cifar10.Load(Path.Combine(Path.GetTempPath(), "no-such-cifar-folder-" + Guid.NewGuid())));
    }

    private static byte[] Pickle(Action<PickleWriter> body)
    {
        var w = new PickleWriter();
        w.Proto();
        body(w);
        return w.ToArray();
    }

    [Fact]
    public void Pickle_ForbiddenGlobal()
    {
        var bytes = Pickle(w => w.Global("os", "system").Str("echo hi").Byte(0x85).Op('R').Op('.'));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "global 'os.system' at offset 2 is forbidden");
    }

    [Fact]
    public void Pickle_UnknownOpcode()
    {
        // 'i' is INST, which would import and call a class; it is not in the accepted subset.
        var bytes = Pickle(w => w.EmptyDict().Op('i'));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_2"), "data_batch_2", "unknown or unsupported pickle opcode 0x69 at offset 3");
    }

    [Fact]
    public void Pickle_Truncated()
    {
        var full = CifarTestData.PythonBatch(CifarTestData.PlanarImages(2), CifarTestData.Labels(2), "b");
        AssertError(() => Cifar10.ParsePythonBatch(full[..(full.Length - 10)], "test_batch"), "test_batch", "truncated");
        AssertError(() => Cifar10.ParsePythonBatch(full[..1000], "test_batch"), "test_batch", "claims 6144 bytes but only");
    }

    [Fact]
    public void Pickle_HugeLengthIsBoundedByStream()
    {
        var bytes = Pickle(w => w.Op('T').Raw([0xFF, 0xFF, 0xFF, 0x7F]));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "claims 2147483647 bytes but only 0 remain");
    }

    [Fact]
    public void Pickle_WrongTopLevelType()
    {
        var bytes = Pickle(w => w.EmptyList().Op('.'));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "does not hold a dict");
    }

    [Fact]
    public void Pickle_WrongFieldType()
    {
        var bytes = Pickle(w => w.EmptyDict().Mark().Str("labels").Int(3).Str("data").Int(4).Op('u').Op('.'));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "'labels' is a int, not a list");
    }

    [Fact]
    public void Pickle_UnsupportedDtype()
    {
        var bytes = Pickle(w => w.Global("numpy", "dtype").Str("f8").Int(0).Int(1).Byte(0x87).Op('R').Op('.'));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "dtype 'f8'");
    }

    [Fact]
    public void Pickle_ShapeDataMismatch()
    {
        var w = new PickleWriter();
        w.Proto().EmptyDict().Mark().Str("data").NdArrayU1(2, 3072, new byte[3072]).Op('u').Op('.');
        AssertError(() => Cifar10.ParsePythonBatch(w.ToArray(), "data_batch_1"), "data_batch_1", "= 6144 bytes but 3072 bytes of data");
    }

    [Fact]
    public void Pickle_LabelCountMismatch()
    {
        var bytes = CifarTestData.PythonBatch(CifarTestData.PlanarImages(2), [1, 2, 3], "b");
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "'labels' has 3 entries but 'data' has 2 rows");
    }

    [Fact]
    public void Pickle_TrailingBytesAfterStop()
    {
        var bytes = Pickle(w => w.EmptyDict().Op('.').Byte(0));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "1 bytes follow STOP");
    }

    [Fact]
    public void Pickle_ReduceOnNonCallable()
    {
        var bytes = Pickle(w => w.EmptyDict().Mark().Op('t').Op('R').Op('.'));
        AssertError(() => Cifar10.ParsePythonBatch(bytes, "data_batch_1"), "data_batch_1", "REDUCE at offset");
    }
}
