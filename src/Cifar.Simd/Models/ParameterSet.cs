using System.Numerics;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Models;

/// <summary>
/// All of a model's parameters (W1, b1, gamma1, …) in one contiguous buffer with named views,
/// and their gradients in a second buffer of the same layout — so an update rule is one flat
/// vector loop over the whole model. Each parameter starts on a 64-byte boundary; the padding
/// between parameters is zero in both buffers and stays zero under every update rule.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class ParameterSet<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly string[] _names;
    private readonly Tensor<T>[] _values;
    private readonly Tensor<T>[] _gradients;
    private readonly int[] _offsets;

    /// <summary>Lays out the named parameters in order; every value and gradient starts at zero.</summary>
    /// <exception cref="ArgumentException">A name is empty or repeated, or the total size overflows.</exception>
    public ParameterSet(IReadOnlyList<(string Name, Shape Shape)> layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        int align = Tensor<T>.Alignment / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var offsets = new int[layout.Count];
        long total = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < layout.Count; i++)
        {
            var (name, shape) = layout[i];
            if (string.IsNullOrEmpty(name) || !seen.Add(name))
                ThrowHelper.Argument($"Parameter names must be non-empty and unique; '{name}' is not.", nameof(layout));
            offsets[i] = (int)total;
            total += (shape.Length + align - 1) / align * align;
            if (total > Array.MaxLength)
                ThrowHelper.Argument($"The parameters need {total} elements, more than one buffer can hold.", nameof(layout));
        }
        _offsets = offsets;
        Values = new Tensor<T>((int)total);
        Gradients = new Tensor<T>((int)total);
        _names = new string[layout.Count];
        _values = new Tensor<T>[layout.Count];
        _gradients = new Tensor<T>[layout.Count];
        for (int i = 0; i < layout.Count; i++)
        {
            var dims = layout[i].Shape.ToArray();
            _names[i] = layout[i].Name;
            _values[i] = Values.View(offsets[i], dims);
            _gradients[i] = Gradients.View(offsets[i], dims);
        }
    }

    /// <summary>The whole parameter buffer (padding included), the span an update rule runs over.</summary>
    public Tensor<T> Values { get; }

    /// <summary>The whole gradient buffer, same layout as <see cref="Values"/>.</summary>
    public Tensor<T> Gradients { get; }

    /// <summary>The parameter names in layout order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The number of named parameters.</summary>
    public int Count => _names.Length;

    /// <summary>The number of scalar parameters, padding excluded.</summary>
    public int ScalarCount => _values.Sum(v => v.Length);

    /// <summary>The view of parameter <paramref name="name"/> (e.g. <c>"W1"</c>).</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name; the message lists the names.</exception>
    public Tensor<T> this[string name] => _values[IndexOf(name)];

    /// <summary>The view of parameter number <paramref name="index"/> in layout order.</summary>
    public Tensor<T> this[int index] => _values[index];

    /// <summary>The gradient view of parameter <paramref name="name"/>.</summary>
    public Tensor<T> Gradient(string name) => _gradients[IndexOf(name)];

    /// <summary>The gradient view of parameter number <paramref name="index"/>.</summary>
    public Tensor<T> Gradient(int index) => _gradients[index];

    /// <summary>
    /// Where parameter number <paramref name="index"/> starts in <see cref="Values"/> and <see cref="Gradients"/>, in
    /// elements; also its place in any buffer parallel to them (an update rule's state).
    /// </summary>
    public int OffsetOf(int index) => _offsets[index];

    /// <summary>Whether a parameter has that name.</summary>
    public bool Contains(string name) => Array.IndexOf(_names, name) >= 0;

    /// <summary>The position of <paramref name="name"/> in layout order.</summary>
    public int IndexOf(string name)
    {
        int i = Array.IndexOf(_names, name);
        if (i < 0)
            throw new KeyNotFoundException($"No parameter named '{name}'; this model has {string.Join(", ", _names)}.");
        return i;
    }

    /// <summary>Copies every parameter value from <paramref name="source"/>, which must have the same layout.</summary>
    public void CopyValuesFrom(ParameterSet<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Values.Length != Values.Length || !source._names.AsSpan().SequenceEqual(_names))
            ThrowHelper.Argument("The parameter sets have different layouts.", nameof(source));
        source.Values.AsReadOnlySpan().CopyTo(Values.AsSpan());
    }
}
