using System.Runtime.CompilerServices;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Tensors;

public class TensorTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(3072)]
    public unsafe void Storage_IsAlignedTo64Bytes(int n)
    {
        for (int i = 0; i < 20; i++)
        {
            var f = new Tensor<float>(n);
            var d = new Tensor<double>(n, 1);
            Assert.Equal(0u, (uint)((nuint)Unsafe.AsPointer(ref f.AsSpan()[0]) % 64));
            Assert.Equal(0u, (uint)((nuint)Unsafe.AsPointer(ref d.AsSpan()[0]) % 64));
        }
    }

    [Fact]
    public void Shape_TreatsHigherRankAsMatrix_LikeReshapeNMinus1()
    {
        var t = new Tensor<double>(2, 4, 5, 6);
        Assert.Equal(4, t.Rank);
        Assert.Equal(2, t.Rows);
        Assert.Equal(120, t.RowLength);
        Assert.Equal(new Shape(2, 120), t.AsMatrix().Shape);
        Assert.Equal("(2, 4, 5, 6)", t.Shape.ToString());
        Assert.Equal("(5,)", new Shape(5).ToString());
    }

    [Fact]
    public void RowsAndSlices_ShareStorage()
    {
        var t = Tensor<float>.FromArray([1, 2, 3, 4, 5, 6], 3, 2);
        t.Row(1)[0] = 30;
        Assert.Equal(30, t[1, 0]);
        var batch = t.Slice(1, 2);
        Assert.Equal(new Shape(2, 2), batch.Shape);
        batch[1, 1] = 60;
        Assert.Equal(60, t[2, 1]);
        var flat = t.Reshape(6);
        Assert.Equal(60, flat[5]);
    }

    [Fact]
    public void Creation_ZerosFilledFromArrayClone()
    {
        Assert.All(Tensor<double>.Zeros(3, 3).ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(Tensor<float>.Filled(2.5f, 4).ToArray(), v => Assert.Equal(2.5f, v));
        var a = Tensor<double>.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new Shape(2, 3), a.Shape);
        Assert.Equal(6.0, a[1, 2]);
        var c = a.Clone();
        c[0] = -1;
        Assert.Equal(1.0, a[0]);
    }

    [Fact]
    public void BadShapes_NameTheProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor<float>.FromArray([1, 2, 3], 2, 2));
        Assert.Contains("(2, 2)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Tensor<float>(2, 3).Reshape(4, 2));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(4, 2)", e.Message);
        Assert.Throws<ArgumentException>(() => new Shape(1, 2, 3, 4, 5));
        Assert.Throws<ArgumentException>(() => new Shape(-1));
        Assert.Throws<ArgumentException>(() => new Shape(1 << 16, 1 << 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tensor<float>(2, 2).Row(2));
        Assert.Throws<ArgumentException>(() => new Tensor<float>(2, 2).Slice(1, 2));
    }

    [Fact]
    public void UnsupportedElementType_IsRejected()
    {
        Assert.Throws<NotSupportedException>(() => new Tensor<Half>(2));
    }
}
