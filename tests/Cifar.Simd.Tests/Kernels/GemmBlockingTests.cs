using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

public class GemmBlockingTests
{
    // The table in docs/kernels.md; a change to the derivation must update both.
    [Fact]
    public void BlockingMatchesTheDocumentedDerivation()
    {
        Assert.Equal(new GemmBlocking(8, 32, 192, 680, 5440), GemmDriver<float, Avx512Kernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(8, 16, 192, 336, 2720), GemmDriver<double, Avx512Kernel<double>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(6, 16, 384, 336, 2720), GemmDriver<float, Avx2Kernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(6, 8, 384, 168, 1360), GemmDriver<double, Avx2Kernel<double>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(4, 8, 512, 256, 2048), GemmDriver<float, PortableKernel<float>, NoEpilogue>.Blocking);
        Assert.Equal(new GemmBlocking(4, 4, 512, 128, 1024), GemmDriver<double, PortableKernel<double>, NoEpilogue>.Blocking);
    }
}
