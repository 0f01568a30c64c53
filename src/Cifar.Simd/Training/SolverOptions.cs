using System.Numerics;
using Cifar.Simd.Optim;

namespace Cifar.Simd.Training;

/// <summary>
/// CS231n's <c>Solver</c> keyword arguments: the update rule and its <c>optim_config</c>, the
/// per-epoch learning-rate decay, batch size, epochs, the accuracy-check sample counts and the
/// checkpoint file. <see cref="Validate"/> (called by the solver's constructor) checks every field.
/// </summary>
public sealed record SolverOptions
{
    /// <summary><c>sgd</c>, <c>sgd_momentum</c>, <c>rmsprop</c>, <c>adam</c> or <c>adagrad</c>.</summary>
    public string UpdateRule { get; init; } = "sgd";

    /// <summary><c>optim_config['learning_rate']</c>; when null, the rule's CS231n default.</summary>
    public double? LearningRate { get; init; }

    /// <summary><c>sgd_momentum</c>'s momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary><c>rmsprop</c>'s decay rate.</summary>
    public double DecayRate { get; init; } = 0.99;

    /// <summary><c>adam</c>'s β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary><c>adam</c>'s β2.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε of <c>rmsprop</c>, <c>adam</c> and <c>adagrad</c>.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary><c>lr_decay</c>: the learning rate is multiplied by it after every epoch.</summary>
    public double LearningRateDecay { get; init; } = 1.0;

    /// <summary><c>batch_size</c>.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary><c>num_epochs</c>.</summary>
    public int NumEpochs { get; init; } = 10;

    /// <summary><c>num_train_samples</c>: training rows drawn for each training-accuracy check.</summary>
    public int? NumTrainSamples { get; init; } = 1000;

    /// <summary><c>num_val_samples</c>: validation rows drawn for each check; null uses them all.</summary>
    public int? NumValSamples { get; init; }

    /// <summary><c>print_every</c>: progress is reported every this many iterations (and at every epoch's end).</summary>
    public int PrintEvery { get; init; } = 10;

    /// <summary>
    /// CS231n's <c>checkpoint_name</c>: when set, the solver writes a checkpoint to this file at the end of every
    /// epoch and when cancelled, replacing the previous one atomically (see docs/model-format.md). Its folder is
    /// created if needed. Null (the default) writes none.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Throws when a value is out of its range, naming the value and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range; the message names the field, its value and the range.</exception>
    public void Validate()
    {
        if (!UpdateRuleFactory.Names.Contains(UpdateRule))
            ThrowHelper.OutOfRange(nameof(UpdateRule), UpdateRule, $"Unknown update rule '{UpdateRule}'; expected one of {string.Join(", ", UpdateRuleFactory.Names)}.");
        if (LearningRate is { } lr && (!(lr > 0) || !double.IsFinite(lr)))
            ThrowHelper.OutOfRange(nameof(LearningRate), lr, $"The learning rate must be a finite number > 0; got {lr}.");
        if (!(LearningRateDecay > 0 && LearningRateDecay <= 1))
            ThrowHelper.OutOfRange(nameof(LearningRateDecay), LearningRateDecay, $"The learning-rate decay must lie in (0, 1]; got {LearningRateDecay}.");
        if (BatchSize < 1)
            ThrowHelper.OutOfRange(nameof(BatchSize), BatchSize, $"The batch size must be ≥ 1; got {BatchSize}.");
        if (NumEpochs < 1)
            ThrowHelper.OutOfRange(nameof(NumEpochs), NumEpochs, $"The number of epochs must be ≥ 1; got {NumEpochs}.");
        if (NumTrainSamples is < 1)
            ThrowHelper.OutOfRange(nameof(NumTrainSamples), NumTrainSamples, $"NumTrainSamples must be ≥ 1 or null; got {NumTrainSamples}.");
        if (NumValSamples is < 1)
            ThrowHelper.OutOfRange(nameof(NumValSamples), NumValSamples, $"NumValSamples must be ≥ 1 or null; got {NumValSamples}.");
        if (PrintEvery < 1)
            ThrowHelper.OutOfRange(nameof(PrintEvery), PrintEvery, $"PrintEvery must be ≥ 1; got {PrintEvery}.");
        UnitInterval(Momentum, nameof(Momentum));
        UnitInterval(DecayRate, nameof(DecayRate));
        UnitInterval(Beta1, nameof(Beta1));
        UnitInterval(Beta2, nameof(Beta2));
        if (!(Epsilon > 0) || !double.IsFinite(Epsilon))
            ThrowHelper.OutOfRange(nameof(Epsilon), Epsilon, $"Epsilon must be a finite number > 0; got {Epsilon}.");
        if (CheckpointPath is not null && (string.IsNullOrWhiteSpace(CheckpointPath) || Path.EndsInDirectorySeparator(CheckpointPath) || Directory.Exists(CheckpointPath)))
            ThrowHelper.OutOfRange(nameof(CheckpointPath), CheckpointPath, $"CheckpointPath must name a file, not a folder or an empty path; got '{CheckpointPath}'.");
    }

    private static void UnitInterval(double value, string name)
    {
        if (!(value >= 0 && value < 1))
            ThrowHelper.OutOfRange(name, value, $"{name} must lie in [0, 1); got {value}.");
    }
}

/// <summary>Builds an update rule from its CS231n name and a <see cref="SolverOptions"/>.</summary>
public static class UpdateRuleFactory
{
    /// <summary>The rule names, as CS231n's <c>optim.py</c> spells them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["sgd", "sgd_momentum", "rmsprop", "adam", "adagrad"];

    /// <summary>Creates the rule named by <see cref="SolverOptions.UpdateRule"/>.</summary>
    public static UpdateRule<T> Create<T>(SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UpdateRule switch
        {
            "sgd" => new Sgd<T>(options.LearningRate ?? 1e-2),
            "sgd_momentum" => new SgdMomentum<T>(options.LearningRate ?? 1e-2, options.Momentum),
            "rmsprop" => new RmsProp<T>(options.LearningRate ?? 1e-2, options.DecayRate, options.Epsilon),
            "adam" => new Adam<T>(options.LearningRate ?? 1e-3, options.Beta1, options.Beta2, options.Epsilon),
            "adagrad" => new AdaGrad<T>(options.LearningRate ?? 1e-2, options.Epsilon),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.UpdateRule,
                $"Unknown update rule '{options.UpdateRule}'; expected one of {string.Join(", ", Names)}."),
        };
    }
}
