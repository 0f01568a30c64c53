using System.Formats.Tar;
using System.IO.Compression;
using Cifar.Simd.Data;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Data;

/// <summary>Tests on the project's shared CIFAR-10 archives (../shared/cifar10 from the repository root).</summary>
public class Cifar10SharedDataTests
{
    private static readonly string[] BatchNames = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"];

    /// <summary>The first <paramref name="count"/> records of every batch of the binary archive, read without the library.</summary>
    private static Dictionary<string, byte[]> BinaryPrefixes(int count)
    {
        var result = new Dictionary<string, byte[]>();
        using var gz = new GZipStream(File.OpenRead(Path.Combine(CifarTestData.SharedFolder, "cifar-10-binary.tar.gz")), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } entry)
        {
            string name = Path.GetFileName(entry.Name);
            if (!name.EndsWith(".bin", StringComparison.Ordinal) || entry.DataStream is null) continue;
            var bytes = new byte[count * 3073];
            entry.DataStream.ReadExactly(bytes);
            result[name[..^4]] = bytes;
        }
        return result;
    }

    [Fact]
    public void PythonSample_EqualsFirst200RecordsOfBinaryArchive()
    {
        var sample = Cifar10.Load(Path.Combine(CifarTestData.SharedFolder, "cifar-10-python-sample.tar.gz"));
        Assert.Equal(Cifar10Format.Python, sample.Format);
        Assert.Equal(CifarTestData.LabelNames, sample.LabelNames);
        Assert.Equal(1000, sample.TrainCount);
        Assert.Equal(200, sample.TestCount);

        var prefixes = BinaryPrefixes(200);
        for (int b = 0; b < BatchNames.Length; b++)
        {
            var expected = Cifar10.ParseBinaryBatch(prefixes[BatchNames[b]], BatchNames[b] + ".bin");
            var images = b < 5 ? sample.Train.Images.AsSpan(b * 200 * 3072, 200 * 3072) : sample.Test.Images;
            var labels = b < 5 ? sample.Train.Labels.AsSpan(b * 200, 200) : sample.Test.Labels;
            Assert.True(expected.Images.AsSpan().SequenceEqual(images), $"{BatchNames[b]}: images differ from the binary archive's first 200 records.");
            Assert.True(expected.Labels.AsSpan().SequenceEqual(labels), $"{BatchNames[b]}: labels differ from the binary archive's first 200 records.");
        }
    }

    [Fact]
    public void FullBinaryArchive_CountsClassesSplitAndMean()
    {
        var set = Cifar10.Load(Path.Combine(CifarTestData.SharedFolder, "cifar-10-binary.tar.gz"));
        Assert.Equal(Cifar10Format.Binary, set.Format);
        Assert.Equal(CifarTestData.LabelNames, set.LabelNames);
        Assert.Equal(50_000, set.TrainCount);
        Assert.Equal(10_000, set.TestCount);
        var perClass = new int[10];
        foreach (var l in set.Train.Labels) perClass[l]++;
        Assert.All(perClass, n => Assert.Equal(5_000, n));
        var testPerClass = new int[10];
        foreach (var l in set.Test.Labels) testPerClass[l]++;
        Assert.All(testPerClass, n => Assert.Equal(1_000, n));

        var s = Cifar10.Split<float>(set);
        Assert.Equal(new Shape(49_000, 3072), s.XTrain.Shape);
        Assert.Equal(new Shape(1_000, 3072), s.XVal.Shape);
        Assert.Equal(new Shape(1_000, 3072), s.XTest.Shape);
        Assert.Equal(new Shape(0, 3072), s.XDev.Shape);
        Assert.Equal(49_000, s.YTrain.Length);
        Assert.Equal(set.Train.Labels.AsSpan(49_000, 1_000).ToArray().Select(b => (int)b), s.YVal);

        // Each value is (pixel - mean) rounded once to float, so the column means vanish up to float rounding.
        var colSum = new double[3072];
        var x = s.XTrain.AsReadOnlySpan();
        for (int i = 0; i < x.Length; i += 3072)
            for (int k = 0; k < 3072; k++) colSum[k] += x[i + k];
        Assert.All(colSum, sum => Assert.True(Math.Abs(sum / 49_000) < 1e-4, $"train mean after subtraction is {sum / 49_000}"));
        Assert.All(s.MeanImage.ToArray(), m => Assert.InRange(m, 20.0, 240.0));
    }
}
