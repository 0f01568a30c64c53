using System.Diagnostics;
using System.Numerics;
using Cifar.Simd.Models;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Training;

/// <summary>One combination of hyperparameters tried by a <see cref="HyperparameterSearch{T}"/>.</summary>
/// <param name="LearningRate">The update rule's learning rate.</param>
/// <param name="Reg">The regularization strength given to the model factory.</param>
/// <param name="HiddenSize">The hidden-layer width given to the model factory.</param>
/// <param name="BatchSize">The minibatch size.</param>
/// <param name="UpdateRule">The update rule's CS231n name.</param>
public sealed record SearchPoint(double LearningRate, double Reg, int HiddenSize, int BatchSize, string UpdateRule)
{
    /// <summary>A compact description, e.g. <c>lr=1e-03 reg=2.5e-01 hidden=50 batch=200 sgd</c>.</summary>
    public override string ToString() => $"lr={LearningRate:0.###e+00} reg={Reg:0.###e+00} hidden={HiddenSize} batch={BatchSize} {UpdateRule}";
}

/// <summary>
/// The values a search draws from. A grid search takes every combination of the listed values; a
/// random search draws the learning rate and reg log-uniformly between the smallest and largest
/// listed value, and the other hyperparameters uniformly from their lists.
/// </summary>
public sealed record SearchSpace
{
    /// <summary>Learning rates (grid), or the range [min, max] sampled log-uniformly (random).</summary>
    public IReadOnlyList<double> LearningRates { get; init; } = [1e-3];

    /// <summary>Regularization strengths (grid), or the range [min, max] sampled log-uniformly (random); 0 is allowed in a grid only.</summary>
    public IReadOnlyList<double> Regs { get; init; } = [0.25];

    /// <summary>Hidden-layer widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [50];

    /// <summary>Minibatch sizes.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [200];

    /// <summary>Update-rule names.</summary>
    public IReadOnlyList<string> UpdateRules { get; init; } = ["sgd"];

    /// <summary>Every combination, learning rate varying slowest.</summary>
    /// <exception cref="ArgumentException">A list is empty (checked here, not when the points are enumerated).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range; the message names it and the range.</exception>
    public IEnumerable<SearchPoint> Grid()
    {
        Validate(random: false);
        return GridPoints();
    }

    private IEnumerable<SearchPoint> GridPoints()
    {
        foreach (var lr in LearningRates)
            foreach (var reg in Regs)
                foreach (var h in HiddenSizes)
                    foreach (var b in BatchSizes)
                        foreach (var rule in UpdateRules)
                            yield return new SearchPoint(lr, reg, h, b, rule);
    }

    /// <summary><paramref name="count"/> random combinations drawn from a generator seeded with <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">A list is empty (checked here, not when the points are enumerated).</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// count is negative, or a value is outside its range (a random search also needs learning rates and regs &gt; 0,
    /// as it samples them log-uniformly).
    /// </exception>
    public IEnumerable<SearchPoint> Random(int count, uint seed = 0)
    {
        if (count < 0) ThrowHelper.OutOfRange(nameof(count), count, $"The number of random trials must be ≥ 0; got {count}.");
        Validate(random: true);
        return RandomPoints(count, seed);
    }

    private IEnumerable<SearchPoint> RandomPoints(int count, uint seed)
    {
        var rng = new NumpyRandom(seed);
        for (int i = 0; i < count; i++)
        {
            double lr = LogUniform(rng, LearningRates), reg = LogUniform(rng, Regs);
            int h = HiddenSizes[(int)rng.RandInt(0, HiddenSizes.Count)];
            int b = BatchSizes[(int)rng.RandInt(0, BatchSizes.Count)];
            string rule = UpdateRules[(int)rng.RandInt(0, UpdateRules.Count)];
            yield return new SearchPoint(lr, reg, h, b, rule);
        }
    }

    private static double LogUniform(NumpyRandom rng, IReadOnlyList<double> range)
    {
        double lo = Math.Log10(range.Min()), hi = Math.Log10(range.Max());
        return Math.Pow(10, lo + (hi - lo) * rng.RandomSample());
    }

    private void Validate(bool random)
    {
        static void NonEmpty<TV>(IReadOnlyList<TV> list, string name)
        {
            if (list is null || list.Count == 0) ThrowHelper.Argument($"{name} must list at least one value.", name);
        }
        NonEmpty(LearningRates, nameof(LearningRates));
        NonEmpty(Regs, nameof(Regs));
        NonEmpty(HiddenSizes, nameof(HiddenSizes));
        NonEmpty(BatchSizes, nameof(BatchSizes));
        NonEmpty(UpdateRules, nameof(UpdateRules));
        foreach (var lr in LearningRates) CheckLearningRate(lr, nameof(LearningRates));
        foreach (var reg in Regs)
        {
            if (random && reg == 0)
                ThrowHelper.OutOfRange(nameof(Regs), reg, "A random search samples reg log-uniformly, so each bound must be finite and > 0; got 0.");
            CheckReg(reg, nameof(Regs));
        }
        foreach (var h in HiddenSizes) CheckHiddenSize(h, nameof(HiddenSizes));
        foreach (var b in BatchSizes) CheckBatchSize(b, nameof(BatchSizes));
        foreach (var r in UpdateRules) CheckUpdateRule(r, nameof(UpdateRules));
    }

    internal static void CheckLearningRate(double lr, string name)
    {
        if (!(lr > 0) || !double.IsFinite(lr)) ThrowHelper.OutOfRange(name, lr, $"Learning rates must be finite and > 0; got {lr}.");
    }

    internal static void CheckReg(double reg, string name)
    {
        if (!(reg >= 0) || !double.IsFinite(reg)) ThrowHelper.OutOfRange(name, reg, $"reg values must be finite and ≥ 0; got {reg}.");
    }

    internal static void CheckHiddenSize(int h, string name)
    {
        if (h < 1) ThrowHelper.OutOfRange(name, h, $"Hidden sizes must be ≥ 1; got {h}.");
    }

    internal static void CheckBatchSize(int b, string name)
    {
        if (b < 1) ThrowHelper.OutOfRange(name, b, $"Batch sizes must be ≥ 1; got {b}.");
    }

    internal static void CheckUpdateRule(string? r, string name)
    {
        if (r is null || !UpdateRuleFactory.Names.Contains(r))
            ThrowHelper.OutOfRange(name, r, $"Unknown update rule '{r}'; expected one of {string.Join(", ", UpdateRuleFactory.Names)}.");
    }
}

/// <summary>The outcome of one trial of a search.</summary>
/// <param name="Point">The hyperparameters tried.</param>
/// <param name="BestValAcc">The best validation accuracy the solver saw.</param>
/// <param name="FinalTrainAcc">The last training-accuracy check (NaN when a diverged trial had none).</param>
/// <param name="FinalLoss">The last minibatch loss; for a diverged trial, the NaN or infinite loss that stopped it.</param>
/// <param name="Seconds">Wall time of the trial.</param>
/// <param name="Divergence">Why the trial stopped early, when its loss became NaN or infinite; it is still ranked by the best validation accuracy it reached.</param>
public sealed record SearchResult(SearchPoint Point, double BestValAcc, double FinalTrainAcc, double FinalLoss, double Seconds,
    TrainingDivergence? Divergence = null);

/// <summary>Progress of a search: trial <paramref name="Trial"/> of <paramref name="NumTrials"/> has finished.</summary>
/// <param name="Trial">Trials finished (1-based).</param>
/// <param name="NumTrials">Trials in the search.</param>
/// <param name="Result">The trial just finished.</param>
/// <param name="Best">The best trial so far.</param>
public readonly record struct SearchProgress(int Trial, int NumTrials, SearchResult Result, SearchResult Best);

/// <summary>The trials ranked by validation accuracy (best first) and the best trial's trained model.</summary>
/// <param name="Results">Every finished trial, best validation accuracy first (ties keep trial order).</param>
/// <param name="BestModel">The model of the best trial, holding its best parameters; null when no trial finished.</param>
/// <param name="Cancelled">Whether the search stopped early because of its cancellation token.</param>
public sealed record SearchReport<T>(IReadOnlyList<SearchResult> Results, IClassifier<T>? BestModel, bool Cancelled)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// Grid or random hyperparameter search, CS231n style: each trial builds a model with the factory,
/// trains it with a <see cref="Solver{T}"/>, and is ranked by the best validation accuracy; the
/// best model is kept. Trials run one after another (each already uses every GEMM thread). A trial whose loss
/// diverges stops there and is ranked by the best validation accuracy it reached (see <see cref="SearchResult.Divergence"/>).
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class HyperparameterSearch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<SearchPoint, IClassifier<T>> _modelFactory;
    private readonly Tensor<T> _xTrain, _xVal;
    private readonly int[] _yTrain, _yVal;

    /// <summary>Creates a search over the given data.</summary>
    /// <param name="modelFactory">Builds a fresh model for a point (it reads the hidden size and reg from the point).</param>
    /// <param name="xTrain">Training inputs (N, D).</param>
    /// <param name="yTrain">Training labels (N,).</param>
    /// <param name="xVal">Validation inputs.</param>
    /// <param name="yVal">Validation labels.</param>
    /// <param name="baseOptions">Solver options shared by every trial; each point overrides the rule, learning rate and batch size, and trials write no checkpoints.</param>
    /// <exception cref="ArgumentNullException">The factory or a data argument is null.</exception>
    /// <exception cref="ArgumentException">The inputs are empty, or a label array's length differs from its inputs' rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option in <paramref name="baseOptions"/> is outside its range.</exception>
    public HyperparameterSearch(Func<SearchPoint, IClassifier<T>> modelFactory, Tensor<T> xTrain, int[] yTrain,
        Tensor<T> xVal, int[] yVal, SolverOptions? baseOptions = null)
    {
        _modelFactory = modelFactory ?? throw new ArgumentNullException(nameof(modelFactory));
        // Checked now, so a search over bad data fails before its first trial rather than inside it.
        CheckData(xTrain, yTrain, nameof(xTrain), nameof(yTrain));
        CheckData(xVal, yVal, nameof(xVal), nameof(yVal));
        (_xTrain, _yTrain, _xVal, _yVal) = (xTrain, yTrain, xVal, yVal);
        BaseOptions = baseOptions ?? new SolverOptions();
        BaseOptions.Validate();
    }

    private static void CheckData(Tensor<T> x, int[] y, string xName, string yName)
    {
        ArgumentNullException.ThrowIfNull(x, xName);
        ArgumentNullException.ThrowIfNull(y, yName);
        ThrowHelper.CheckNonEmptyBatch(x.Rows, xName);
        if (y.Length != x.Rows)
            ThrowHelper.Argument($"{yName} has {y.Length} labels but {xName} has shape {x.Shape} ({x.Rows} rows).", yName);
    }

    /// <summary>The solver options every trial starts from.</summary>
    public SolverOptions BaseOptions { get; }

    /// <summary>Runs every point in order; a cancelled search returns the trials finished so far.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A point has a learning rate that is not a finite number &gt; 0, a reg that is not a finite number ≥ 0, a hidden
    /// or batch size &lt; 1, or an unknown update rule; every point is checked before the first trial starts.
    /// </exception>
    public SearchReport<T> Run(IEnumerable<SearchPoint> points, IProgress<SearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        var list = points.ToList();
        foreach (var point in list)
        {
            ArgumentNullException.ThrowIfNull(point, nameof(points));
            SearchSpace.CheckLearningRate(point.LearningRate, nameof(points));
            SearchSpace.CheckReg(point.Reg, nameof(points));
            SearchSpace.CheckHiddenSize(point.HiddenSize, nameof(points));
            SearchSpace.CheckBatchSize(point.BatchSize, nameof(points));
            SearchSpace.CheckUpdateRule(point.UpdateRule, nameof(points));
        }
        var results = new List<SearchResult>(list.Count);
        SearchResult? best = null;
        IClassifier<T>? bestModel = null;
        bool cancelled = false;
        foreach (var point in list)
        {
            if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
            var clock = Stopwatch.StartNew();
            var model = _modelFactory(point);
            // Trials would overwrite each other's checkpoints, so the search runs without.
            var options = BaseOptions with
            {
                UpdateRule = point.UpdateRule, LearningRate = point.LearningRate, BatchSize = point.BatchSize, CheckpointPath = null,
            };
            var solver = new Solver<T>(model, _xTrain, _yTrain, _xVal, _yVal, options);
            if (solver.Train(cancellationToken: cancellationToken) == SolverOutcome.Cancelled) { cancelled = true; break; }
            var divergence = solver.Divergence;
            double finalTrainAcc = solver.TrainAccHistory.Count > 0 ? solver.TrainAccHistory[^1] : double.NaN;
            double finalLoss = divergence?.Loss ?? solver.LossHistory[^1];
            var result = new SearchResult(point, solver.BestValAcc, finalTrainAcc, finalLoss, clock.Elapsed.TotalSeconds, divergence);
            results.Add(result);
            if (best is null || result.BestValAcc > best.BestValAcc) { best = result; bestModel = model; }
            progress?.Report(new SearchProgress(results.Count, list.Count, result, best));
        }
        var ranked = results.Select((r, i) => (r, i)).OrderByDescending(p => p.r.BestValAcc).ThenBy(p => p.i).Select(p => p.r).ToList();
        return new SearchReport<T>(ranked, bestModel, cancelled);
    }
}
