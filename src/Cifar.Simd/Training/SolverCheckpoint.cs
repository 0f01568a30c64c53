using System.Globalization;
using System.Numerics;
using Cifar.Simd.IO;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Training;

/// <summary>What a solver checkpoint says about its run, read without a model or data (see <see cref="SolverCheckpoint.ReadInfo"/>).</summary>
/// <param name="Options">The run's solver options; <see cref="SolverOptions.CheckpointPath"/> is the file read.</param>
/// <param name="ElementType">The element type of the run's tensors: <c>float</c> or <c>double</c>.</param>
/// <param name="Epoch">Epochs completed when the checkpoint was written.</param>
/// <param name="Iteration">Iterations completed when the checkpoint was written.</param>
/// <param name="IterationsPerEpoch">The run's <c>max(num_train // batch_size, 1)</c>.</param>
/// <param name="LearningRate">The learning rate in force (decayed once per completed epoch).</param>
/// <param name="BestValAcc">The best validation accuracy so far.</param>
/// <param name="AppMetadata">The <see cref="Solver{T}.CheckpointMetadata"/> the run carried.</param>
public sealed record SolverCheckpointInfo(SolverOptions Options, string ElementType, int Epoch, int Iteration, int IterationsPerEpoch,
    double LearningRate, double BestValAcc, IReadOnlyDictionary<string, string> AppMetadata);

/// <summary>
/// The solver checkpoint format (docs/model-format.md): a safetensors file whose model part is a model file
/// (<c>W1</c>, <c>b1</c>, …, <c>running_mean1</c>, …, with the same <c>__metadata__</c>), plus the best parameters
/// (<c>best.W1</c>, …), the update rule's state (<c>optim.velocity.W1</c>, <c>optim.m.W1</c>, …), the generator's key
/// (<c>random.key</c>), the histories (<c>history.loss</c>, …) and the solver's options and counters as metadata.
/// Written by <see cref="Solver{T}.SaveCheckpoint"/>, read by <see cref="Solver{T}.Resume"/>.
/// </summary>
public static class SolverCheckpoint
{
    /// <summary>The <c>checkpoint</c> metadata value this version writes and reads.</summary>
    public const string FormatName = "cifar-simd-checkpoint/1";

    /// <summary>Reads a checkpoint's options, counters and application metadata.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file or not a solver checkpoint of this format.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SolverCheckpointInfo ReadInfo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var r = new CheckpointReader(SafeTensors.Load(path), path);
        string elementType = r.ElementType();
        var options = r.Options() with { CheckpointPath = path };
        int ipe = r.Int("iterations_per_epoch", 1);
        int iteration = r.Int("iteration", 0);
        return new SolverCheckpointInfo(options, elementType, r.Int("epoch", 0), iteration, ipe,
            r.Double("learning_rate"), r.Double("best_val_acc"), r.AppMetadata());
    }
}

/// <summary>Reads a checkpoint's metadata and tensors; every malformed or missing entry is a <see cref="SafeTensorsFormatException"/> naming the file.</summary>
internal sealed class CheckpointReader(SafeTensorsFile file, string path)
{
    public const string AppPrefix = "app.";

    public SafeTensorsFile File { get; } = file;

    public string Path { get; } = path;

    public SafeTensorsFormatException Bad(string problem) => new(Path, problem);

    public ArgumentException Mismatch(string problem) => new($"{Path}: {problem}");

    public string Meta(string key) => File.Metadata.TryGetValue(key, out var v) ? v
        : throw Bad($"the metadata has no '{key}'; the checkpoint is incomplete or not a {SolverCheckpoint.FormatName} checkpoint.");

    public int Int(string key, int min) =>
        int.TryParse(Meta(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min ? v
        : throw Bad($"metadata '{key}' = '{Meta(key)}' is not an integer ≥ {min}.");

    public long Long(string key, long min) =>
        long.TryParse(Meta(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= min ? v
        : throw Bad($"metadata '{key}' = '{Meta(key)}' is not an integer ≥ {min}.");

    public double Double(string key) =>
        double.TryParse(Meta(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
        : throw Bad($"metadata '{key}' = '{Meta(key)}' is not a number.");

    public bool Bool(string key) => Meta(key) switch
    {
        "true" => true,
        "false" => false,
        var other => throw Bad($"metadata '{key}' = '{other}' is not true or false."),
    };

    /// <summary>Checks the format marker and returns <c>float</c> or <c>double</c>.</summary>
    public string ElementType()
    {
        if (!File.Metadata.TryGetValue("checkpoint", out var format))
            throw Bad($"the metadata has no 'checkpoint' entry, so this is not a solver checkpoint (a model file, perhaps); expected '{SolverCheckpoint.FormatName}'.");
        if (format != SolverCheckpoint.FormatName)
            throw Bad($"metadata 'checkpoint' is '{format}', expected '{SolverCheckpoint.FormatName}'.");
        return Meta("dtype") switch
        {
            "F32" => "float",
            "F64" => "double",
            var other => throw Bad($"metadata 'dtype' = '{other}' is not F32 or F64."),
        };
    }

    /// <summary>A tensor that must exist with exactly this element type and shape.</summary>
    public Tensor<TE> Tensor<TE>(string name, Shape shape) where TE : unmanaged, IFloatingPointIeee754<TE>
    {
        var tensor = Vector<TE>(name);
        if (tensor.Shape != shape)
            throw Bad($"tensor '{name}' has shape {tensor.Shape} but the run needs {shape}.");
        return tensor;
    }

    /// <summary>A tensor that must exist with this element type, any shape.</summary>
    public Tensor<TE> Vector<TE>(string name) where TE : unmanaged, IFloatingPointIeee754<TE>
    {
        string dtype = typeof(TE) == typeof(float) ? "F32" : "F64";
        if (!File.Contains(name))
            throw Bad($"the checkpoint has no tensor '{name}' ({dtype}).");
        return File[name] is SafeTensor<TE> typed ? typed.Tensor
            : throw Bad($"tensor '{name}' is {(dtype == "F32" ? "F64" : "F32")}, expected {dtype}.");
    }

    public IReadOnlyDictionary<string, string> AppMetadata() =>
        File.Metadata.Where(kv => kv.Key.StartsWith(AppPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[AppPrefix.Length..], kv => kv.Value, StringComparer.Ordinal);

    /// <summary>The solver options stored by <see cref="WriteOptions"/>, validated.</summary>
    public SolverOptions Options()
    {
        int? OptionalInt(string key) => Meta(key) == "none" ? null : Int(key, 1);
        var options = new SolverOptions
        {
            UpdateRule = Meta("update_rule"),
            LearningRate = File.Metadata.ContainsKey("optim.learning_rate") ? Double("optim.learning_rate") : null,
            Momentum = Double("optim.momentum"),
            DecayRate = Double("optim.decay_rate"),
            Beta1 = Double("optim.beta1"),
            Beta2 = Double("optim.beta2"),
            Epsilon = Double("optim.epsilon"),
            LearningRateDecay = Double("lr_decay"),
            BatchSize = Int("batch_size", 1),
            NumEpochs = Int("num_epochs", 1),
            NumTrainSamples = OptionalInt("num_train_samples"),
            NumValSamples = OptionalInt("num_val_samples"),
            PrintEvery = Int("print_every", 1),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw Bad($"the stored solver options are invalid: {e.Message}");
        }
        return options;
    }

    public static void WriteOptions(SolverOptions o, IDictionary<string, string> metadata)
    {
        metadata["update_rule"] = o.UpdateRule;
        if (o.LearningRate is { } lr) metadata["optim.learning_rate"] = Str(lr);
        metadata["optim.momentum"] = Str(o.Momentum);
        metadata["optim.decay_rate"] = Str(o.DecayRate);
        metadata["optim.beta1"] = Str(o.Beta1);
        metadata["optim.beta2"] = Str(o.Beta2);
        metadata["optim.epsilon"] = Str(o.Epsilon);
        metadata["lr_decay"] = Str(o.LearningRateDecay);
        metadata["batch_size"] = Str(o.BatchSize);
        metadata["num_epochs"] = Str(o.NumEpochs);
        metadata["num_train_samples"] = o.NumTrainSamples is { } nt ? Str(nt) : "none";
        metadata["num_val_samples"] = o.NumValSamples is { } nv ? Str(nv) : "none";
        metadata["print_every"] = Str(o.PrintEvery);
    }

    public static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);

    // "R" round-trips every double, so a resumed learning rate is bit for bit the saved one.
    public static string Str(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
