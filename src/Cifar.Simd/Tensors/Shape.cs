using System.Runtime.CompilerServices;

namespace Cifar.Simd.Tensors;

/// <summary>
/// The shape of a row-major tensor of rank 1 to 4. An affine layer treats a shape
/// (N, d1, …, dk) as the matrix (N, d1·…·dk), exactly as CS231n's <c>x.reshape(N, -1)</c>.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    /// <summary>The largest rank a tensor may have.</summary>
    public const int MaxRank = 4;

    private readonly int _d0, _d1, _d2, _d3;

    /// <summary>The number of dimensions (1 to 4).</summary>
    public int Rank { get; }

    /// <summary>The total number of elements, the product of all dimensions.</summary>
    public int Length { get; }

    /// <summary>Creates a shape from its dimensions; each must be ≥ 0 and the product must fit in an <see cref="int"/>.</summary>
    /// <exception cref="ArgumentException">The rank is not 1 to 4, a dimension is negative, or the element count overflows.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        if (dims.Length is < 1 or > MaxRank)
            throw new ArgumentException($"A shape has 1 to {MaxRank} dimensions; got {dims.Length}.", nameof(dims));
        long length = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0)
                throw new ArgumentException($"Dimension {i} of a shape must be ≥ 0; got {dims[i]}.", nameof(dims));
            length *= dims[i];
            if (length > Array.MaxLength)
                throw new ArgumentException($"A tensor of shape ({string.Join(", ", dims.ToArray())}) has more than {Array.MaxLength} elements.", nameof(dims));
        }
        Rank = dims.Length;
        Length = (int)length;
        _d0 = dims[0];
        _d1 = dims.Length > 1 ? dims[1] : 1;
        _d2 = dims.Length > 2 ? dims[2] : 1;
        _d3 = dims.Length > 3 ? dims[3] : 1;
    }

    /// <summary>The size of dimension <paramref name="axis"/>.</summary>
    public int this[int axis]
    {
        get
        {
            if ((uint)axis >= (uint)Rank)
                throw new ArgumentOutOfRangeException(nameof(axis), axis, $"A shape of rank {Rank} has axes 0 to {Rank - 1}.");
            return axis switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => _d3 };
        }
    }

    /// <summary>The first dimension: the number of rows (samples) when the tensor is viewed as a matrix.</summary>
    public int Rows => _d0;

    /// <summary>The product of all dimensions but the first: the row length when viewed as a matrix (1 for rank 1).</summary>
    public int RowLength => Rank == 1 ? 1 : _d1 * _d2 * _d3;

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray()
    {
        var dims = new int[Rank];
        for (int i = 0; i < Rank; i++) dims[i] = this[i];
        return dims;
    }

    /// <inheritdoc/>
    public bool Equals(Shape other) =>
        Rank == other.Rank && _d0 == other._d0 && _d1 == other._d1 && _d2 == other._d2 && _d3 == other._d3;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rank, _d0, _d1, _d2, _d3);

    /// <summary>Shapes are equal when they have the same rank and dimensions.</summary>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Shapes differ when rank or any dimension differs.</summary>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>numpy's notation: <c>(2, 3)</c>, or <c>(5,)</c> for rank 1.</summary>
    public override string ToString() => Rank == 1 ? $"({_d0},)" : $"({string.Join(", ", ToArray())})";

    /// <summary>A matrix shape (rows, cols).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Shape Matrix(int rows, int cols) => new(rows, cols);
}
