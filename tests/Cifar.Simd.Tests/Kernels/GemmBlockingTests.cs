using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

public class GemmBlockingTests
{
    // The table in docs/kernels.md; a change to the derivation must update both.
    [Fact]
    public void BlockingMatchesTheDocumentedDerivation()
    {
        Assert.Equal(new GemmBlocking(10, 32, 192, 680, 5440), GemmDriver<float, Avx512Kernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(10, 16, 192, 340, 2720), GemmDriver<double, Avx512Kernel<double>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(6, 16, 384, 336, 2720), GemmDriver<float, Avx2Kernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(6, 8, 384, 168, 1360), GemmDriver<double, Avx2Kernel<double>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(4, 8, 512, 256, 2048), GemmDriver<float, PortableKernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(4, 4, 512, 128, 1024), GemmDriver<double, PortableKernel<double>, NoEpilogue>.Blocking);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(192, 192)]
    [InlineData(200, 200)]   // a batch of 200 stays one block
    [InlineData(240, 240)]
    [InlineData(241, 128)]   // just past 1.25·KC: two blocks of about half, not 240 + 1
    [InlineData(3072, 240)]  // 13 blocks: 12 of 240 and a last of 192
    [InlineData(1536, 224)]  // each half of the first layer's K: 6 of 224 and a last of 192
    [InlineData(1100, 224)]
    [InlineData(961, 208)]   // 5 blocks: 4 of 208 and a last of 129
    public void KBlocksAreNearEqualLineAlignedAndAtMostAQuarterLongerThanKc(int k, int expected)
    {
        var blocking = new GemmBlocking(8, 32, 192, 680, 5440);
        int kc = blocking.KBlock(k);
        Assert.Equal(expected, kc);
        int blocks = (k + kc - 1) / kc;
        Assert.True(kc <= 240 && k - (blocks - 1) * kc > 0 && k - (blocks - 1) * kc <= kc);
        Assert.True(blocks == 1 || kc % 16 == 0, $"K = {k}: blocks of {kc} do not start on cache lines.");
        Assert.Equal((k + 239) / 240, blocks);
    }
}
