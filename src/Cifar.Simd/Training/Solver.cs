using System.Diagnostics;
using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Models;
using Cifar.Simd.Optim;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Training;

/// <summary>One progress report of <see cref="Solver{T}.Train"/>.</summary>
/// <param name="Iteration">Iterations done (1-based).</param>
/// <param name="NumIterations">Iterations in the whole run.</param>
/// <param name="Epoch">Epochs completed.</param>
/// <param name="NumEpochs">Epochs in the whole run.</param>
/// <param name="Loss">The last minibatch's loss.</param>
/// <param name="TrainAccuracy">The latest training-accuracy check, or NaN before the first.</param>
/// <param name="ValAccuracy">The latest validation-accuracy check, or NaN before the first.</param>
/// <param name="LearningRate">The learning rate in force.</param>
/// <param name="SamplesPerSecond">Training samples per second since <c>Train</c> began.</param>
public readonly record struct SolverProgress(int Iteration, int NumIterations, int Epoch, int NumEpochs, double Loss,
    double TrainAccuracy, double ValAccuracy, double LearningRate, double SamplesPerSecond);

/// <summary>How a <see cref="Solver{T}.Train"/> call ended.</summary>
public enum SolverOutcome
{
    /// <summary>Every iteration ran.</summary>
    Completed,
    /// <summary>The cancellation token fired; training stopped after the step in progress.</summary>
    Cancelled,
    /// <summary>
    /// A minibatch loss was NaN or infinite: training stopped, the best parameters so far are back in the model,
    /// and <see cref="Solver{T}.Divergence"/> says where and why. No checkpoint is written for the diverged state.
    /// </summary>
    Diverged,
}

/// <summary>
/// CS231n's <c>Solver</c>: minibatch training of an <see cref="IClassifier{T}"/> with an update
/// rule, per-epoch learning-rate decay, accuracy checks, histories, and the best parameters by
/// validation accuracy (restored into the model at the end). Minibatches are drawn like
/// <c>np.random.choice(num_train, batch_size)</c> from the model's generator. The library never
/// writes to the console: progress goes to an <see cref="IProgress{T}"/>. With
/// <see cref="SolverOptions.CheckpointPath"/> set it checkpoints at every epoch's end and when cancelled, and
/// <see cref="Resume"/> continues a run from a checkpoint bit for bit as if it had never stopped.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed partial class Solver<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int CheckBatchSize = 100;
    private readonly Tensor<T> _xTrain, _xVal;
    private readonly int[] _yTrain, _yVal;
    private readonly Tensor<T> _batch, _checkBatch, _checkScores;
    private readonly int[] _batchLabels, _batchIndices, _checkIndices, _checkPredictions;
    private readonly T[] _bestParams;
    // Set while a stopped run has the best parameters swapped into the model: the current ones wait here.
    private T[]? _currentParams;
    private bool _bestSwappedIn;
    // Where and at which iteration the last checkpoint went, so a cancel right after an epoch's end does not write it twice.
    private (string? Path, int Iteration) _lastCheckpoint = (null, -1);
    // Views of the check buffers for each partial last-batch size seen, made once so later checks allocate nothing.
    private readonly Dictionary<int, (Tensor<T> Batch, Tensor<T> Scores)> _partialChecks = [];

    /// <summary>Creates a solver; validates the options and that the data fits the model.</summary>
    /// <exception cref="ArgumentException">Shapes or labels do not fit the model, or an option is out of range.</exception>
    public Solver(IClassifier<T> model, Tensor<T> xTrain, int[] yTrain, Tensor<T> xVal, int[] yVal, SolverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Options = options ?? new SolverOptions();
        Options.Validate();
        CheckData(model, xTrain, yTrain, nameof(xTrain), nameof(yTrain));
        CheckData(model, xVal, yVal, nameof(xVal), nameof(yVal));
        Model = model;
        (_xTrain, _yTrain, _xVal, _yVal) = (xTrain.AsMatrix(), yTrain, xVal.AsMatrix(), yVal);
        UpdateRule = UpdateRuleFactory.Create<T>(Options);
        // Sized up front so a checkpoint before the first step holds the (zero) state too.
        UpdateRule.InitializeState(model.Parameters.Values.Length);
        int d = model.InputSize, b = Options.BatchSize;
        _batch = Tensor<T>.Uninitialized(b, d);
        _batchLabels = new int[b];
        _batchIndices = new int[b];
        int maxCheck = Math.Max(xTrain.Rows, xVal.Rows);
        _checkIndices = new int[maxCheck];
        _checkPredictions = new int[CheckBatchSize];
        _checkBatch = Tensor<T>.Uninitialized(CheckBatchSize, d);
        _checkScores = Tensor<T>.Uninitialized(CheckBatchSize, model.NumClasses);
        _bestParams = model.Parameters.Values.ToArray();
        IterationsPerEpoch = Math.Max(xTrain.Rows / b, 1);
        NumIterations = checked(Options.NumEpochs * IterationsPerEpoch);
        LossHistory = new List<double>(NumIterations);
        TrainAccHistory = new List<double>(Options.NumEpochs + 2);
        ValAccHistory = new List<double>(Options.NumEpochs + 2);
    }

    private static void CheckData(IClassifier<T> model, Tensor<T> x, int[] y, string xName, string yName)
    {
        ArgumentNullException.ThrowIfNull(y, yName);
        ClassifierChecks.Input(x, model.InputSize, xName);
        ClassifierChecks.Labels(x, y, model.NumClasses, xName, yName);
    }

    /// <summary>The model being trained; it holds the best parameters after <see cref="Train"/>.</summary>
    public IClassifier<T> Model { get; }

    /// <summary>The options this solver was created with.</summary>
    public SolverOptions Options { get; }

    /// <summary>The update rule, with its state (velocities, moments).</summary>
    public UpdateRule<T> UpdateRule { get; }

    /// <summary><c>max(num_train // batch_size, 1)</c>.</summary>
    public int IterationsPerEpoch { get; }

    /// <summary><c>num_epochs · iterations_per_epoch</c>.</summary>
    public int NumIterations { get; }

    /// <summary>Iterations done so far.</summary>
    public int Iteration { get; private set; }

    /// <summary>Epochs completed so far.</summary>
    public int Epoch { get; private set; }

    /// <summary>The loss of every iteration.</summary>
    public List<double> LossHistory { get; }

    /// <summary>Training accuracy at the first iteration, each epoch's end, and the last iteration.</summary>
    public List<double> TrainAccHistory { get; }

    /// <summary>Validation accuracy at the same points as <see cref="TrainAccHistory"/>.</summary>
    public List<double> ValAccHistory { get; }

    /// <summary>The best validation accuracy seen so far (0 before the first check).</summary>
    public double BestValAcc { get; private set; }

    /// <summary>Why training stopped early, when <see cref="Train"/> returned <see cref="SolverOutcome.Diverged"/>; otherwise null.</summary>
    public TrainingDivergence? Divergence { get; private set; }

    /// <summary>
    /// Application strings written into every checkpoint's metadata (as <c>app.{key}</c>) and read back by
    /// <see cref="Resume"/> and <see cref="SolverCheckpoint.ReadInfo"/>; the CLI keeps its command-line options here.
    /// </summary>
    public IDictionary<string, string> CheckpointMetadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Runs the remaining iterations (all of them on the first call). Cancellation is checked
    /// between steps, so a cancelled run leaves the model and histories consistent; the best
    /// parameters are restored into the model in every case, and a later call goes on from the
    /// parameters of the last step. With <see cref="SolverOptions.CheckpointPath"/> set, a checkpoint
    /// is written at every epoch's end and, when cancelled, before returning. A NaN or infinite loss
    /// stops training with <see cref="SolverOutcome.Diverged"/> (see <see cref="Divergence"/>); later
    /// calls return that again without training.
    /// </summary>
    /// <exception cref="IOException">A checkpoint cannot be written.</exception>
    public SolverOutcome Train(IProgress<SolverProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (Divergence is not null) return SolverOutcome.Diverged;
        if (_bestSwappedIn && _currentParams is not null)
        {
            _currentParams.CopyTo(Model.Parameters.Values.AsSpan());
            _bestSwappedIn = false;
        }
        var clock = Stopwatch.StartNew();
        int startIteration = Iteration;
        double lastTrainAcc = TrainAccHistory.Count > 0 ? TrainAccHistory[^1] : double.NaN;
        double lastValAcc = ValAccHistory.Count > 0 ? ValAccHistory[^1] : double.NaN;
        var outcome = SolverOutcome.Completed;
        for (int t = Iteration; t < NumIterations; t++)
        {
            if (cancellationToken.IsCancellationRequested) { outcome = SolverOutcome.Cancelled; break; }
            double loss = Step();
            if (!double.IsFinite(loss))
            {
                Divergence = new TrainingDivergence(t + 1, NumIterations, loss, UpdateRule.LearningRate, ValAccHistory.Count > 0 ? BestValAcc : null);
                outcome = SolverOutcome.Diverged;
                break;
            }
            LossHistory.Add(loss);
            Iteration = t + 1;
            bool epochEnd = (t + 1) % IterationsPerEpoch == 0;
            if (epochEnd)
            {
                Epoch++;
                UpdateRule.LearningRate *= Options.LearningRateDecay;
            }
            if (t == 0 || t == NumIterations - 1 || epochEnd)
            {
                lastTrainAcc = CheckAccuracy(_xTrain, _yTrain, Options.NumTrainSamples);
                lastValAcc = CheckAccuracy(_xVal, _yVal, Options.NumValSamples);
                TrainAccHistory.Add(lastTrainAcc);
                ValAccHistory.Add(lastValAcc);
                if (lastValAcc > BestValAcc)
                {
                    BestValAcc = lastValAcc;
                    Model.Parameters.Values.AsReadOnlySpan().CopyTo(_bestParams);
                }
            }
            if (epochEnd && Options.CheckpointPath is { } checkpoint) SaveCheckpoint(checkpoint);
            if (progress is not null && (t % Options.PrintEvery == 0 || epochEnd || t == NumIterations - 1))
            {
                double rate = (t + 1 - startIteration) * (double)Options.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                progress.Report(new SolverProgress(t + 1, NumIterations, Epoch, Options.NumEpochs, loss, lastTrainAcc, lastValAcc, UpdateRule.LearningRate, rate));
            }
        }
        if (outcome == SolverOutcome.Cancelled && Options.CheckpointPath is { } path && _lastCheckpoint != (Path.GetFullPath(path), Iteration))
            SaveCheckpoint(path);
        var values = Model.Parameters.Values.AsSpan();
        if (outcome == SolverOutcome.Diverged)
        {
            // The initial parameters when no check has run yet: anything later may already hold NaN.
            _bestParams.CopyTo(values);
        }
        else if (ValAccHistory.Count > 0)
        {
            if (Iteration < NumIterations)
            {
                _currentParams ??= new T[values.Length];
                values.CopyTo(_currentParams);
                _bestSwappedIn = true;
            }
            // CS231n: "At the end of training swap the best params into the model".
            _bestParams.CopyTo(values);
        }
        return outcome;
    }

    private double Step()
    {
        var random = Model.Random;
        random.Choice(_xTrain.Rows, _batchIndices);
        Gather(_xTrain, _yTrain, _batchIndices, _batch, _batchLabels);
        double loss = Model.Loss(_batch, _batchLabels);
        UpdateRule.Update(Model.Parameters.Values.AsSpan(), Model.Parameters.Gradients.AsReadOnlySpan());
        return loss;
    }

    /// <summary>
    /// CS231n's <c>check_accuracy</c>: the fraction of rows predicted right, on a random subsample of
    /// <paramref name="numSamples"/> rows (drawn with replacement) when the set is larger, in batches of 100.
    /// </summary>
    public double CheckAccuracy(Tensor<T> x, int[] y, int? numSamples = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        CheckData(Model, x, y, nameof(x), nameof(y));
        int n = x.Rows;
        Span<int> rows = n <= _checkIndices.Length ? _checkIndices.AsSpan(0, n) : new int[n];
        if (numSamples is { } s && n > s)
        {
            n = s;
            rows = rows.Slice(0, n);
            Model.Random.Choice(x.Rows, rows);
        }
        else
        {
            for (int i = 0; i < n; i++) rows[i] = i;
        }
        var xm = x.AsMatrix();
        int correct = 0;
        for (int start = 0; start < n; start += CheckBatchSize)
        {
            int count = Math.Min(CheckBatchSize, n - start);
            var (batch, scores) = count == CheckBatchSize ? (_checkBatch, _checkScores) : PartialCheck(count);
            var idx = rows.Slice(start, count);
            for (int i = 0; i < count; i++) xm.Row(idx[i]).CopyTo(batch.Row(i));
            Model.Scores(batch, scores);
            ArgMax.Rows<T>(scores.AsReadOnlySpan(), count, Model.NumClasses, _checkPredictions);
            for (int i = 0; i < count; i++) if (_checkPredictions[i] == y[idx[i]]) correct++;
        }
        return (double)correct / n;
    }

    private (Tensor<T> Batch, Tensor<T> Scores) PartialCheck(int count)
    {
        if (!_partialChecks.TryGetValue(count, out var views))
            _partialChecks[count] = views = (_checkBatch.Slice(0, count), _checkScores.Slice(0, count));
        return views;
    }

    /// <summary>Copies rows <paramref name="indices"/> of x into the batch and their labels into <paramref name="labels"/>.</summary>
    internal static void Gather(Tensor<T> x, int[] y, ReadOnlySpan<int> indices, Tensor<T> batch, int[] labels)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            x.Row(indices[i]).CopyTo(batch.Row(i));
            labels[i] = y[indices[i]];
        }
    }
}
