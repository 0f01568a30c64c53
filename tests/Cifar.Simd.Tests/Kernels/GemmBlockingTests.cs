using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

public class GemmBlockingTests
{
    // The table in docs/kernels.md; a change to the derivation must update both.
    [Fact]
    public void BlockingMatchesTheDocumentedDerivation()
    {
        Assert.Equal(new GemmBlocking(10, 32, 192, 680, 5440, 512), GemmDriver<float, Avx512Kernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(10, 16, 192, 340, 2720, 512), GemmDriver<double, Avx512Kernel<double>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(6, 16, 384, 336, 2720, 512), GemmDriver<float, Avx2Kernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(6, 8, 384, 168, 1360, 512), GemmDriver<double, Avx2Kernel<double>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(4, 8, 512, 256, 2048, 640), GemmDriver<float, PortableKernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(4, 4, 512, 128, 1024, 640), GemmDriver<double, PortableKernel<double>, NoEpilogue>.Blocking);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(192, 192)]
    [InlineData(200, 200)]   // a batch of 200 stays one block
    [InlineData(240, 240)]
    [InlineData(241, 128)]   // just past 1.25·KC: two blocks of about half, not 240 + 1
    [InlineData(3072, 240)]  // 13 blocks: 12 of 240 and a last of 192
    [InlineData(1536, 224)]  // 6 of 224 and a last of 192
    [InlineData(1100, 224)]
    [InlineData(961, 208)]   // 5 blocks: 4 of 208 and a last of 129
    public void KBlocksAreNearEqualLineAlignedAndAtMostKLong(int k, int expected)
    {
        // KLong = 1.25·KC, as before the longer blocks, exercises the cutting on its own.
        var blocking = new GemmBlocking(8, 32, 192, 680, 5440, 240);
        int kc = blocking.KBlock(k);
        Assert.Equal(expected, kc);
        int blocks = (k + kc - 1) / kc;
        Assert.True(kc <= 240 && k - (blocks - 1) * kc > 0 && k - (blocks - 1) * kc <= kc);
        Assert.True(blocks == 1 || kc % 16 == 0, $"K = {k}: blocks of {kc} do not start on cache lines.");
        Assert.Equal((k + 239) / 240, blocks);
    }

    [Theory]
    [InlineData(200, 200)]
    [InlineData(512, 512)]
    [InlineData(513, 272)]   // two blocks of about half
    [InlineData(1024, 512)]
    [InlineData(1021, 512)]  // 512 and a last of 509
    [InlineData(3072, 512)]  // 6 of 512 (X·W1)
    [InlineData(1536, 512)]  // each half of the first layer's split K: 3 of 512
    [InlineData(600, 304)]
    public void LongKBlocksAreNearEqualLineAlignedAndAtMostKLong(int k, int expected)
    {
        var blocking = new GemmBlocking(10, 32, 192, 680, 5440, 512);
        int kc = blocking.KBlock(k);
        Assert.Equal(expected, kc);
        int blocks = (k + kc - 1) / kc;
        Assert.Equal((k + 511) / 512, blocks);
        Assert.True(blocks == 1 || kc % 16 == 0);
    }

    // A K block longer than 1.25·KC takes fewer rows and columns, so the Ã block still fits half of L2 and the B̃ block the L3 share.
    [Fact]
    public void LongerBlocksShrinkMcAndNc()
    {
        var blocking = GemmDriver<float, Avx512Kernel<float>, NoEpilogue>.Blocking;
        Assert.Equal((680, 5440), (blocking.McFor(240, sizeof(float)), blocking.NcFor(240, sizeof(float))));
        Assert.Equal((250, 2048), (blocking.McFor(512, sizeof(float)), blocking.NcFor(512, sizeof(float))));
        var d = GemmDriver<double, Avx512Kernel<double>, NoEpilogue>.Blocking;
        Assert.Equal((120, 1024), (d.McFor(512, sizeof(double)), d.NcFor(512, sizeof(double))));
    }
}
