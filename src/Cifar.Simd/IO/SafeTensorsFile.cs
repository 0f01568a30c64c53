using System.Numerics;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.IO;

/// <summary>
/// The contents of a safetensors file: named F32/F64 tensors in file order, plus string metadata
/// (<c>__metadata__</c>). Build one with <see cref="Add(string, Tensor{float})"/> and save it with
/// <see cref="Save"/>; <see cref="SafeTensors.Load"/> returns one. Not thread-safe for writing.
/// </summary>
public sealed class SafeTensorsFile
{
    /// <summary>The name reserved for the metadata object in the header; no tensor may use it.</summary>
    public const string MetadataKey = "__metadata__";

    private readonly List<SafeTensor> _tensors = [];
    private readonly Dictionary<string, SafeTensor> _byName = new(StringComparer.Ordinal);

    /// <summary>The tensors, in the order they are laid out in the file.</summary>
    public IReadOnlyList<SafeTensor> Tensors => _tensors;

    /// <summary>Free-form string metadata written as <c>__metadata__</c> (omitted when empty).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>The number of tensors.</summary>
    public int Count => _tensors.Count;

    /// <summary>Adds a float tensor (F32). The tensor is referenced, not copied: saving writes its contents at that time.</summary>
    /// <exception cref="ArgumentException">The name is empty, <see cref="MetadataKey"/>, or already used.</exception>
    public SafeTensor<float> Add(string name, Tensor<float> tensor) => AddCore(name, tensor);

    /// <summary>Adds a double tensor (F64). The tensor is referenced, not copied: saving writes its contents at that time.</summary>
    /// <exception cref="ArgumentException">The name is empty, <see cref="MetadataKey"/>, or already used.</exception>
    public SafeTensor<double> Add(string name, Tensor<double> tensor) => AddCore(name, tensor);

    /// <summary>Adds a copy of a float or double tensor, so later changes to <paramref name="tensor"/> do not reach the file.</summary>
    internal SafeTensor<T> AddCopy<T>(string name, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T> => AddCore(name, tensor.Clone());

    /// <summary>Adds a copy of <paramref name="data"/> as a tensor of shape <paramref name="shape"/>.</summary>
    internal SafeTensor<T> AddCopy<T>(string name, ReadOnlySpan<T> data, Shape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensor = Tensor<T>.Uninitialized(shape.ToArray());
        data.CopyTo(tensor.AsSpan());
        return AddCore(name, tensor);
    }

    private SafeTensor<T> AddCore<T>(string name, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var entry = new SafeTensor<T>(name, tensor);
        Add(entry);
        return entry;
    }

    internal void Add(SafeTensor entry)
    {
        ArgumentException.ThrowIfNullOrEmpty(entry.Name, "name");
        if (entry.Name == MetadataKey)
            ThrowHelper.Argument($"'{MetadataKey}' is reserved for the metadata object and cannot name a tensor.", "name");
        if (!_byName.TryAdd(entry.Name, entry))
            ThrowHelper.Argument($"A tensor named '{entry.Name}' is already in this file.", "name");
        _tensors.Add(entry);
    }

    /// <summary>Whether a tensor named <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The entry named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafeTensor this[string name] =>
        _byName.TryGetValue(name, out var entry) ? entry
        : throw new KeyNotFoundException($"No tensor named '{name}'; the file holds {DescribeNames()}.");

    /// <summary>The float (F32) tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    /// <exception cref="InvalidCastException">The tensor is F64.</exception>
    public Tensor<float> GetFloat(string name) => Get<float>(name);

    /// <summary>The double (F64) tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    /// <exception cref="InvalidCastException">The tensor is F32.</exception>
    public Tensor<double> GetDouble(string name) => Get<double>(name);

    private Tensor<T> Get<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var entry = this[name];
        return entry is SafeTensor<T> typed ? typed.Tensor
            : throw new InvalidCastException($"Tensor '{name}' is {SafeTensor.DTypeName(entry.DType)}, not {(typeof(T) == typeof(float) ? "F32" : "F64")}.");
    }

    /// <summary>Saves to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    public void Save(string path) => SafeTensors.Save(path, this);

    private string DescribeNames() =>
        _tensors.Count == 0 ? "no tensors"
        : _tensors.Count <= 8 ? string.Join(", ", _tensors.Select(t => $"'{t.Name}'"))
        : $"{_tensors.Count} tensors";
}
