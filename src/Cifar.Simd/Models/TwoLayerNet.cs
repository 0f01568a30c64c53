using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Cifar.Simd.Kernels;
using Cifar.Simd.Layers;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

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
/// step allocates nothing.
/// </summary>
/// <remarks>
/// Thread safety: inference — <see cref="Scores"/>, both <c>Predict</c> overloads and <see cref="Loss(Tensor{T})"/> —
/// may run on any number of threads at once, each with its own inputs and outputs, and gives bitwise the same results
/// as serial calls; each caller in flight borrows its own scratch buffers from a small pool, so warmed-up calls
/// allocate nothing. Training — <see cref="Loss(Tensor{T}, ReadOnlySpan{int}, double)"/>, <see cref="Train"/>, and any
/// write to <see cref="Parameters"/>, <see cref="Reg"/> or <see cref="Random"/> — must not overlap any other call on
/// the same model. Separate models can train on separate threads at once.
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class TwoLayerNet<T> : IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Rows per inference chunk: bounds the hidden buffer (2 MB at H = 500) while each chunk's product stays large.
    internal const int InferenceChunk = 1024;
    private readonly Dictionary<int, Workspace> _workspaces = [];
    private readonly Dictionary<string, Tensor<T>> _gradients = [];
    private readonly ScratchPool<InferenceScratch> _inference;

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
        _inference = new ScratchPool<InferenceScratch>(() => new InferenceScratch(hiddenSize, numClasses));
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

    /// <summary>
    /// CS231n's <c>loss(X[rows], y, reg)</c> without copying the minibatch: the loss and gradients on the rows
    /// <paramref name="rows"/> of <paramref name="x"/> (repeats allowed), labelled <paramref name="y"/> (one label per
    /// index). The products read those rows straight from x, as <see cref="Train"/> does, and give bitwise the same
    /// result as <see cref="Loss(Tensor{T}, ReadOnlySpan{int}, double)"/> on a copy of the rows.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// x is not (N, D) with N ≥ 1, rows is empty or names a row outside x, y's length is not rows' length, or a label
    /// is outside [0, C).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">reg is negative, NaN or infinite.</exception>
    public (double Loss, IReadOnlyDictionary<string, Tensor<T>> Grads) MinibatchLoss(Tensor<T> x, ReadOnlySpan<int> rows, ReadOnlySpan<int> y, double reg)
    {
        CheckReg(reg, nameof(reg));
        CheckInput(x);
        ThrowHelper.CheckNonEmptyBatch(rows.Length, nameof(rows));
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)x.Rows)
                ThrowHelper.Argument($"rows[{i}] = {rows[i]} is not a row of x, which has shape {x.Shape}.", nameof(rows));
        }
        if (y.Length != rows.Length)
            ThrowHelper.Argument($"y has {y.Length} labels but rows picks {rows.Length} rows of x.", nameof(y));
        for (int i = 0; i < y.Length; i++) ThrowHelper.CheckLabel(y[i], i, NumClasses, nameof(y));
        double loss = LossAndGradients(x.AsReadOnlySpan(), rows, rows.Length, y, reg);
        return (loss, _gradients);
    }

    /// <inheritdoc/>
    double IClassifier<T>.Loss(Tensor<T> x, ReadOnlySpan<int> y) => LossAndGradients(x, y, Reg);

    private double LossAndGradients(Tensor<T> x, ReadOnlySpan<int> y, double reg)
    {
        CheckInput(x);
        ClassifierChecks.Labels(x, y, NumClasses);
        return LossAndGradients(x.AsReadOnlySpan(), default, x.Rows, y, reg);
    }

    // The minibatch is rows[0..n) of xs when rows is given (packed straight from the training set), else all of xs.
    // With a learning rate, W1 also takes its SGD step here (Train's loop); its gradient is then of the old W1.
    private double LossAndGradients(ReadOnlySpan<T> xs, ReadOnlySpan<int> rows, int n, ReadOnlySpan<int> y, double reg, double w1LearningRate = 0)
    {
        int d = InputSize, h = HiddenSize, c = NumClasses;
        var ws = WorkspaceFor(n);
        var p = Parameters;
        ReadOnlySpan<T> w1 = p["W1"].AsReadOnlySpan(), w2 = p["W2"].AsReadOnlySpan();
        // (N, H), summed as two halves of the features, one per core: each core then reads only the half of W1 that it
        // decays and updates below, so W1 never moves between the cores' caches.
        // It also leaves the minibatch packed for Xᵀ·dH below where both products run transposed (H = 50 or 100 on AVX-512).
        bool packed = Gemm.MultiplySplitK(n, h, d, xs, rows, w1, ws.Hidden, GemmEpilogue.BiasRelu, p["b1"].AsReadOnlySpan(), ws.Partials, ws.Minibatch);
        // The second layer, the loss and dH by halves of the batch, one per core: each core's half of H is the one its
        // share of the combine above wrote. The halves' sums (the loss, dW2, db2, db1) are added after, in a fixed order.
        SecondLayerByHalves(ws, y, n);
        double loss = double.CreateChecked(T.CreateTruncating((ws.LossHalves[0] + ws.LossHalves[1]) / n)); // Scores now holds dscores
        T twoReg = T.CreateChecked(2 * reg);
        Span<T> dw1 = p.Gradient("W1").AsSpan(), dw2 = p.Gradient("W2").AsSpan();
        TensorPrimitives.Add(ws.Dw2Halves.AsSpan(0, h * c), ws.Dw2Halves.AsSpan(h * c, h * c), dw2); // (H, C) = Hᵀ·dscores
        double sumW2 = Elementwise.AddWeightDecayAndSumSquares(w2, twoReg, dw2);
        TensorPrimitives.Add(ws.Db2Halves.AsSpan(0, c), ws.Db2Halves.AsSpan(c, c), p.Gradient("b2").AsSpan());
        TensorPrimitives.Add(ws.Db1Halves.AsSpan(0, h), ws.Db1Halves.AsSpan(h, h), p.Gradient("b1").AsSpan());
        // (D, H) = Xᵀ·dH; no dX for the input layer.
        if (packed) Gemm.MultiplyTransposedPacked<T>(d, h, n, ws.Minibatch, ws.DHidden, dw1);
        else if (rows.IsEmpty) Gemm.Multiply<T>(true, false, d, h, n, xs, ws.DHidden, dw1);
        else Gemm.MultiplyGathered<T>(true, false, d, h, n, xs, rows, ws.DHidden, dw1);
        // W1 is the largest buffer of the step: decay it and sum its squares in one pass, on every core, and in training
        // take its step in that pass as well, while each chunk is in cache (the same bits as Sgd's separate pass).
        double sumW1 = w1LearningRate > 0
            ? Elementwise.AddWeightDecaySumSquaresAndStep(p["W1"].AsSpan(), twoReg, dw1, T.CreateChecked(w1LearningRate))
            : Elementwise.AddWeightDecayAndSumSquares(w1, twoReg, dw1);
        loss += reg * (sumW1 + sumW2);
        return loss;
    }

    // Rows [0, N/2) and [N/2, N) of the step between the two first-layer products, on two cores when there are two
    // (the split does not depend on the thread count, so neither do the sums).
    private unsafe void SecondLayerByHalves(Workspace ws, ReadOnlySpan<int> y, int n)
    {
        if (Parallelism.ThreadCount < 2 || n < 2 * MinRowsPerCore || !WorkerPool.TryEnter())
        {
            SecondLayerHalf(ws, y, n, 0);
            SecondLayerHalf(ws, y, n, 1);
            return;
        }
        fixed (int* labels = y)
        {
            try
            {
                ws.Halves.Set(this, ws, labels, n);
                WorkerPool.Run(ws.Halves, 2);
            }
            finally
            {
                ws.Halves.Set(null, null, null, 0);
                WorkerPool.Exit();
            }
        }
    }

    // Below this many rows per core, waking a worker costs more than the half it would compute.
    private const int MinRowsPerCore = 32;

    // Half 0 or 1 of the batch: scores = H·W2 + b2, the softmax loss and dscores (over the whole batch's N), this half's
    // Hᵀ·dscores and column sums, dH = dscores·W2ᵀ masked by H > 0 and its column sums.
    private void SecondLayerHalf(Workspace ws, ReadOnlySpan<int> y, int n, int half)
    {
        int h = HiddenSize, c = NumClasses, r0 = half == 0 ? 0 : n / 2, rows = half == 0 ? n / 2 : n - n / 2;
        Span<T> dw2 = ws.Dw2Halves.AsSpan(half * h * c, h * c), db2 = ws.Db2Halves.AsSpan(half * c, c), db1 = ws.Db1Halves.AsSpan(half * h, h);
        if (rows == 0)
        {
            dw2.Clear();
            db2.Clear();
            db1.Clear();
            ws.LossHalves[half] = 0;
            return;
        }
        var p = Parameters;
        ReadOnlySpan<T> w2 = p["W2"].AsReadOnlySpan();
        Span<T> hidden = ws.Hidden.AsSpan(r0 * h, rows * h), scores = ws.Scores.AsSpan(r0 * c, rows * c), dHidden = ws.DHidden.AsSpan(r0 * h, rows * h);
        Gemm.Multiply<T>(false, false, rows, c, h, hidden, w2, scores, GemmEpilogue.Bias, p["b2"].AsReadOnlySpan()); // (rows, C)
        ws.LossHalves[half] = Layer.SoftmaxLossSum<T>(scores, y.Slice(r0, rows), scores, rows, c, T.CreateChecked(n));
        Gemm.Multiply<T>(true, false, h, c, rows, hidden, scores, dw2); // (H, C)
        Reductions.ColumnSums<T>(scores, db2, rows, c);
        Gemm.Multiply<T>(false, true, rows, h, c, scores, w2, dHidden); // (rows, H)
        db1.Clear();
        Elementwise.ReluBackwardAddColumnSums<T>(dHidden, hidden, dHidden, db1, rows, h);
    }

    // The pool's job for SecondLayerByHalves: part p computes half p.
    private sealed unsafe class HalvesJob : ParallelWork
    {
        private TwoLayerNet<T>? _net;
        private Workspace? _ws;
        private int* _labels;
        private int _n;

        public void Set(TwoLayerNet<T>? net, Workspace? ws, int* labels, int n)
        {
            (_net, _ws, _n) = (net, ws, n);
            _labels = labels;
        }

        public override void Execute(int part, int parts) => _net!.SecondLayerHalf(_ws!, new ReadOnlySpan<int>(_labels, _n), _n, part);
    }

    /// <inheritdoc/>
    /// <remarks>Safe to call from many threads at once (see the class remarks); allocates nothing once warmed up.</remarks>
    public void Scores(Tensor<T> x, Tensor<T> scores)
    {
        CheckInput(x);
        ClassifierChecks.Scores(x, scores, NumClasses);
        int n = x.Rows, c = NumClasses;
        var scratch = _inference.Rent();
        try
        {
            var w1 = PackW1(scratch, n);
            for (int start = 0; start < n; start += InferenceChunk)
            {
                int rows = Math.Min(InferenceChunk, n - start);
                ForwardChunk(x, start, rows, w1, scratch.Hidden, scores.AsSpan().Slice(start * c, rows * c));
            }
        }
        finally
        {
            _inference.Return(scratch);
        }
    }

    // W1 packed once for all the chunks of n rows, or null where the GEMM would read it in place (a few hundred rows).
    private PackedB<T>? PackW1(InferenceScratch scratch, int n)
    {
        if (!Gemm.PacksB<T>(Math.Min(n, InferenceChunk), HiddenSize)) return null;
        Gemm.PackB<T>(false, HiddenSize, InputSize, Parameters["W1"].AsReadOnlySpan(), scratch.W1);
        return scratch.W1;
    }

    // Test-mode forward of rows [start, start + rows) of x (rows ≤ InferenceChunk): hidden (rows, H), then scores (rows, C).
    private void ForwardChunk(Tensor<T> x, int start, int rows, PackedB<T>? w1, Span<T> hiddenBuffer, Span<T> scores)
    {
        var p = Parameters;
        Span<T> hidden = hiddenBuffer.Slice(0, rows * HiddenSize);
        ReadOnlySpan<T> xs = x.AsReadOnlySpan().Slice(start * InputSize, rows * InputSize);
        if (w1 != null)
            Gemm.MultiplyPacked(rows, HiddenSize, InputSize, xs, w1, hidden, GemmEpilogue.BiasRelu, p["b1"].AsReadOnlySpan());
        else
            Gemm.Multiply(false, false, rows, HiddenSize, InputSize, xs, p["W1"].AsReadOnlySpan(), hidden, GemmEpilogue.BiasRelu, p["b1"].AsReadOnlySpan());
        Gemm.Multiply<T>(false, false, rows, NumClasses, HiddenSize, hidden, p["W2"].AsReadOnlySpan(),
            scores, GemmEpilogue.Bias, p["b2"].AsReadOnlySpan());
    }

    /// <summary>CS231n's <c>predict(X)</c>: the argmax class of each row of <paramref name="x"/> (N, D).</summary>
    /// <remarks>Safe to call from many threads at once; allocates only the returned array.</remarks>
    public int[] Predict(Tensor<T> x)
    {
        CheckInput(x);
        var predictions = new int[x.Rows];
        Predict(x, predictions);
        return predictions;
    }

    /// <summary>Writes the predicted class of each row of <paramref name="x"/> (N, D) into <paramref name="predictions"/> (N,).</summary>
    /// <remarks>Safe to call from many threads at once; allocates nothing once warmed up.</remarks>
    /// <exception cref="ArgumentException">x is not (N, D) with N ≥ 1, or <paramref name="predictions"/> is shorter than N.</exception>
    public void Predict(Tensor<T> x, Span<int> predictions)
    {
        CheckInput(x);
        int n = x.Rows, c = NumClasses;
        ThrowHelper.CheckLength(predictions.Length, n, nameof(predictions), $"one prediction per row of x (N = {n})");
        var scratch = _inference.Rent();
        try
        {
            var w1 = PackW1(scratch, n);
            for (int start = 0; start < n; start += InferenceChunk)
            {
                int rows = Math.Min(InferenceChunk, n - start);
                Span<T> scores = scratch.Scores.AsSpan(0, rows * c);
                ForwardChunk(x, start, rows, w1, scratch.Hidden, scores);
                ArgMax.Rows<T>(scores, rows, c, predictions.Slice(start, rows));
            }
        }
        finally
        {
            _inference.Return(scratch);
        }
    }

    /// <summary>
    /// CS231n's <c>train</c>: <paramref name="numIters"/> SGD steps on minibatches drawn like
    /// <c>np.random.choice(N, batchSize, replace=True)</c> from the model's generator; whenever
    /// <c>it % iterationsPerEpoch == 0</c> (iteration 0 included, iterationsPerEpoch = max(N / batchSize, 1)
    /// in floating point) records the minibatch and validation accuracies and multiplies the learning
    /// rate by <paramref name="learningRateDecay"/>. Progress is reported every iteration when asked for.
    /// The model ends with the last iteration's parameters, as in CS231n, unless training diverges.
    /// </summary>
    /// <exception cref="ArgumentException">x or xVal is not (N, D) with N ≥ 1, or a label array does not fit its inputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// learningRate is not a finite number &gt; 0, learningRateDecay not in (0, 1], reg not a finite number ≥ 0,
    /// numIters negative or batchSize &lt; 1.
    /// </exception>
    /// <exception cref="TrainingDivergedException">
    /// A minibatch loss was NaN or infinite: training stopped there, and the parameters with the best validation
    /// accuracy seen so far (the initial ones if no check had run) were restored into the model. The exception
    /// carries the histories up to the last finite loss.
    /// </exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the model keeps the parameters of the last step.</exception>
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
        var indices = new int[batchSize];
        var labels = new int[batchSize];
        var batchPred = new int[batchSize];
        var valPred = new int[xVal.Rows];
        // Score buffers for the epoch checks, so the loop allocates nothing after its first step.
        var batchScores = Tensor<T>.Uninitialized(batchSize, NumClasses);
        var valScores = Tensor<T>.Uninitialized(xVal.Rows, NumClasses);
        var update = new Optim.Sgd<T>(learningRate);
        ReadOnlySpan<T> xs = x.AsReadOnlySpan();
        // The parameters with the best validation accuracy, restored if training diverges.
        var best = Parameters.Values.ToArray();
        double bestValAcc = double.NaN;
        for (int it = 0; it < numIters; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Random.Choice(n, indices);
            for (int i = 0; i < batchSize; i++) labels[i] = y[indices[i]];
            // The GEMMs pack the minibatch's rows straight from x; no copy of the batch is made.
            double loss = LossAndGradients(xs, indices, batchSize, labels, reg, update.LearningRate);
            if (!double.IsFinite(loss))
            {
                best.CopyTo(Parameters.Values.AsSpan());
                var divergence = new TrainingDivergence(it + 1, numIters, loss, update.LearningRate, double.IsNaN(bestValAcc) ? null : bestValAcc);
                throw new TrainingDivergedException(divergence, stats);
            }
            stats.LossHistory.Add(loss);
            // W1 (parameter 0) took its step in the loss pass; b1, W2 and b2 take theirs here.
            int rest = Parameters.OffsetOf(1);
            update.Update(Parameters.Values.AsSpan().Slice(rest), Parameters.Gradients.AsReadOnlySpan().Slice(rest));
            if (it % iterationsPerEpoch == 0)
            {
                PredictRows(xs, indices, batchScores.AsSpan(), batchPred);
                PredictInto(xVal, valScores, valPred);
                stats.TrainAccHistory.Add(Accuracy(batchPred, labels));
                double valAcc = Accuracy(valPred, yVal);
                stats.ValAccHistory.Add(valAcc);
                if (double.IsNaN(bestValAcc) || valAcc > bestValAcc)
                {
                    bestValAcc = valAcc;
                    Parameters.Values.AsReadOnlySpan().CopyTo(best);
                }
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

    // The predicted class of rows[i] of xs (rows of D) for each i, its rows packed straight from xs like a training step's.
    private void PredictRows(ReadOnlySpan<T> xs, ReadOnlySpan<int> rows, Span<T> scores, Span<int> predictions)
    {
        var p = Parameters;
        int h = HiddenSize, c = NumClasses;
        var scratch = _inference.Rent();
        try
        {
            for (int start = 0; start < rows.Length; start += InferenceChunk)
            {
                int count = Math.Min(InferenceChunk, rows.Length - start);
                Span<T> hidden = scratch.Hidden.AsSpan(0, count * h), chunkScores = scores.Slice(start * c, count * c);
                Gemm.MultiplyGathered(false, false, count, h, InputSize, xs, rows.Slice(start, count), p["W1"].AsReadOnlySpan(), hidden,
                    GemmEpilogue.BiasRelu, p["b1"].AsReadOnlySpan());
                Gemm.Multiply<T>(false, false, count, c, h, hidden, p["W2"].AsReadOnlySpan(), chunkScores, GemmEpilogue.Bias, p["b2"].AsReadOnlySpan());
            }
        }
        finally
        {
            _inference.Return(scratch);
        }
        ArgMax.Rows<T>(scores, rows.Length, c, predictions);
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

    // One inference caller's buffers for a chunk of rows; the pool hands each caller in flight its own.
    private sealed class InferenceScratch(int h, int c)
    {
        public readonly T[] Hidden = GC.AllocateUninitializedArray<T>(InferenceChunk * h, pinned: true); // (chunk, H)
        public readonly T[] Scores = GC.AllocateUninitializedArray<T>(InferenceChunk * c, pinned: true); // (chunk, C)
        public readonly PackedB<T> W1 = new(); // W1 in the GEMM's panels, repacked by every call that uses it
    }

    // Every activation and gradient one batch size needs, allocated once.
    private sealed class Workspace(int n, int h, int c)
    {
        public readonly T[] Hidden = GC.AllocateUninitializedArray<T>(n * h, pinned: true);   // (N, H) ReLU output, also the mask
        public readonly T[] DHidden = GC.AllocateUninitializedArray<T>(n * h, pinned: true);  // (N, H)
        public readonly T[] Scores = GC.AllocateUninitializedArray<T>(n * c, pinned: true);   // (N, C) scores, then dscores
        public readonly T[] Partials = GC.AllocateUninitializedArray<T>(Gemm.SplitKScratchLength<T>(n, h), pinned: true); // the first layer's two halves
        public readonly PackedB<T> Minibatch = new(); // the rows the forward product gathered, packed for the backward one
        public readonly T[] Dw2Halves = new T[2 * h * c], Db2Halves = new T[2 * c], Db1Halves = new T[2 * h]; // each half's sums
        public readonly double[] LossHalves = new double[2];
        public readonly HalvesJob Halves = new();
    }
}
