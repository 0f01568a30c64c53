using Cifar.Simd.Data;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Data;

public class Cifar10DecodeTests
{
    [Fact]
    public void HwcOrder_PixelLandsAtRowColChannel()
    {
        var images = CifarTestData.PlanarImages(3);
        var x = Cifar10.Decode<float>(images);
        Assert.Equal(new Shape(3, 3072), x.Shape);
        for (int i = 0; i < 3; i++)
            for (int row = 0; row < 32; row++)
                for (int col = 0; col < 32; col++)
                    for (int c = 0; c < 3; c++)
                        Assert.Equal(CifarTestData.Pixel(i, c, row, col), x[i, (row * 32 + col) * 3 + c]);
    }

    [Fact]
    public void HwcOrder_SingleKnownPixels()
    {
        var image = new byte[3072];
        image[0 * 1024 + 5 * 32 + 7] = 200;  // R at (5, 7)
        image[1 * 1024 + 5 * 32 + 7] = 100;  // G at (5, 7)
        image[2 * 1024 + 31 * 32 + 31] = 255; // B at (31, 31)
        var x = Cifar10.Decode<double>(image);
        Assert.Equal(200.0, x[0, (5 * 32 + 7) * 3 + 0]);
        Assert.Equal(100.0, x[0, (5 * 32 + 7) * 3 + 1]);
        Assert.Equal(255.0, x[0, 3071]);
        Assert.Equal(555.0, x.AsReadOnlySpan().ToArray().Sum());
    }

    [Fact]
    public void ChwOrder_IsTheFileOrder()
    {
        var images = CifarTestData.PlanarImages(2);
        var x = Cifar10.Decode<double>(images, Cifar10FeatureOrder.ChannelHeightWidth);
        Assert.Equal(images.Select(b => (double)b).ToArray(), x.ToArray());
        var f = Cifar10.Decode<float>(images, Cifar10FeatureOrder.ChannelHeightWidth);
        Assert.Equal(images.Select(b => (float)b).ToArray(), f.ToArray());
    }

    [Fact]
    public void FloatAndDoubleAgree_ForEveryByteValue()
    {
        var images = new byte[3072 * 2];
        for (int i = 0; i < images.Length; i++) images[i] = (byte)(i * 31);
        var f = Cifar10.Decode<float>(images).ToArray();
        var d = Cifar10.Decode<double>(images).ToArray();
        Assert.Equal(d, f.Select(v => (double)v).ToArray());
    }

    [Fact]
    public void SpanForm_WritesIntoCallerBuffer_AndChecksLengths()
    {
        var images = CifarTestData.PlanarImages(2);
        var dst = new float[2 * 3072 + 5];
        Cifar10.Decode<float>(images, dst);
        Assert.Equal(Cifar10.Decode<float>(images).ToArray(), dst[..(2 * 3072)]);
        Assert.Throws<ArgumentException>(() => Cifar10.Decode<float>(images, new float[3072]));
        Assert.Throws<ArgumentException>(() => Cifar10.Decode<float>(new byte[3071]));
    }

    [Fact]
    public void ZeroImages_GiveEmptyTensor()
    {
        Assert.Equal(new Shape(0, 3072), Cifar10.Decode<float>([]).Shape);
    }
}
