using Cifar.Simd.Kernels;
using Cifar.Simd.Optim;
using Cifar.Simd.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>The chunked parallel loops: weight decay against a plain loop, and thread-count independence of it and of every update rule.</summary>
[Collection(nameof(GemmThreadingCollection))]
public class ParallelLoopsTests
{
    // Lengths around the vector widths, the 16,384-element chunk and the 4-chunk parallel threshold.
    private static Arbitrary<int> Lengths() => Gen.Frequency(
        (3, Gen.Choose(0, 70)),
        (2, Gen.Elements(16383, 16384, 16385, 65535, 65536, 65537)),
        (2, Gen.Choose(60_000, 200_000))).ToArbitrary();

    [Property(MaxTest = 40)]
    public Property WeightDecayMatchesThePlainLoop() =>
        Prop.ForAll(Lengths(), n =>
        {
            var rng = new System.Random(n);
            double[] w = GemmTestData.Random<double>(rng, n), dw = GemmTestData.Random<double>(rng, n);
            double[] expected = (double[])dw.Clone();
            double expectedSum = 0;
            for (int i = 0; i < n; i++)
            {
                expected[i] += 0.3 * w[i];
                expectedSum += w[i] * w[i];
            }
            double sum = Elementwise.AddWeightDecayAndSumSquares<double>(w, 0.3, dw);
            for (int i = 0; i < n; i++) Assert.Equal(expected[i], dw[i], 1e-15);
            Assert.Equal(expectedSum, sum, Math.Max(1e-12, expectedSum * 1e-13));
        });

    [Theory]
    [InlineData(5)]
    [InlineData(65537)]
    [InlineData(3 * 3072 * 50 + 7)]
    public void WeightDecayIsBitwiseTheSameOnAnyThreadCount(int n)
    {
        var rng = new System.Random(n);
        float[] w = GemmTestData.Random<float>(rng, n), dw0 = GemmTestData.Random<float>(rng, n);
        float[]? first = null;
        double firstSum = 0;
        ThreadCounts.ForEach(_ =>
        {
            var dw = (float[])dw0.Clone();
            double sum = Elementwise.AddWeightDecayAndSumSquares<float>(w, 0.01f, dw);
            if (first is null) (first, firstSum) = (dw, sum);
            Assert.Equal(first, dw);
            Assert.Equal(firstSum, sum);
        });
    }

    // The fused pass Train uses for W1 must be, bit for bit, the decay followed by Sgd's own update, on any thread count.
    [Property(MaxTest = 30)]
    public Property WeightDecayWithStepIsBitwiseDecayThenSgd() =>
        Prop.ForAll(Lengths(), n =>
        {
            var rng = new System.Random(n + 1);
            float[] w0 = GemmTestData.Random<float>(rng, n), dw0 = GemmTestData.Random<float>(rng, n);
            float[] w = (float[])w0.Clone(), dw = (float[])dw0.Clone();
            double expectedSum = Elementwise.AddWeightDecayAndSumSquares<float>(w, 0.5f, dw);
            new Sgd<float>(0.37).Update(w, dw);
            ThreadCounts.ForEach(_ =>
            {
                float[] fw = (float[])w0.Clone(), fdw = (float[])dw0.Clone();
                double sum = Elementwise.AddWeightDecaySumSquaresAndStep<float>(fw, 0.5f, fdw, (float)0.37);
                Assert.Equal(expectedSum, sum);
                Assert.Equal(dw, fdw);
                Assert.Equal(w, fw);
            });
        });

    [Fact]
    public void WeightDecayRefusesMismatchedLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => Elementwise.AddWeightDecayAndSumSquares<float>(new float[3], 1f, new float[4]));
        Assert.Contains("dw has 4 elements but w has 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => Elementwise.AddWeightDecaySumSquaresAndStep<float>(new float[3], 1f, new float[4], 0.1f));
        Assert.Contains("dw has 4 elements but w has 3", e.Message);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("sgd_momentum")]
    [InlineData("rmsprop")]
    [InlineData("adam")]
    [InlineData("adagrad")]
    public void EveryRuleUpdatesBitwiseTheSameOnAnyThreadCount(string name)
    {
        const int n = 5 * ParallelLoops.Chunk + 123;
        var rng = new System.Random(7);
        float[] w0 = GemmTestData.Random<float>(rng, n);
        float[][] grads = [GemmTestData.Random<float>(rng, n), GemmTestData.Random<float>(rng, n), GemmTestData.Random<float>(rng, n)];
        float[]? first = null;
        ThreadCounts.ForEach(_ =>
        {
            var rule = Cifar.Simd.Training.UpdateRuleFactory.Create<float>(new Cifar.Simd.Training.SolverOptions { UpdateRule = name, LearningRate = 1e-2 });
            var w = (float[])w0.Clone();
            foreach (var g in grads) rule.Update(w, g);
            first ??= w;
            Assert.Equal(first, w);
        });
        // The three steps really moved the weights, so the equality above compares real work.
        Assert.NotEqual(w0, first);
    }
}
