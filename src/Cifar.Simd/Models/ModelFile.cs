using System.Globalization;
using System.Numerics;
using Cifar.Simd.IO;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Models;

/// <summary>
/// Saves and loads <see cref="TwoLayerNet{T}"/> and <see cref="FullyConnectedNet{T}"/> as safetensors files
/// (see docs/model-format.md): one tensor per parameter under its CS231n name (<c>W1</c>, <c>b1</c>,
/// <c>gamma1</c>, …), batchnorm running statistics as <c>running_mean1</c> / <c>running_var1</c>, and the
/// configuration in <c>__metadata__</c> (<c>format</c>, <c>model</c>, sizes, normalization, …), so Python can
/// rebuild the model with numpy alone. Writes are atomic.
/// </summary>
public static class ModelFile
{
    /// <summary>The <c>format</c> metadata value this version writes and reads.</summary>
    public const string FormatName = "cifar-simd/1";

    /// <summary>Saves a model; the element type of the file is the model's.</summary>
    /// <exception cref="ArgumentException">The model is not a TwoLayerNet or FullyConnectedNet.</exception>
    public static void Save<T>(string path, IClassifier<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = new SafeTensorsFile();
        if (!Describe(model, file.Metadata))
            ThrowHelper.Argument($"ModelFile saves TwoLayerNet and FullyConnectedNet models, not {model.GetType().Name}.", nameof(model));
        foreach (var name in model.Parameters.Names) file.AddCopy(name, model.Parameters[name]);
        foreach (var (name, buffer) in model.Buffers) file.AddCopy(name, buffer);
        file.Save(path);
    }

    /// <summary>
    /// Writes the model's configuration metadata (<c>format</c>, <c>model</c>, sizes, …) into <paramref name="metadata"/>;
    /// for a model type this format does not know, writes <c>model = custom:{TypeName}</c> and the sizes, and returns false.
    /// </summary>
    internal static bool Describe<T>(IClassifier<T> model, IDictionary<string, string> metadata) where T : unmanaged, IFloatingPointIeee754<T>
    {
        metadata["format"] = FormatName;
        metadata["input_size"] = Str(model.InputSize);
        metadata["num_classes"] = Str(model.NumClasses);
        switch (model)
        {
            case TwoLayerNet<T> net:
                metadata["model"] = "two-layer";
                metadata["hidden_size"] = Str(net.HiddenSize);
                metadata["reg"] = Str(net.Reg);
                return true;
            case FullyConnectedNet<T> net:
                metadata["model"] = "fc";
                metadata["hidden_dims"] = string.Join(",", net.HiddenDims.Select(Str));
                metadata["normalization"] = net.Normalization.ToString().ToLowerInvariant();
                metadata["dropout_keep_ratio"] = Str(net.DropoutKeepRatio);
                metadata["reg"] = Str(net.Reg);
                if (net.DropoutSeed is { } seed) metadata["dropout_seed"] = seed.ToString(CultureInfo.InvariantCulture);
                return true;
            default:
                metadata["model"] = $"custom:{model.GetType().Name}";
                return false;
        }
    }

    /// <summary>Loads a model saved by <see cref="Save{T}"/>, converting its values to <typeparamref name="T"/> if needed.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file, or lacks a tensor or setting the model needs.</exception>
    public static IClassifier<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var file = SafeTensors.Load(path);
        string Meta(string key) => file.Metadata.TryGetValue(key, out var v) ? v
            : throw new SafeTensorsFormatException(path, $"the metadata has no '{key}'; this is not a model saved by cifar-simd ({FormatName}).");
        int Int(string key) => int.TryParse(Meta(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 1 ? v
            : throw new SafeTensorsFormatException(path, $"metadata '{key}' = '{Meta(key)}' is not an integer ≥ 1.");
        uint Seed(string key) => uint.TryParse(Meta(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out uint v) ? v
            : throw new SafeTensorsFormatException(path, $"metadata '{key}' = '{Meta(key)}' is not an integer in [0, {uint.MaxValue}].");
        double Dbl(string key) => double.TryParse(Meta(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new SafeTensorsFormatException(path, $"metadata '{key}' = '{Meta(key)}' is not a number.");
        if (Meta("format") != FormatName)
            throw new SafeTensorsFormatException(path, $"metadata 'format' is '{Meta("format")}', expected '{FormatName}'.");
        IClassifier<T> model;
        try
        {
            model = Meta("model") switch
            {
                "two-layer" => new TwoLayerNet<T>(Int("input_size"), Int("hidden_size"), Int("num_classes")) { Reg = Dbl("reg") },
                "fc" => new FullyConnectedNet<T>(ParseDims(path, Meta("hidden_dims")), Int("input_size"), Int("num_classes"), Dbl("dropout_keep_ratio"),
                    Enum.TryParse<Normalization>(Meta("normalization"), ignoreCase: true, out var norm) ? norm
                        : throw new SafeTensorsFormatException(path, $"metadata 'normalization' = '{Meta("normalization")}' is not none, batchnorm or layernorm."),
                    Dbl("reg"), dropoutSeed: file.Metadata.ContainsKey("dropout_seed") ? Seed("dropout_seed") : null),
                var other => throw new SafeTensorsFormatException(path, $"metadata 'model' = '{other}' is not two-layer or fc."),
            };
        }
        catch (ArgumentException e)
        {
            throw new SafeTensorsFormatException(path, $"the saved configuration is invalid: {e.Message}");
        }
        foreach (var name in model.Parameters.Names) Copy(file, path, name, model.Parameters[name]);
        foreach (var (name, buffer) in model.Buffers) Copy(file, path, name, buffer);
        return model;
    }

    private static int[] ParseDims(string path, string text) =>
        text.Length == 0 ? [] : text.Split(',').Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new SafeTensorsFormatException(path, $"metadata 'hidden_dims' = '{text}' is not a comma-separated list of integers.")).ToArray();

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Str(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void Copy<T>(SafeTensorsFile file, string path, string name, Tensor<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!file.Contains(name))
            throw new SafeTensorsFormatException(path, $"the model needs a tensor '{name}' of shape {destination.Shape}, and the file has none.");
        var entry = file[name];
        if (entry.Shape != destination.Shape)
            throw new SafeTensorsFormatException(path, $"tensor '{name}' has shape {entry.Shape} but the model's configuration needs {destination.Shape}.");
        Span<T> dst = destination.AsSpan();
        switch (entry)
        {
            case SafeTensor<float> f:
                var fs = f.Tensor.AsReadOnlySpan();
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(fs[i]);
                break;
            case SafeTensor<double> d:
                var ds = d.Tensor.AsReadOnlySpan();
                for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(ds[i]);
                break;
        }
    }
}
