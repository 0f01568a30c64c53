using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Layers;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cifar.Simd.Models;

/// <summary>The histories <see cref="TwoLayerNet{T}.Train"/> returns, as CS231n's <c>train</c> does.</summary>
/// <param name="LossHistory">The minibatch loss of every iteration.</param>
/// <param name="TrainAccHistory">Accuracy on the current minibatch at each epoch check.</param>
/// <param name="ValAccHistory">Validation accuracy at each epoch check.</param>
public sealed record TwoLayerTrainStats(List<double> LossHistory, List<double> TrainAccHistory, List<double> ValAccHistory);

/// <summary>One progress report of <see cref="TwoLayerNet{T}.Train"/>.</summary>
/// <param name="Iteration">Iterations done (1-based).</param>
/// <param name="NumIterations">Iterations requested.</param>
/// <param name="Loss">The loss of the iteration just done.</param>
/// <param name="LearningRate">The learning rate in force.</param>
public readonly record struct TwoLayerProgress(int Iteration, int NumIterations, double Loss, double LearningRate);

/// <summary>
/// CS231n assignment 1's two-layer net: affine – ReLU – affine – softmax, with L2 regularization
/// <c>reg·ΣW²</c> (gradient <c>2·reg·W</c>). Parameters <c>W1</c> (D, H), <c>b1</c> (H,), <c>W2</c> (H, C),
/// <c>b2</c> (C,) live in one <see cref="ParameterSet{T}"/>; W is drawn as <c>std·randn</c> from the
/// model's numpy-compatible generator (W1 first, then W2), so a seeded model equals numpy's.
/// Buffers for each batch size are allocated on first use and reused, so a warmed-up training
/// step allocates nothing. Not safe for concurrent use from several threads.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class TwoLayerNet<T> : IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int InferenceChunk = 256;
    private readonly Dictionary<int, Workspace> _workspaces = [];
    private readonly Dictionary<string, Tensor<T>> _gradients = [];

    /// <summary>Creates the net; W = <paramref name="std"/>·randn, b = 0, drawn from a generator seeded with <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A size is &lt; 1, the sizes need more parameters than one buffer holds, or std is negative or not finite.
    /// </exception>
    public TwoLayerNet(int inputSize, int hiddenSize, int numClasses, double std = 1e-4, uint seed = 0)
    {
        CheckSize(inputSize, nameof(inputSize));
        CheckSize(hiddenSize, nameof(hiddenSize));
        CheckSize(numClasses, nameof(numClasses));
        if (!(std >= 0) || !double.IsFinite(std))
            ThrowHelper.OutOfRange(nameof(std), std, $"std must be a finite number ≥ 0; got {std}.");
        ClassifierChecks.ParameterCount([inputSize, hiddenSize, numClasses], normalized: false, nameof(hiddenSize));
        (InputSize, HiddenSize, NumClasses) = (inputSize, hiddenSize, numClasses);
        Random = new NumpyRandom(seed);
        Parameters = new ParameterSet<T>([
            ("W1", new Shape(inputSize, hiddenSize)), ("b1", new Shape(hiddenSize)),
            ("W2", new Shape(hiddenSize, numClasses)), ("b2", new Shape(numClasses))]);
        RandnInto(Parameters["W1"].AsSpan(), std);
        RandnInto(Parameters["W2"].AsSpan(), std);
        foreach (var name in Parameters.Names) _gradients[name] = Parameters.Gradient(name);
    }

    private static void CheckSize(int value, string name)
    {
        if (value < 1) ThrowHelper.OutOfRange(name, value, $"{name} must be ≥ 1; got {value}.");
    }

    private static double CheckReg(double value, string name)
    {
        if (!(value >= 0) || !double.IsFinite(value)) ThrowHelper.OutOfRange(name, value, $"reg must be a finite number ≥ 0; got {value}.");
        return value;
    }

    private void RandnInto(Span<T> destination, double scale)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateChecked(scale * Random.StandardNormal());
    }

    /// <inheritdoc/>
    public ParameterSet<T> Parameters { get; }

    /// <inheritdoc/>
    public NumpyRandom Random { get; }

    /// <inheritdoc/>
    public int InputSize { get; }

    /// <summary>H, the number of hidden units.</summary>
    public int HiddenSize { get; }

    /// <inheritdoc/>
    public int NumClasses { get; }

    /// <summary>The regularization strength <see cref="IClassifier{T}.Loss"/> uses (CS231n's <c>reg</c>), a finite number ≥ 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite.</exception>
    public double Reg
    {
        get;
        set => field = CheckReg(value, nameof(Reg));
    }

    /// <summary>CS231n's <c>loss(X)</c>: the class scores (N, C) of <paramref name="x"/> (N, D).</summary>
    public Tensor<T> Loss(Tensor<T> x)
    {
        CheckInput(x);
        var scores = Tensor<T>.Uninitialized(x.Rows, NumClasses);
        Scores(x, scores);
        return scores;
    }

    /// <summary>
    /// CS231n's <c>loss(X, y, reg)</c>: the softmax loss plus <c>reg·ΣW²</c>, and the gradient of every
    /// parameter (views into <see cref="ParameterSet{T}.Gradients"/>, overwritten by the next call).
    /// </summary>
    /// <exception cref="ArgumentException">x is not (N, D) with N ≥ 1, y's length is not N, or a label is outside [0, C).</exception>
    /// <exception cref="ArgumentOutOfRangeException">reg is negative, NaN or infinite.</exception>
    public (double Loss, IReadOnlyDictionary<string, Tensor<T>> Grads) Loss(Tensor<T> x, ReadOnlySpan<int> y, double reg)
    {
        CheckReg(reg, nameof(reg));
        double loss = LossAndGradients(x, y, reg);
        return (loss, _gradients);
    }

    /// <inheritdoc/>
    double IClassifier<T>.Loss(Tensor<T> x, ReadOnlySpan<int> y) => LossAndGradients(x, y, Reg);

    private double LossAndGradients(Tensor<T> x, ReadOnlySpan<int> y, double reg)
    {
        CheckInput(x);
        int n = x.Rows, d = InputSize, h = HiddenSize, c = NumClasses;
        ClassifierChecks.Labels(x, y, c);
        var ws = WorkspaceFor(n);
        var p = Parameters;
        ReadOnlySpan<T> xs = x.AsReadOnlySpan(), w1 = p["W1"].AsReadOnlySpan(), w2 = p["W2"].AsReadOnlySpan();
        Gemm.Multiply(false, false, n, h, d, xs, w1, ws.Hidden, GemmEpilogue.BiasRelu, p["b1"].AsReadOnlySpan()); // (N, H)
        Gemm.Multiply<T>(false, false, n, c, h, ws.Hidden, w2, ws.Scores, GemmEpilogue.Bias, p["b2"].AsReadOnlySpan()); // (N, C)
        double loss = double.CreateChecked(Layer.SoftmaxLoss<T>(ws.Scores, y, ws.Scores, n, c)); // Scores now holds dscores
        loss += reg * (double.CreateChecked(TensorPrimitives.SumOfSquares(w1)) + double.CreateChecked(TensorPrimitives.SumOfSquares(w2)));
        T twoReg = T.CreateChecked(2 * reg);
        Span<T> dw1 = p.Gradient("W1").AsSpan(), dw2 = p.Gradient("W2").AsSpan();
        Gemm.Multiply<T>(true, false, h, c, n, ws.Hidden, ws.Scores, dw2); // (H, C) = Hᵀ·dscores
        TensorPrimitives.MultiplyAdd(w2, twoReg, dw2, dw2);
        Reductions.ColumnSums<T>(ws.Scores, p.Gradient("b2").AsSpan(), n, c);
        Gemm.Multiply<T>(false, true, n, h, c, ws.Scores, w2, ws.DHidden); // (N, H) = dscores·W2ᵀ
        Span<T> db1 = p.Gradient("b1").AsSpan();
        db1.Clear();
        Elementwise.ReluBackwardAddColumnSums<T>(ws.DHidden, ws.Hidden, ws.DHidden, db1, n, h);
        Gemm.Multiply<T>(true, false, d, h, n, xs, ws.DHidden, dw1); // (D, H) = Xᵀ·dH; no dX for the input layer
        TensorPrimitives.MultiplyAdd(w1, twoReg, dw1, dw1);
        return loss;
    }

    /// <inheritdoc/>
    public void Scores(Tensor<T> x, Tensor<T> scores)
    {
        CheckInput(x);
        ClassifierChecks.Scores(x, scores, NumClasses);
        var p = Parameters;
        int n = x.Rows;
        ReadOnlySpan<T> xs = x.AsReadOnlySpan();
        for (int start = 0; start < n; start += InferenceChunk)
        {
            int rows = Math.Min(InferenceChunk, n - start);
            var ws = WorkspaceFor(InferenceChunk);
            Span<T> hidden = ws.Hidden.AsSpan(0, rows * HiddenSize);
            Gemm.Multiply(false, false, rows, HiddenSize, InputSize, xs.Slice(start * InputSize, rows * InputSize), p["W1"].AsReadOnlySpan(),
                hidden, GemmEpilogue.BiasRelu, p["b1"].AsReadOnlySpan());
            Gemm.Multiply<T>(false, false, rows, NumClasses, HiddenSize, hidden, p["W2"].AsReadOnlySpan(),
                scores.AsSpan().Slice(start * NumClasses, rows * NumClasses), GemmEpilogue.Bias, p["b2"].AsReadOnlySpan());
        }
    }

    /// <summary>CS231n's <c>predict(X)</c>: the argmax class of each row of <paramref name="x"/> (N, D).</summary>
    public int[] Predict(Tensor<T> x)
    {
        var predictions = new int[x.Rows];
        Predict(x, predictions);
        return predictions;
    }

    /// <summary>Writes the predicted class of each row of <paramref name="x"/> into <paramref name="predictions"/>.</summary>
    public void Predict(Tensor<T> x, Span<int> predictions)
    {
        CheckInput(x);
        PredictInto(x, Tensor<T>.Uninitialized(x.Rows, NumClasses), predictions);
    }

    /// <summary>
    /// CS231n's <c>train</c>: <paramref name="numIters"/> SGD steps on minibatches drawn like
    /// <c>np.random.choice(N, batchSize, replace=True)</c> from the model's generator; whenever
    /// <c>it % iterationsPerEpoch == 0</c> (iteration 0 included, iterationsPerEpoch = max(N / batchSize, 1)
    /// in floating point) records the minibatch and validation accuracies and multiplies the learning
    /// rate by <paramref name="learningRateDecay"/>. Progress is reported every iteration when asked for.
    /// </summary>
    /// <exception cref="ArgumentException">x or xVal is not (N, D) with N ≥ 1, or a label array does not fit its inputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// learningRate is not a finite number &gt; 0, learningRateDecay not in (0, 1], reg not a finite number ≥ 0,
    /// numIters negative or batchSize &lt; 1.
    /// </exception>
    public TwoLayerTrainStats Train(Tensor<T> x, int[] y, Tensor<T> xVal, int[] yVal,
        double learningRate = 1e-3, double learningRateDecay = 0.95, double reg = 5e-6,
        int numIters = 100, int batchSize = 200, IProgress<TwoLayerProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckInput(x);
        CheckInput(xVal);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(yVal);
        ClassifierChecks.Labels(x, y, NumClasses);
        ClassifierChecks.Labels(xVal, yVal, NumClasses, nameof(xVal), nameof(yVal));
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
            ThrowHelper.OutOfRange(nameof(learningRate), learningRate, $"The learning rate must be a finite number > 0; got {learningRate}.");
        if (!(learningRateDecay > 0 && learningRateDecay <= 1))
            ThrowHelper.OutOfRange(nameof(learningRateDecay), learningRateDecay, $"The learning-rate decay must lie in (0, 1]; got {learningRateDecay}.");
        CheckReg(reg, nameof(reg));
        if (numIters < 0) ThrowHelper.OutOfRange(nameof(numIters), numIters, $"numIters must be ≥ 0; got {numIters}.");
        if (batchSize < 1) ThrowHelper.OutOfRange(nameof(batchSize), batchSize, $"The batch size must be ≥ 1; got {batchSize}.");

        int n = x.Rows;
        double iterationsPerEpoch = Math.Max((double)n / batchSize, 1);
        var stats = new TwoLayerTrainStats(new List<double>(numIters), [], []);
        var batch = Tensor<T>.Uninitialized(batchSize, InputSize);
        var indices = new int[batchSize];
        var labels = new int[batchSize];
        var batchPred = new int[batchSize];
        var valPred = new int[xVal.Rows];
        // Score buffers for the epoch checks, so the loop allocates nothing after its first step.
        var batchScores = Tensor<T>.Uninitialized(batchSize, NumClasses);
        var valScores = Tensor<T>.Uninitialized(xVal.Rows, NumClasses);
        var xm = x.AsMatrix();
        var update = new Optim.Sgd<T>(learningRate);
        for (int it = 0; it < numIters; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Random.Choice(n, indices);
            for (int i = 0; i < batchSize; i++)
            {
                xm.Row(indices[i]).CopyTo(batch.Row(i));
                labels[i] = y[indices[i]];
            }
            double loss = LossAndGradients(batch, labels, reg);
            stats.LossHistory.Add(loss);
            update.Update(Parameters.Values.AsSpan(), Parameters.Gradients.AsReadOnlySpan());
            if (it % iterationsPerEpoch == 0)
            {
                PredictInto(batch, batchScores, batchPred);
                PredictInto(xVal, valScores, valPred);
                stats.TrainAccHistory.Add(Accuracy(batchPred, labels));
                stats.ValAccHistory.Add(Accuracy(valPred, yVal));
                update.LearningRate *= learningRateDecay;
            }
            progress?.Report(new TwoLayerProgress(it + 1, numIters, loss, update.LearningRate));
        }
        return stats;
    }

    private void PredictInto(Tensor<T> x, Tensor<T> scores, Span<int> predictions)
    {
        Scores(x, scores);
        ArgMax.Rows<T>(scores.AsReadOnlySpan(), x.Rows, NumClasses, predictions);
    }

    private static double Accuracy(ReadOnlySpan<int> predicted, ReadOnlySpan<int> actual)
    {
        int correct = 0;
        for (int i = 0; i < actual.Length; i++) if (predicted[i] == actual[i]) correct++;
        return (double)correct / actual.Length;
    }

    private void CheckInput(Tensor<T> x) => ClassifierChecks.Input(x, InputSize);

    private Workspace WorkspaceFor(int n)
    {
        if (!_workspaces.TryGetValue(n, out var ws))
            _workspaces[n] = ws = new Workspace(n, HiddenSize, NumClasses);
        return ws;
    }

    // Every activation and gradient one batch size needs, allocated once.
    private sealed class Workspace(int n, int h, int c)
    {
        public readonly T[] Hidden = GC.AllocateUninitializedArray<T>(n * h, pinned: true);   // (N, H) ReLU output, also the mask
        public readonly T[] DHidden = GC.AllocateUninitializedArray<T>(n * h, pinned: true);  // (N, H)
        public readonly T[] Scores = GC.AllocateUninitializedArray<T>(n * c, pinned: true);   // (N, C) scores, then dscores
    }
}
