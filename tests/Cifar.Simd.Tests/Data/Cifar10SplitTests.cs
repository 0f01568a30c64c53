using Cifar.Simd.Data;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Data;

public class Cifar10SplitTests
{
    private static Cifar10RawSet Set(int perBatch) =>
        new(new Cifar10Batch("train", CifarTestData.PlanarImages(5 * perBatch), CifarTestData.Labels(5 * perBatch)),
            new Cifar10Batch("test", CifarTestData.PlanarImages(perBatch, 1000), CifarTestData.Labels(perBatch, 1000)),
            CifarTestData.LabelNames, Cifar10Format.Binary);

    /// <summary>numpy's recipe, written plainly: decode all, mean over the training rows, subtract in double.</summary>
    private static double[,] Reference(byte[] planar, int start, int count, double[]? mean)
    {
        var x = new double[count, 3072];
        for (int i = 0; i < count; i++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 1024; p++)
                {
                    int k = p * 3 + c;
                    x[i, k] = planar[(start + i) * 3072 + c * 1024 + p] - (mean?[k] ?? 0);
                }
        return x;
    }

    [Fact]
    public void Split_MatchesNumpyRecipe_Double()
    {
        var set = Set(8); // 40 train, 8 test
        var s = Cifar10.Split<double>(set, numTraining: 30, numValidation: 6, numTest: 5, numDev: 4);
        var raw = Reference(set.Train.Images, 0, 30, null);
        var mean = new double[3072];
        for (int k = 0; k < 3072; k++)
        {
            double sum = 0;
            for (int i = 0; i < 30; i++) sum += raw[i, k];
            mean[k] = sum / 30;
        }
        Assert.Equal(mean, s.MeanImage.ToArray());
        AssertRows(Reference(set.Train.Images, 0, 30, mean), s.XTrain);
        AssertRows(Reference(set.Train.Images, 30, 6, mean), s.XVal);
        AssertRows(Reference(set.Test.Images, 0, 5, mean), s.XTest);
        AssertRows(Reference(set.Train.Images, 0, 4, mean), s.XDev);
        Assert.Equal(CifarTestData.Labels(30).Select(b => (int)b), s.YTrain);
        Assert.Equal(CifarTestData.Labels(6, 30).Select(b => (int)b), s.YVal);
        Assert.Equal(CifarTestData.Labels(5, 1000).Select(b => (int)b), s.YTest);
        Assert.Equal(CifarTestData.Labels(4).Select(b => (int)b), s.YDev);
        Assert.Equal(CifarTestData.LabelNames, s.LabelNames);
    }

    private static void AssertRows(double[,] expected, Tensor<double> actual)
    {
        Assert.Equal(new Shape(expected.GetLength(0), 3072), actual.Shape);
        for (int i = 0; i < expected.GetLength(0); i++)
            for (int k = 0; k < 3072; k++)
                Assert.Equal(expected[i, k], actual[i, k]);
    }

    [Fact]
    public void Split_Float_IsDoubleRoundedOnce()
    {
        var set = Set(4);
        var d = Cifar10.Split<double>(set, 15, 5, 4);
        var f = Cifar10.Split<float>(set, 15, 5, 4);
        Assert.Equal(d.XTrain.ToArray().Select(v => (float)v), f.XTrain.ToArray());
        Assert.Equal(d.XVal.ToArray().Select(v => (float)v), f.XVal.ToArray());
        Assert.Equal(d.MeanImage.ToArray(), f.MeanImage.ToArray());
    }

    [Fact]
    public void Split_WithoutMean_GivesRawPixels_AndChwOrder()
    {
        var set = Set(2);
        var s = Cifar10.Split<float>(set, 6, 2, 2, subtractMean: false, order: Cifar10FeatureOrder.ChannelHeightWidth);
        Assert.Equal(set.Train.Images.AsSpan(0, 6 * 3072).ToArray().Select(b => (float)b), s.XTrain.ToArray());
        Assert.All(s.MeanImage.ToArray(), m => Assert.Equal(0.0, m));
        Assert.Equal(Cifar10FeatureOrder.ChannelHeightWidth, s.Order);
    }

    [Fact]
    public void Split_SeededDev_IsDeterministicDistinctTrainingRows()
    {
        var set = Set(10);
        var a = Cifar10.Split<double>(set, 40, 10, 0, numDev: 12, devSeed: 231);
        var b = Cifar10.Split<double>(set, 40, 10, 0, numDev: 12, devSeed: 231);
        Assert.Equal(a.XDev.ToArray(), b.XDev.ToArray());
        Assert.Equal(a.YDev, b.YDev);
        var train = Enumerable.Range(0, 40).Select(i => a.XTrain.Row(i).ToArray()).ToList();
        var rows = Enumerable.Range(0, 12).Select(i => train.FindIndex(r => r.SequenceEqual(a.XDev.Row(i).ToArray()))).ToList();
        Assert.DoesNotContain(-1, rows);
        Assert.Equal(12, rows.Distinct().Count());
        Assert.NotEqual(Enumerable.Range(0, 12), rows);
        Assert.Equal(rows.Select(r => a.YTrain[r]), a.YDev);
    }

    [Theory]
    [InlineData(51, 0, 0, 0, "numTraining")]
    [InlineData(-1, 0, 0, 0, "numTraining")]
    [InlineData(0, 0, 0, 0, "numTraining")]
    [InlineData(45, 6, 0, 0, "numValidation")]
    [InlineData(45, 5, 11, 0, "numTest")]
    [InlineData(45, 5, 10, 46, "numDev")]
    [InlineData(45, 5, 10, -1, "numDev")]
    public void Split_RejectsCountsOutOfRange(int numTraining, int numValidation, int numTest, int numDev, string param)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Cifar10.Split<float>(Set(10), numTraining, numValidation, numTest, numDev));
        Assert.Equal(param, e.ParamName);
        Assert.Contains("must be in [", e.Message);
    }
}
