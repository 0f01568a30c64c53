using Cifar.Simd.Data;

namespace Cifar.Simd.Tests.Data;

public class Cifar10ReaderTests
{
    private static readonly string[] ShuffledBinaryOrder =
        ["test_batch.bin", "data_batch_4.bin", "batches.meta.txt", "data_batch_2.bin", "data_batch_5.bin", "data_batch_1.bin", "data_batch_3.bin"];

    private static readonly string[] ShuffledPythonOrder =
        ["data_batch_3", "batches.meta", "test_batch", "data_batch_5", "data_batch_1", "data_batch_4", "data_batch_2"];

    private static void AssertSyntheticSet(Cifar10RawSet set, int perBatch, Cifar10Format format)
    {
        Assert.Equal(format, set.Format);
        Assert.Equal(CifarTestData.LabelNames, set.LabelNames);
        Assert.Equal(5 * perBatch, set.TrainCount);
        Assert.Equal(perBatch, set.TestCount);
        Assert.Equal(CifarTestData.PlanarImages(5 * perBatch), set.Train.Images);
        Assert.Equal(CifarTestData.Labels(5 * perBatch), set.Train.Labels);
        Assert.Equal(CifarTestData.PlanarImages(perBatch, 1000), set.Test.Images);
        Assert.Equal(CifarTestData.Labels(perBatch, 1000), set.Test.Labels);
    }

    [Fact]
    public void BinaryBatch_RecordsSplitIntoLabelAndPlanarImage()
    {
        var batch = Cifar10.ParseBinaryBatch(CifarTestData.BinaryBatch(3), "x.bin");
        Assert.Equal(3, batch.Count);
        Assert.Equal(CifarTestData.Labels(3), batch.Labels);
        Assert.Equal(CifarTestData.PlanarImages(3), batch.Images);
        Assert.Equal(CifarTestData.Pixel(2, 1, 4, 5), batch.Image(2)[1024 + 4 * 32 + 5]);
    }

    [Fact]
    public void Load_BinaryFolder_AndItsParent()
    {
        var files = CifarTestData.BinaryFiles(4);
        string root = CifarTestData.WriteFolder(files, "cifar-10-batches-bin");
        AssertSyntheticSet(Cifar10.Load(root), 4, Cifar10Format.Binary);
        AssertSyntheticSet(Cifar10.Load(Path.Combine(root, "cifar-10-batches-bin")), 4, Cifar10Format.Binary);
    }

    [Fact]
    public void Load_PythonFolder()
    {
        string root = CifarTestData.WriteFolder(CifarTestData.PythonFiles(3), "cifar-10-batches-py");
        AssertSyntheticSet(Cifar10.Load(root), 3, Cifar10Format.Python);
    }

    [Fact]
    public void Load_BinaryTarGz_EntriesInAnyOrder()
    {
        string path = CifarTestData.WriteTarGz(CifarTestData.BinaryFiles(2), "cifar-10-batches-bin", ShuffledBinaryOrder);
        AssertSyntheticSet(Cifar10.Load(path), 2, Cifar10Format.Binary);
    }

    [Fact]
    public void Load_PlainTar()
    {
        string path = CifarTestData.WriteTarGz(CifarTestData.BinaryFiles(2), "cifar-10-batches-bin", ShuffledBinaryOrder, gzip: false);
        AssertSyntheticSet(Cifar10.Load(path), 2, Cifar10Format.Binary);
    }

    [Fact]
    public void Load_PythonTarGz_EntriesInAnyOrder()
    {
        string path = CifarTestData.WriteTarGz(CifarTestData.PythonFiles(2), "cifar-10-batches-py", ShuffledPythonOrder);
        AssertSyntheticSet(Cifar10.Load(path), 2, Cifar10Format.Python);
    }

    [Fact]
    public void PythonBatch_LongMemoIndicesAndLargeLabelLists()
    {
        // 300 file names push the memo past 255 (LONG_BINPUT), as in the official 10,000-image batches.
        var batch = Cifar10.ParsePythonBatch(CifarTestData.PythonBatch(CifarTestData.PlanarImages(300), CifarTestData.Labels(300), "b"), "data_batch_1");
        Assert.Equal(CifarTestData.PlanarImages(300), batch.Images);
        Assert.Equal(CifarTestData.Labels(300), batch.Labels);
    }

    [Fact]
    public void PythonMeta_LabelNames()
    {
        Assert.Equal(CifarTestData.LabelNames, Cifar10.ParsePythonMeta(CifarTestData.PythonMeta(10000), "batches.meta"));
    }

    [Fact]
    public void BinaryMeta_IgnoresBlankLinesAndCarriageReturns()
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(string.Join("\r\n", CifarTestData.LabelNames) + "\r\n\r\n");
        Assert.Equal(CifarTestData.LabelNames, Cifar10.ParseBinaryMeta(bytes, "batches.meta.txt"));
    }

    [Fact]
    public void Load_HonoursCancellation()
    {
        string path = CifarTestData.WriteTarGz(CifarTestData.BinaryFiles(2), "cifar-10-batches-bin", ShuffledBinaryOrder);
        Assert.ThrowsAny<OperationCanceledException>(() => Cifar10.Load(path, new CancellationToken(canceled: true)));
        string folder = CifarTestData.WriteFolder(CifarTestData.BinaryFiles(2));
        Assert.ThrowsAny<OperationCanceledException>(() => Cifar10.Load(folder, new CancellationToken(canceled: true)));
    }

    [Fact]
    public void Batch_RejectsInconsistentArrays()
    {
        Assert.Throws<ArgumentException>(() => new Cifar10Batch("b", new byte[3072], new byte[2]));
        Assert.Throws<ArgumentException>(() => new Cifar10Batch("b", new byte[3072], [10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Cifar10Batch("b", new byte[3072], [1]).Image(1));
    }
}
