using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

public class GemmEdgeTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    [Theory]
    [InlineData(-1, 2, 3)]
    [InlineData(2, -1, 3)]
    [InlineData(2, 3, -1)]
    public void NegativeDimensionsThrow(int m, int n, int k)
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply<float>(false, false, m, n, k, new float[64], new float[64], new float[64]));
        Assert.Contains("dimensions", ex.Message);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("b")]
    [InlineData("c")]
    [InlineData("bias")]
    public void TooShortSpansThrowNamingTheOperand(string operand)
    {
        const int m = 5, n = 6, k = 7;
        var a = new double[m * k - (operand == "a" ? 1 : 0)];
        var b = new double[k * n - (operand == "b" ? 1 : 0)];
        var c = new double[m * n - (operand == "c" ? 1 : 0)];
        var bias = new double[n - (operand == "bias" ? 1 : 0)];
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply<double>(true, true, m, n, k, a, b, c, GemmEpilogue.BiasRelu, bias));
        Assert.Equal(operand, ex.ParamName);
    }

    [Fact]
    public void MissingBiasThrows() =>
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply<float>(false, false, 2, 2, 2, new float[4], new float[4], new float[4], GemmEpilogue.Bias)).ParamName);

    [Fact]
    public void EmptyMOrNTouchesNothing()
    {
        foreach (SimdPath path in Paths)
        {
            var c = new float[] { 42 };
            Gemm.Multiply<float>(path, false, false, 0, 5, 3, [], new float[15], c);
            Gemm.Multiply<float>(path, false, false, 5, 0, 3, new float[15], [], c);
            Assert.Equal(42f, c[0]);
        }
    }

    [Fact]
    public void EmptyKStillAppliesTheEpilogue()
    {
        foreach (SimdPath path in Paths)
        {
            float[] bias = [1, -2, 3];
            var c = new float[] { 9, 9, 9, 9, 9, 9 };
            Gemm.Multiply<float>(path, false, false, 2, 3, 0, [], [], c);
            Assert.Equal(new float[6], c);
            Gemm.Multiply<float>(path, false, false, 2, 3, 0, [], [], c, GemmEpilogue.Bias, bias);
            Assert.Equal(new float[] { 1, -2, 3, 1, -2, 3 }, c);
            Gemm.Multiply<float>(path, false, false, 2, 3, 0, [], [], c, GemmEpilogue.BiasRelu, bias);
            Assert.Equal(new float[] { 1, 0, 3, 1, 0, 3 }, c);
            c = [4, 5, 6, 7, 8, 9];
            Gemm.Multiply<float>(path, false, false, 2, 3, 0, [], [], c, GemmEpilogue.Accumulate);
            Assert.Equal(new float[] { 4, 5, 6, 7, 8, 9 }, c);
        }
    }

    [Theory]
    [InlineData(GemmEpilogue.None)]
    [InlineData(GemmEpilogue.Bias)]
    [InlineData(GemmEpilogue.BiasRelu)]
    [InlineData(GemmEpilogue.Accumulate)]
    public void NaNInARowPropagatesToThatRowOnly(GemmEpilogue epilogue)
    {
        const int m = 13, n = 37, k = 11, bad = 9;
        foreach (SimdPath path in Paths)
            foreach (bool ta in new[] { false, true })
            {
                var rng = new System.Random(3);
                float[] a = GemmTestData.Random<float>(rng, m * k), b = GemmTestData.Random<float>(rng, k * n);
                float[] bias = GemmTestData.Random<float>(rng, n);
                a[ta ? 4 * m + bad : bad * k + 4] = float.NaN;
                var c = new float[m * n];
                Gemm.Multiply<float>(path, ta, false, m, n, k, a, b, c, epilogue, bias);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        Assert.True(float.IsNaN(c[i * n + j]) == (i == bad), $"{path} ta={ta}: C[{i},{j}] = {c[i * n + j]}");
            }
    }

    [Fact]
    public void ForcedPathsAreValidated()
    {
        Assert.Equal(SimdPaths.Best, SimdPaths.Resolve(null));
        Assert.Equal(SimdPath.Portable, SimdPaths.Resolve("portable"));
        var ex = Assert.Throws<ArgumentException>(() => SimdPaths.Resolve("sse9"));
        Assert.Contains(SimdPaths.EnvironmentVariable, ex.Message);
        if (!SimdPaths.IsSupported(SimdPath.Avx512))
            Assert.Contains(SimdPaths.EnvironmentVariable,
                Assert.Throws<PlatformNotSupportedException>(() => SimdPaths.Resolve("avx512")).Message);
        Assert.True(SimdPaths.IsSupported(Gemm.Path));
    }

    [Fact]
    public void SpansNeedNotBeExactOrAligned()
    {
        // Operands carved out of larger arrays at odd offsets; elements past the views must stay untouched.
        const int m = 17, n = 33, k = 9;
        var rng = new System.Random(5);
        double[] a = GemmTestData.Random<double>(rng, m * k + 3), b = GemmTestData.Random<double>(rng, k * n + 5);
        foreach (SimdPath path in Paths)
        {
            var c = new double[m * n + 2];
            c[0] = 123; c[^1] = 456;
            Gemm.Multiply<double>(path, false, true, m, n, k, a.AsSpan(1, m * k), b.AsSpan(3, k * n), c.AsSpan(1, m * n));
            var (expected, _) = ReferenceGemm.Multiply<double>(false, true, m, n, k, a.AsSpan(1, m * k), b.AsSpan(3, k * n), c, GemmEpilogue.None, default);
            Assert.Equal(123, c[0]);
            Assert.Equal(456, c[^1]);
            for (int i = 0; i < m * n; i++) Assert.Equal(expected[i], c[i + 1], 1e-12);
        }
    }
}
