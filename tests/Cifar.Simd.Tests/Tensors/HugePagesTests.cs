using System.Runtime.InteropServices;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Tensors;

public class HugePagesTests
{
    [Fact]
    public unsafe void SmallBuffersAreNotAdvised()
    {
        void* p = NativeMemory.AlignedAlloc(1 << 20, 1 << 21);
        try
        {
            Assert.False(HugePages.Advise(p, 1 << 20));
        }
        finally
        {
            NativeMemory.AlignedFree(p);
        }
    }

    [Fact]
    public unsafe void LargeBuffersAreAdvisedWhereTheKernelHasHugePages()
    {
        const long bytes = 16L << 20;
        void* p = NativeMemory.AlignedAlloc((nuint)bytes, 1 << 21);
        try
        {
            bool advised = HugePages.Advise(p, bytes);
            // The kernel accepts the advice whenever it was built with transparent huge pages, whatever their mode.
            bool thp = OperatingSystem.IsLinux() && File.Exists("/sys/kernel/mm/transparent_hugepage/enabled");
            Assert.Equal(thp, advised);
            new Span<byte>(p, (int)bytes).Fill(7);
            Assert.Equal(7, ((byte*)p)[bytes - 1]);
        }
        finally
        {
            NativeMemory.AlignedFree(p);
        }
    }

    [Fact]
    public void LargeUninitializedTensorsHoldWhatIsWritten()
    {
        var t = Tensor<float>.Uninitialized(1100, 3072); // 13.5 MB: advised on Linux
        var span = t.AsSpan();
        for (int i = 0; i < span.Length; i += 1021) span[i] = i;
        for (int i = 0; i < span.Length; i += 1021) Assert.Equal(i, span[i]);
    }
}
