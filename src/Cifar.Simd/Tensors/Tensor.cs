using System.Numerics;
using System.Runtime.CompilerServices;

namespace Cifar.Simd.Tensors;

/// <summary>
/// A dense row-major tensor of <see cref="float"/> or <see cref="double"/> of rank 1 to 4.
/// Storage is one managed array on the pinned object heap whose first element sits on a
/// 64-byte boundary: aligned for AVX-512, a stable address for the kernels, and freed by the
/// GC like any array (there is nothing to dispose). Views made by <see cref="Reshape"/> and
/// <see cref="Slice(int, int)"/> share storage with their source.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The alignment of the first element, in bytes.</summary>
    public const int Alignment = 64;

    private readonly T[] _array;
    private readonly int _offset;

    /// <summary>The tensor's shape.</summary>
    public Shape Shape { get; }

    /// <summary>The number of elements.</summary>
    public int Length => Shape.Length;

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>The first dimension (the batch size N for a minibatch).</summary>
    public int Rows => Shape.Rows;

    /// <summary>The product of all dimensions but the first (D for a minibatch viewed as (N, D)).</summary>
    public int RowLength => Shape.RowLength;

    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    public Tensor(Shape shape) : this(shape, zeroed: true) { }

    /// <summary>Creates a zero-filled tensor with the given dimensions.</summary>
    public Tensor(params ReadOnlySpan<int> dims) : this(new Shape(dims), zeroed: true) { }

    private Tensor(Shape shape, bool zeroed)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Tensor<{typeof(T).Name}> is not supported; use float or double.");
        Shape = shape;
        int pad = Alignment / Unsafe.SizeOf<T>();
        _array = zeroed
            ? GC.AllocateArray<T>(shape.Length + pad, pinned: true)
            : GC.AllocateUninitializedArray<T>(shape.Length + pad, pinned: true);
        _offset = AlignedOffset(_array);
        // A data set's rows are read in random order: huge pages, where the OS grants them, spare the TLB.
        if (!zeroed) AdviseHugePages(_array);
    }

    private static unsafe void AdviseHugePages(T[] array) =>
        HugePages.Advise(Unsafe.AsPointer(ref array[0]), (long)array.Length * Unsafe.SizeOf<T>());

    private Tensor(T[] array, int offset, Shape shape)
    {
        _array = array;
        _offset = offset;
        Shape = shape;
    }

    private static unsafe int AlignedOffset(T[] array)
    {
        // The array is pinned, so its address never changes and one offset serves its lifetime.
        nuint address = (nuint)Unsafe.AsPointer(ref array[0]);
        nuint misalignment = address & (Alignment - 1);
        return misalignment == 0 ? 0 : (int)((Alignment - misalignment) / (nuint)Unsafe.SizeOf<T>());
    }

    /// <summary>A zero-filled tensor with the given dimensions.</summary>
    public static Tensor<T> Zeros(params ReadOnlySpan<int> dims) => new(new Shape(dims), zeroed: true);

    /// <summary>A tensor whose contents are not initialised; every element must be written before it is read.</summary>
    /// <remarks>
    /// On Linux, storage of 8 MiB or more (a data set) is advised to use transparent huge pages before anything is
    /// written to it, which the kernel honours when its THP mode is <c>madvise</c> or <c>always</c>.
    /// </remarks>
    public static Tensor<T> Uninitialized(params ReadOnlySpan<int> dims) => new(new Shape(dims), zeroed: false);

    /// <summary>A tensor with every element equal to <paramref name="value"/>.</summary>
    public static Tensor<T> Filled(T value, params ReadOnlySpan<int> dims)
    {
        var t = new Tensor<T>(new Shape(dims), zeroed: false);
        t.AsSpan().Fill(value);
        return t;
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/> in the given shape.</summary>
    /// <exception cref="ArgumentException">The data's length is not the shape's element count.</exception>
    public static Tensor<T> FromArray(ReadOnlySpan<T> data, params ReadOnlySpan<int> dims)
    {
        var shape = new Shape(dims);
        if (data.Length != shape.Length)
            ThrowHelper.Argument($"{data.Length} values cannot fill a tensor of shape {shape} ({shape.Length} elements).", nameof(data));
        var t = new Tensor<T>(shape, zeroed: false);
        data.CopyTo(t.AsSpan());
        return t;
    }

    /// <summary>A rank-1 tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor<T> FromArray(ReadOnlySpan<T> data) => FromArray(data, data.Length);

    /// <summary>A rank-2 tensor holding a copy of a rectangular array.</summary>
    public static Tensor<T> FromArray(T[,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int rows = data.GetLength(0), cols = data.GetLength(1);
        var t = new Tensor<T>(new Shape(rows, cols), zeroed: false);
        var span = t.AsSpan();
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                span[i * cols + j] = data[i, j];
        return t;
    }

    /// <summary>The whole buffer, row-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> AsSpan() => new(_array, _offset, Shape.Length);

    /// <summary>The whole buffer, read-only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<T> AsReadOnlySpan() => new(_array, _offset, Shape.Length);

    /// <summary>Row <paramref name="row"/> of the (Rows, RowLength) matrix view, without copying.</summary>
    public Span<T> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
            ThrowHelper.OutOfRange(nameof(row), row, $"A tensor of shape {Shape} has rows 0 to {Rows - 1}.");
        int d = RowLength;
        return new Span<T>(_array, _offset + row * d, d);
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) as a tensor view
    /// sharing this tensor's storage (a minibatch slice). The view stays 64-byte aligned only when
    /// <c>start · RowLength · sizeof(T)</c> is a multiple of 64; kernels do not rely on alignment.
    /// </summary>
    public Tensor<T> Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start > Rows - count)
            ThrowHelper.Argument($"Rows [{start}, {start + count}) are outside a tensor of shape {Shape}.", nameof(start));
        var dims = Shape.ToArray();
        dims[0] = count;
        return new Tensor<T>(_array, _offset + start * RowLength, new Shape(dims));
    }

    /// <summary>A view of the same storage with another shape of the same element count.</summary>
    /// <exception cref="ArgumentException">The element counts differ.</exception>
    public Tensor<T> Reshape(params ReadOnlySpan<int> dims)
    {
        var shape = new Shape(dims);
        if (shape.Length != Length)
            ThrowHelper.Argument($"Cannot reshape a tensor of shape {Shape} ({Length} elements) to {shape} ({shape.Length} elements).", nameof(dims));
        return new Tensor<T>(_array, _offset, shape);
    }

    /// <summary>
    /// A view of the flat elements [<paramref name="offset"/>, offset + the shape's length) with the
    /// given shape, sharing this tensor's storage: how one buffer holds many named parameters.
    /// </summary>
    /// <exception cref="ArgumentException">The range does not fit inside this tensor.</exception>
    public Tensor<T> View(int offset, params ReadOnlySpan<int> dims)
    {
        var shape = new Shape(dims);
        if (offset < 0 || offset > Length - shape.Length)
            ThrowHelper.Argument($"A view of shape {shape} at offset {offset} does not fit in a tensor of shape {Shape} ({Length} elements).", nameof(offset));
        return new Tensor<T>(_array, _offset + offset, shape);
    }

    /// <summary>The (Rows, RowLength) matrix view used by affine layers.</summary>
    public Tensor<T> AsMatrix() => Rank == 2 ? this : new Tensor<T>(_array, _offset, new Shape(Rows, RowLength));

    /// <summary>A deep copy with its own storage.</summary>
    public Tensor<T> Clone()
    {
        var t = new Tensor<T>(Shape, zeroed: false);
        AsReadOnlySpan().CopyTo(t.AsSpan());
        return t;
    }

    /// <summary>The elements as a new array, row-major.</summary>
    public T[] ToArray() => AsReadOnlySpan().ToArray();

    /// <summary>Element <paramref name="i"/> of the flat row-major buffer.</summary>
    public ref T this[int i]
    {
        get
        {
            if ((uint)i >= (uint)Length)
                ThrowHelper.OutOfRange(nameof(i), i, $"A tensor of shape {Shape} has flat indices 0 to {Length - 1}.");
            return ref _array[_offset + i];
        }
    }

    /// <summary>Element (<paramref name="row"/>, <paramref name="col"/>) of the (Rows, RowLength) matrix view.</summary>
    public ref T this[int row, int col]
    {
        get
        {
            if ((uint)row >= (uint)Rows || (uint)col >= (uint)RowLength)
                ThrowHelper.OutOfRange(nameof(row), (row, col), $"A tensor of shape {Shape} viewed as ({Rows}, {RowLength}) has no element ({row}, {col}).");
            return ref _array[_offset + row * RowLength + col];
        }
    }

    /// <summary>Fills every element with <paramref name="value"/>.</summary>
    public void Fill(T value) => AsSpan().Fill(value);

    /// <summary>Copies this tensor's elements into <paramref name="destination"/>, which must have the same element count.</summary>
    public void CopyTo(Tensor<T> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Length != Length)
            ThrowHelper.Argument($"Cannot copy a tensor of shape {Shape} into one of shape {destination.Shape}.", nameof(destination));
        AsReadOnlySpan().CopyTo(destination.AsSpan());
    }

    /// <summary>The shape and element type, e.g. <c>Tensor&lt;Single&gt;(200, 3072)</c>.</summary>
    public override string ToString() => $"Tensor<{typeof(T).Name}>{Shape}";
}
