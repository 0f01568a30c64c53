using System.Runtime.CompilerServices;
using Cifar.Simd.Models;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Models;

public class ParameterSetTests
{
    [Fact]
    public unsafe void Parameters_AreAlignedNamedViewsOfOneBuffer()
    {
        var set = new ParameterSet<float>([("W1", new Shape(3, 5)), ("b1", new Shape(5)), ("W2", new Shape(5, 2)), ("b2", new Shape(2))]);
        Assert.Equal(["W1", "b1", "W2", "b2"], set.Names);
        Assert.Equal(15 + 5 + 10 + 2, set.ScalarCount);
        Assert.Equal(16 * 4, set.Values.Length);
        foreach (var name in set.Names)
        {
            Assert.Equal(0u, (uint)((nuint)Unsafe.AsPointer(ref set[name].AsSpan()[0]) % 64));
            Assert.Equal(set[name].Shape, set.Gradient(name).Shape);
        }
        set["W2"][1, 1] = 7;
        Assert.Equal(7, set.Values[32 + 3]);
        set.Gradient("b2")[1] = 3;
        Assert.Equal(3, set.Gradients[48 + 1]);
    }

    [Fact]
    public void BadNames_AreReported()
    {
        Assert.Throws<ArgumentException>(() => new ParameterSet<double>([("W", new Shape(1)), ("W", new Shape(2))]));
        var set = new ParameterSet<double>([("W1", new Shape(2, 2))]);
        var e = Assert.Throws<KeyNotFoundException>(() => set["W9"]);
        Assert.Contains("W1", e.Message);
    }

    [Fact]
    public void TensorView_ChecksItsRange()
    {
        var t = new Tensor<float>(10);
        Assert.Equal(new Shape(2, 3), t.View(4, 2, 3).Shape);
        var e = Assert.Throws<ArgumentException>(() => t.View(5, 2, 3));
        Assert.Contains("offset 5", e.Message);
    }
}
