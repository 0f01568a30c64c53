using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Layers;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cifar.Simd.Models;

/// <summary>The normalization a <see cref="FullyConnectedNet{T}"/> puts between each hidden affine layer and its ReLU.</summary>
public enum Normalization
{
    /// <summary>None: affine and ReLU run as one fused GEMM.</summary>
    None,
    /// <summary>Batch normalization (running statistics for test mode, momentum 0.9, eps 1e-5).</summary>
    Batchnorm,
    /// <summary>Layer normalization (eps 1e-5).</summary>
    Layernorm,
}

/// <summary>
/// CS231n assignment 2's <c>FullyConnectedNet</c>: <c>{affine - [norm] - relu - [dropout]} x (L - 1) - affine - softmax</c>,
/// with L2 regularization <c>0.5·reg·ΣW²</c>. Parameters <c>W1, b1, gamma1, beta1, …, WL, bL</c> live in one
/// <see cref="ParameterSet{T}"/>; W is drawn layer by layer as <c>weightScale·randn(dIn, dOut)</c> from the model's
/// numpy-compatible generator, biases and beta are zero, gamma one — so a seeded model equals numpy's. Dropout masks
/// come from the same generator (or, with <c>dropoutSeed</c>, from one reseeded on every pass as CS231n does).
/// Buffers are allocated once per batch size; a warmed-up training step allocates nothing and never computes the
/// gradient with respect to the input images.
/// </summary>
/// <remarks>
/// Thread safety: inference — <see cref="Scores"/>, both <c>Predict</c> overloads and <see cref="Loss(Tensor{T})"/>,
/// all in test mode (batchnorm reads its running statistics, dropout is off) — may run on any number of threads at
/// once, each with its own inputs and outputs, and gives bitwise the same results as serial calls; each caller in
/// flight borrows its own activation buffers from a small pool, so warmed-up calls allocate nothing. Training —
/// <see cref="Loss(Tensor{T}, ReadOnlySpan{int})"/> (which also updates the batchnorm running statistics and draws
/// dropout masks), and any write to <see cref="Parameters"/>, <see cref="BnParams"/>, <see cref="Reg"/> or
/// <see cref="Random"/> — must not overlap any other call on the same model. Separate models can train on separate
/// threads at once.
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class FullyConnectedNet<T> : IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Each chunk packs its layers' weights anew; 1024 rows amortise that (for the two-layer net's 3072×500 W1, 256 cost 20%).
    internal const int InferenceChunk = 1024;
    private readonly int[] _dims;                // layer widths: D, H1, …, C
    private readonly BatchnormParam<T>[] _bnParams;
    private readonly NumpyRandom? _dropoutRandom;
    private readonly Dictionary<(int N, bool Train), Workspace> _workspaces = [];
    private readonly Dictionary<string, Tensor<T>> _gradients = [];
    private readonly T _eps = T.CreateChecked(1e-5);
    private readonly LayerParams[] _params;      // each layer's parameter indices, so lookups build no name strings
    private readonly ScratchPool<Workspace> _inference;

    /// <summary>Creates the net.</summary>
    /// <param name="hiddenDims">Widths of the hidden layers (each ≥ 1; may be empty for a softmax classifier).</param>
    /// <param name="inputDim">D, the input features.</param>
    /// <param name="numClasses">C.</param>
    /// <param name="dropoutKeepRatio">Probability of keeping a unit, in (0, 1]; 1 disables dropout.</param>
    /// <param name="normalization">None, batchnorm or layernorm.</param>
    /// <param name="reg">L2 strength, ≥ 0.</param>
    /// <param name="weightScale">W = weightScale·randn, ≥ 0.</param>
    /// <param name="seed">Seed of the model's generator (weights, then dropout masks).</param>
    /// <param name="dropoutSeed">When set, dropout reseeds a generator with it on every forward pass (CS231n's <c>seed</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range; the message names it and the range.</exception>
    public FullyConnectedNet(IReadOnlyList<int> hiddenDims, int inputDim = 3 * 32 * 32, int numClasses = 10, double dropoutKeepRatio = 1,
        Normalization normalization = Normalization.None, double reg = 0, double weightScale = 1e-2, uint seed = 0, uint? dropoutSeed = null)
    {
        ArgumentNullException.ThrowIfNull(hiddenDims);
        CheckSize(inputDim, nameof(inputDim));
        CheckSize(numClasses, nameof(numClasses));
        for (int i = 0; i < hiddenDims.Count; i++)
            if (hiddenDims[i] < 1) ThrowHelper.OutOfRange(nameof(hiddenDims), hiddenDims[i], $"hiddenDims[{i}] = {hiddenDims[i]}; hidden sizes must be ≥ 1.");
        if (!(dropoutKeepRatio > 0 && dropoutKeepRatio <= 1))
            ThrowHelper.OutOfRange(nameof(dropoutKeepRatio), dropoutKeepRatio, $"The dropout keep ratio must lie in (0, 1]; got {dropoutKeepRatio}.");
        if (!Enum.IsDefined(normalization))
            ThrowHelper.OutOfRange(nameof(normalization), normalization, "Normalization must be None, Batchnorm or Layernorm.");
        if (!(weightScale >= 0) || !double.IsFinite(weightScale))
            ThrowHelper.OutOfRange(nameof(weightScale), weightScale, $"weightScale must be a finite number ≥ 0; got {weightScale}.");
        CheckReg(reg, nameof(reg));
        Reg = reg;
        _dims = [inputDim, .. hiddenDims, numClasses];
        ClassifierChecks.ParameterCount(_dims, normalization != Normalization.None, nameof(hiddenDims));
        NumLayers = hiddenDims.Count + 1;
        DropoutKeepRatio = dropoutKeepRatio;
        Normalization = normalization;
        Random = new NumpyRandom(seed);
        if (dropoutSeed is { } ds) _dropoutRandom = new NumpyRandom(ds);
        DropoutSeed = dropoutSeed;

        var layout = new List<(string, Shape)>();
        for (int i = 0; i < NumLayers; i++)
        {
            layout.Add(($"W{i + 1}", new Shape(_dims[i], _dims[i + 1])));
            layout.Add(($"b{i + 1}", new Shape(_dims[i + 1])));
            if (normalization != Normalization.None && i < NumLayers - 1)
            {
                layout.Add(($"gamma{i + 1}", new Shape(_dims[i + 1])));
                layout.Add(($"beta{i + 1}", new Shape(_dims[i + 1])));
            }
        }
        Parameters = new ParameterSet<T>(layout);
        for (int i = 0; i < NumLayers; i++)
        {
            Span<T> w = Parameters[$"W{i + 1}"].AsSpan();
            for (int k = 0; k < w.Length; k++) w[k] = T.CreateChecked(weightScale * Random.StandardNormal());
            if (normalization != Normalization.None && i < NumLayers - 1) Parameters[$"gamma{i + 1}"].Fill(T.One);
        }
        _bnParams = new BatchnormParam<T>[normalization == Normalization.Batchnorm ? NumLayers - 1 : 0];
        for (int i = 0; i < _bnParams.Length; i++)
            _bnParams[i] = new BatchnormParam<T> { RunningMean = Tensor<T>.Zeros(_dims[i + 1]), RunningVar = Tensor<T>.Zeros(_dims[i + 1]) };
        foreach (var name in Parameters.Names) _gradients[name] = Parameters.Gradient(name);
        _params = new LayerParams[NumLayers];
        for (int i = 0; i < NumLayers; i++)
        {
            bool normed = normalization != Normalization.None && i < NumLayers - 1;
            _params[i] = new LayerParams(Parameters.IndexOf($"W{i + 1}"), Parameters.IndexOf($"b{i + 1}"),
                normed ? Parameters.IndexOf($"gamma{i + 1}") : -1, normed ? Parameters.IndexOf($"beta{i + 1}") : -1);
        }
        _inference = new ScratchPool<Workspace>(() => new Workspace(InferenceChunk, _dims, Normalization, dropout: false, train: false));
    }

    // Positions of one affine layer's parameters in the ParameterSet; gamma and beta are -1 without normalization.
    private readonly record struct LayerParams(int W, int B, int Gamma, int Beta);

    private static void CheckSize(int value, string name)
    {
        if (value < 1) ThrowHelper.OutOfRange(name, value, $"{name} must be ≥ 1; got {value}.");
    }

    private static void CheckReg(double value, string name)
    {
        if (!(value >= 0) || !double.IsFinite(value)) ThrowHelper.OutOfRange(name, value, $"reg must be a finite number ≥ 0; got {value}.");
    }

    /// <inheritdoc/>
    public ParameterSet<T> Parameters { get; }

    /// <inheritdoc/>
    public NumpyRandom Random { get; }

    /// <inheritdoc/>
    public int InputSize => _dims[0];

    /// <inheritdoc/>
    public int NumClasses => _dims[^1];

    /// <summary>The widths of the hidden layers.</summary>
    public IReadOnlyList<int> HiddenDims => _dims[1..^1];

    /// <summary>L, the number of affine layers.</summary>
    public int NumLayers { get; }

    /// <summary>The probability of keeping a unit (1 = no dropout).</summary>
    public double DropoutKeepRatio { get; }

    /// <summary>The normalization between hidden affine layers and their ReLU.</summary>
    public Normalization Normalization { get; }

    /// <summary>The seed dropout reseeds with on every pass, if any.</summary>
    public uint? DropoutSeed { get; }

    /// <summary>The L2 strength (<c>0.5·reg·ΣW²</c>).</summary>
    public double Reg
    {
        get;
        set
        {
            CheckReg(value, nameof(Reg));
            field = value;
        }
    }

    /// <summary>Each batchnorm layer's running statistics (CS231n's <c>bn_params</c>); empty without batchnorm.</summary>
    public IReadOnlyList<BatchnormParam<T>> BnParams => _bnParams;

    /// <summary>The batchnorm running statistics as <c>running_mean1</c>, <c>running_var1</c>, …; empty without batchnorm.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor<T>>> Buffers
    {
        get
        {
            // Built on each call, since BnParams lets a caller swap the running tensors.
            var list = new List<KeyValuePair<string, Tensor<T>>>(2 * _bnParams.Length);
            for (int i = 0; i < _bnParams.Length; i++)
            {
                list.Add(KeyValuePair.Create($"running_mean{i + 1}", _bnParams[i].RunningMean ?? throw new InvalidOperationException($"bn_params[{i}].RunningMean was set to null.")));
                list.Add(KeyValuePair.Create($"running_var{i + 1}", _bnParams[i].RunningVar ?? throw new InvalidOperationException($"bn_params[{i}].RunningVar was set to null.")));
            }
            return list;
        }
    }

    /// <summary>CS231n's <c>loss(X)</c>: test-mode class scores (N, C) of <paramref name="x"/> (N, D).</summary>
    public Tensor<T> Loss(Tensor<T> x)
    {
        CheckInput(x);
        var scores = Tensor<T>.Uninitialized(x.Rows, NumClasses);
        Scores(x, scores);
        return scores;
    }

    /// <summary>
    /// CS231n's <c>loss(X, y)</c>: train-mode softmax loss plus <c>0.5·reg·ΣW²</c>, and every parameter's gradient
    /// (views into <see cref="ParameterSet{T}.Gradients"/>, overwritten by the next call).
    /// </summary>
    public (double Loss, IReadOnlyDictionary<string, Tensor<T>> Grads) Loss(Tensor<T> x, ReadOnlySpan<int> y) =>
        (((IClassifier<T>)this).Loss(x, y), _gradients);

    /// <inheritdoc/>
    double IClassifier<T>.Loss(Tensor<T> x, ReadOnlySpan<int> y)
    {
        CheckInput(x);
        int n = x.Rows, c = NumClasses, last = NumLayers - 1;
        ClassifierChecks.Labels(x, y, c);
        var ws = WorkspaceFor(n, train: true);
        var p = Parameters;

        // Forward.
        ReadOnlySpan<T> input = x.AsReadOnlySpan();
        for (int l = 0; l < last; l++)
        {
            Forward(ws, l, input, n, train: true);
            input = ws.Out[l].AsSpan(0, n * _dims[l + 1]);
        }
        Span<T> scores = ws.Scores.AsSpan(0, n * c);
        Gemm.Multiply(false, false, n, c, _dims[last], input, p[_params[last].W].AsReadOnlySpan(), scores, GemmEpilogue.Bias, p[_params[last].B].AsReadOnlySpan());
        double loss = double.CreateChecked(Layer.SoftmaxLoss<T>(scores, y, scores, n, c)); // scores now hold dscores
        Span<double> sumsW2 = ws.SumsW2;

        // Backward, from the top; upstream holds dL/d(output of layer l).
        T reg = T.CreateChecked(Reg);
        ReadOnlySpan<T> upstream = scores;
        for (int l = last; l >= 0; l--)
        {
            int dIn = _dims[l], dOut = _dims[l + 1];
            ReadOnlySpan<T> layerInput = l == 0 ? x.AsReadOnlySpan() : ws.Out[l - 1].AsSpan(0, n * dIn);
            Span<T> da;
            if (l == last)
            {
                da = scores;
                Reductions.ColumnSums<T>(da, p.Gradient(_params[l].B).AsSpan(), n, dOut);
            }
            else
            {
                da = BackwardHidden(ws, l, upstream, n);
            }
            Span<T> dw = p.Gradient(_params[l].W).AsSpan();
            ReadOnlySpan<T> w = p[_params[l].W].AsReadOnlySpan();
            Gemm.Multiply<T>(true, false, dIn, dOut, n, layerInput, da, dw); // (dIn, dOut) = Xᵀ·dA
            // dW += reg·W and ΣW² in one pass, on every core by contiguous chunks: the first layer's W is split as its forward split it.
            sumsW2[l] = Elementwise.AddWeightDecayAndSumSquares(w, reg, dw);
            if (l == 0) break; // no gradient with respect to the images
            Span<T> dPrev = ws.Upstream.AsSpan(0, n * dIn);
            Gemm.Multiply<T>(false, true, n, dIn, dOut, da, w, dPrev); // (N, dIn) = dA·Wᵀ
            upstream = dPrev;
        }
        double sumW2 = 0;
        for (int l = 0; l <= last; l++) sumW2 += sumsW2[l];
        return loss + 0.5 * Reg * sumW2;
    }

    // The first layer's training forward sums two halves of the features, one per core, so that each core reads only the
    // half of W1 it decays and updates (as TwoLayerNet does); every other product, and inference, is the plain one.
    private void Affine(Workspace ws, int l, ReadOnlySpan<T> input, int n, bool train, Span<T> output, GemmEpilogue epilogue)
    {
        var p = Parameters;
        int dIn = _dims[l], dOut = _dims[l + 1];
        ReadOnlySpan<T> w = p[_params[l].W].AsReadOnlySpan(), b = p[_params[l].B].AsReadOnlySpan();
        if (train && l == 0) Gemm.MultiplySplitK(n, dOut, dIn, input, default, w, output, epilogue, b, ws.Partials);
        else Gemm.Multiply(false, false, n, dOut, dIn, input, w, output, epilogue, b);
    }

    // Hidden layer l forward: affine (+ norm) + ReLU (+ dropout), leaving its output in ws.Out[l].
    private void Forward(Workspace ws, int l, ReadOnlySpan<T> input, int n, bool train)
    {
        var p = Parameters;
        int dOut = _dims[l + 1];
        Span<T> h = ws.Relu[l].AsSpan(0, n * dOut); // (N, dOut) ReLU output, also the backward mask
        if (Normalization == Normalization.None)
        {
            Affine(ws, l, input, n, train, h, GemmEpilogue.BiasRelu);
        }
        else
        {
            Span<T> a = ws.Affine[l].AsSpan(0, n * dOut);
            Affine(ws, l, input, n, train, a, GemmEpilogue.Bias);
            ReadOnlySpan<T> gamma = p[_params[l].Gamma].AsReadOnlySpan(), beta = p[_params[l].Beta].AsReadOnlySpan();
            Span<T> xhat = ws.XHat[l].AsSpan(0, n * dOut);
            if (Normalization == Normalization.Layernorm)
            {
                Layer.LayernormForward<T>(a, gamma, beta, h, xhat, ws.InvStd[l].AsSpan(0, n), n, dOut, _eps);
            }
            else if (train)
            {
                var bn = _bnParams[l];
                Span<T> mean = ws.Mean.AsSpan(0, dOut), variance = ws.Variance.AsSpan(0, dOut);
                Layer.BatchnormForwardTrain<T>(a, gamma, beta, h, xhat, mean, variance, ws.InvStd[l].AsSpan(0, dOut), n, dOut, bn.Eps);
                Layer.UpdateRunning(bn.RunningMean!.AsSpan(), mean, bn.Momentum);
                Layer.UpdateRunning(bn.RunningVar!.AsSpan(), variance, bn.Momentum);
            }
            else
            {
                var bn = _bnParams[l];
                Layer.BatchnormForwardTest<T>(a, gamma, beta, bn.RunningMean!.AsReadOnlySpan(), bn.RunningVar!.AsReadOnlySpan(),
                    h, xhat, ws.InvStd[l].AsSpan(0, dOut), n, dOut, bn.Eps);
            }
            Elementwise.Relu<T>(h, h);
        }
        if (train && DropoutKeepRatio < 1)
        {
            NumpyRandom rng = Random;
            if (_dropoutRandom is not null)
            {
                _dropoutRandom.Seed(DropoutSeed!.Value);
                rng = _dropoutRandom;
            }
            Layer.DropoutForward<T>(h, rng, DropoutKeepRatio, ws.Mask[l].AsSpan(0, n * dOut), ws.Out[l].AsSpan(0, n * dOut));
        }
    }

    // Hidden layer l backward from dL/d(its output) to dL/d(its affine output); writes db, dgamma, dbeta.
    private Span<T> BackwardHidden(Workspace ws, int l, ReadOnlySpan<T> upstream, int n)
    {
        var p = Parameters;
        int d = _dims[l + 1];
        Span<T> dh = ws.Grad.AsSpan(0, n * d);
        if (DropoutKeepRatio < 1)
        {
            Layer.DropoutBackward<T>(upstream, ws.Mask[l].AsSpan(0, n * d), dh);
            upstream = dh;
        }
        Span<T> db = p.Gradient(_params[l].B).AsSpan();
        ReadOnlySpan<T> h = ws.Relu[l].AsSpan(0, n * d);
        if (Normalization == Normalization.None)
        {
            db.Clear();
            Elementwise.ReluBackwardAddColumnSums<T>(upstream, h, dh, db, n, d);
            return dh;
        }
        Elementwise.ReluBackward<T>(upstream, h, dh);
        Span<T> da = ws.Grad2.AsSpan(0, n * d);
        ReadOnlySpan<T> xhat = ws.XHat[l].AsSpan(0, n * d), gamma = p[_params[l].Gamma].AsReadOnlySpan();
        Span<T> dgamma = p.Gradient(_params[l].Gamma).AsSpan(), dbeta = p.Gradient(_params[l].Beta).AsSpan();
        if (Normalization == Normalization.Layernorm)
            Layer.LayernormBackward<T>(dh, xhat, ws.InvStd[l].AsSpan(0, n), gamma, da, dgamma, dbeta, n, d);
        else
            Layer.BatchnormBackwardAlt<T>(dh, xhat, ws.InvStd[l].AsSpan(0, d), gamma, da, dgamma, dbeta, n, d);
        Reductions.ColumnSums<T>(da, db, n, d);
        return da;
    }

    /// <inheritdoc/>
    /// <remarks>Safe to call from many threads at once (see the class remarks); allocates nothing once warmed up.</remarks>
    public void Scores(Tensor<T> x, Tensor<T> scores)
    {
        CheckInput(x);
        ClassifierChecks.Scores(x, scores, NumClasses);
        int n = x.Rows, c = NumClasses;
        var ws = _inference.Rent();
        try
        {
            for (int start = 0; start < n; start += InferenceChunk)
            {
                int rows = Math.Min(InferenceChunk, n - start);
                ForwardChunk(ws, x, start, rows, scores.AsSpan().Slice(start * c, rows * c));
            }
        }
        finally
        {
            _inference.Return(ws);
        }
    }

    // Test-mode forward of rows [start, start + rows) of x (rows ≤ InferenceChunk) through every layer into scores (rows, C).
    private void ForwardChunk(Workspace ws, Tensor<T> x, int start, int rows, Span<T> scores)
    {
        int last = NumLayers - 1;
        var p = Parameters;
        ReadOnlySpan<T> input = x.AsReadOnlySpan().Slice(start * InputSize, rows * InputSize);
        for (int l = 0; l < last; l++)
        {
            Forward(ws, l, input, rows, train: false);
            input = ws.Out[l].AsSpan(0, rows * _dims[l + 1]);
        }
        Gemm.Multiply(false, false, rows, NumClasses, _dims[last], input, p[_params[last].W].AsReadOnlySpan(),
            scores, GemmEpilogue.Bias, p[_params[last].B].AsReadOnlySpan());
    }

    /// <summary>The predicted class of each row of <paramref name="x"/> (N, D), in test mode.</summary>
    /// <remarks>Safe to call from many threads at once; allocates only the returned array.</remarks>
    public int[] Predict(Tensor<T> x)
    {
        CheckInput(x);
        var predictions = new int[x.Rows];
        Predict(x, predictions);
        return predictions;
    }

    /// <summary>Writes the test-mode predicted class of each row of <paramref name="x"/> (N, D) into <paramref name="predictions"/> (N,).</summary>
    /// <remarks>Safe to call from many threads at once; allocates nothing once warmed up.</remarks>
    /// <exception cref="ArgumentException">x is not (N, D) with N ≥ 1, or <paramref name="predictions"/> is shorter than N.</exception>
    public void Predict(Tensor<T> x, Span<int> predictions)
    {
        CheckInput(x);
        int n = x.Rows, c = NumClasses;
        ThrowHelper.CheckLength(predictions.Length, n, nameof(predictions), $"one prediction per row of x (N = {n})");
        var ws = _inference.Rent();
        try
        {
            for (int start = 0; start < n; start += InferenceChunk)
            {
                int rows = Math.Min(InferenceChunk, n - start);
                Span<T> scores = ws.Scores.AsSpan(0, rows * c);
                ForwardChunk(ws, x, start, rows, scores);
                ArgMax.Rows<T>(scores, rows, c, predictions.Slice(start, rows));
            }
        }
        finally
        {
            _inference.Return(ws);
        }
    }

    private void CheckInput(Tensor<T> x) => ClassifierChecks.Input(x, InputSize);

    private Workspace WorkspaceFor(int n, bool train)
    {
        if (!_workspaces.TryGetValue((n, train), out var ws))
            _workspaces[(n, train)] = ws = new Workspace(n, _dims, Normalization, train && DropoutKeepRatio < 1, train);
        return ws;
    }

    // Every activation and gradient of one batch size; hidden layer l has width dims[l + 1].
    private sealed class Workspace
    {
        public readonly T[][] Affine, XHat, InvStd, Relu, Mask, Out;
        public readonly T[] Scores, Upstream, Grad, Grad2, Mean, Variance, Partials;
        public readonly double[] SumsW2;

        public Workspace(int n, int[] dims, Normalization norm, bool dropout, bool train)
        {
            int hidden = dims.Length - 2, widest = dims[..^1].Max();
            static T[] Alloc(int length) => GC.AllocateUninitializedArray<T>(length, pinned: true);
            T[][] PerLayer(bool needed, Func<int, int> size) =>
                Enumerable.Range(0, hidden).Select(l => needed ? Alloc(size(dims[l + 1])) : []).ToArray();
            bool normed = norm != Normalization.None;
            Affine = PerLayer(normed, d => n * d);                                        // (N, d) pre-norm
            XHat = PerLayer(normed, d => n * d);                                          // (N, d)
            InvStd = PerLayer(normed, d => norm == Normalization.Layernorm ? n : d);      // (N,) or (d,)
            Relu = PerLayer(true, d => n * d);                                            // (N, d)
            Mask = PerLayer(dropout, d => n * d);                                         // (N, d)
            Out = dropout ? PerLayer(true, d => n * d) : Relu;                            // (N, d) layer output
            Scores = Alloc(n * dims[^1]);                                                 // (N, C)
            Upstream = train ? Alloc(n * widest) : [];
            Grad = train ? Alloc(n * widest) : [];
            Grad2 = train && normed ? Alloc(n * widest) : [];
            Mean = Alloc(widest);
            Variance = Alloc(widest);
            Partials = train ? Alloc(Gemm.SplitKScratchLength<T>(n, dims[1])) : [];        // the first layer's two halves
            SumsW2 = new double[dims.Length - 1];                                         // ΣW² per layer
        }
    }
}
