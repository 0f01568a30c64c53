using System.Numerics;
using System.Runtime.InteropServices;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.IO;

/// <summary>The element types this library reads and writes in safetensors files.</summary>
public enum SafeTensorsDType
{
    /// <summary>32-bit IEEE 754 float, little-endian (<c>"F32"</c>, <see cref="float"/>).</summary>
    F32,

    /// <summary>64-bit IEEE 754 float, little-endian (<c>"F64"</c>, <see cref="double"/>).</summary>
    F64,
}

/// <summary>One named tensor of a <see cref="SafeTensorsFile"/>; <see cref="SafeTensor{T}"/> holds the data.</summary>
public abstract class SafeTensor
{
    private protected SafeTensor(string name) => Name = name;

    /// <summary>The tensor's name (the JSON key in the header).</summary>
    public string Name { get; }

    /// <summary>The element type written to the header.</summary>
    public abstract SafeTensorsDType DType { get; }

    /// <summary>The tensor's shape.</summary>
    public abstract Shape Shape { get; }

    /// <summary>The size of one element in bytes (4 for F32, 8 for F64).</summary>
    public int ElementSize => DType == SafeTensorsDType.F32 ? 4 : 8;

    /// <summary>The number of data bytes: <c>Shape.Length × ElementSize</c>.</summary>
    public long ByteLength => (long)Shape.Length * ElementSize;

    /// <summary>The data as bytes in host order (little-endian on every platform .NET ships for but s390x).</summary>
    internal abstract ReadOnlySpan<byte> HostBytes { get; }

    /// <summary>The dtype's name as the header spells it.</summary>
    internal static string DTypeName(SafeTensorsDType dtype) => dtype == SafeTensorsDType.F32 ? "F32" : "F64";
}

/// <summary>A named <see cref="Tensor{T}"/> of <see cref="float"/> (F32) or <see cref="double"/> (F64).</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class SafeTensor<T> : SafeTensor where T : unmanaged, IFloatingPointIeee754<T>
{
    internal SafeTensor(string name, Tensor<T> tensor) : base(name) => Tensor = tensor;

    /// <summary>The tensor; saving writes its current contents, loading creates a new one.</summary>
    public Tensor<T> Tensor { get; }

    /// <inheritdoc/>
    public override SafeTensorsDType DType => typeof(T) == typeof(float) ? SafeTensorsDType.F32 : SafeTensorsDType.F64;

    /// <inheritdoc/>
    public override Shape Shape => Tensor.Shape;

    internal override ReadOnlySpan<byte> HostBytes => MemoryMarshal.AsBytes(Tensor.AsReadOnlySpan());

    /// <summary>The name, dtype and shape, e.g. <c>W1: F32 (3072, 100)</c>.</summary>
    public override string ToString() => $"{Name}: {DTypeName(DType)} {Shape}";
}
