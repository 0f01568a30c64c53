using System.Globalization;

namespace Cifar.Simd.Models;

/// <summary>
/// Why a training run stopped early: the loss of one iteration was NaN or infinite. Produced by
/// <see cref="TwoLayerNet{T}.Train"/> (inside a <see cref="TrainingDivergedException"/>) and by the
/// <c>Solver</c> (its <c>Divergence</c>, with the outcome <c>Diverged</c>).
/// </summary>
/// <param name="Iteration">The 1-based iteration whose loss was not finite.</param>
/// <param name="NumIterations">The iterations the run was to do.</param>
/// <param name="Loss">The loss of that iteration: NaN, +∞ or −∞.</param>
/// <param name="LearningRate">The learning rate in force at that iteration.</param>
/// <param name="BestValAcc">The best validation accuracy before it, or null when no check had run (the parameters then go back to their initial values).</param>
public sealed record TrainingDivergence(int Iteration, int NumIterations, double Loss, double LearningRate, double? BestValAcc)
{
    /// <summary>
    /// One message naming the iteration, the loss and the learning rate, what was kept, and a hint, e.g.
    /// <c>training diverged at iteration 38 of 500: the loss is NaN at learning rate 10. …</c>
    /// </summary>
    public string Message
    {
        get
        {
            var c = CultureInfo.InvariantCulture;
            string loss = double.IsNaN(Loss) ? "NaN" : Loss > 0 ? "+∞" : "−∞";
            string kept = BestValAcc is { } acc
                ? string.Create(c, $"the parameters with the best validation accuracy so far ({acc:F3}) are back in the model")
                : "no accuracy check had run, so the initial parameters are back in the model";
            return string.Create(c, $"training diverged at iteration {Iteration} of {NumIterations}: the loss is {loss} at learning rate {LearningRate:G4}. ")
                + $"Training stopped; {kept}. Lower the learning rate (try {(LearningRate / 10).ToString("G4", c)}), "
                + "or the weight scale if the loss was already huge at the start.";
        }
    }

    /// <summary>The same as <see cref="Message"/>.</summary>
    public override string ToString() => Message;
}

/// <summary>
/// Thrown by <see cref="TwoLayerNet{T}.Train"/> when a loss is NaN or infinite: training stops at that iteration
/// and the parameters with the best validation accuracy so far are restored into the model first.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception; its message is <see cref="TrainingDivergence.Message"/>.</summary>
    /// <param name="divergence">Where and how training diverged.</param>
    /// <param name="stats">The histories up to the last finite iteration.</param>
    public TrainingDivergedException(TrainingDivergence divergence, TwoLayerTrainStats stats)
        : base((divergence ?? throw new ArgumentNullException(nameof(divergence))).Message)
    {
        Divergence = divergence;
        Stats = stats ?? throw new ArgumentNullException(nameof(stats));
    }

    /// <summary>Where and how training diverged.</summary>
    public TrainingDivergence Divergence { get; }

    /// <summary>The loss and accuracy histories up to the last iteration with a finite loss.</summary>
    public TwoLayerTrainStats Stats { get; }
}
