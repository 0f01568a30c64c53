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
/// gradient with respect to the input images. Not safe for concurrent use from several threads.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class FullyConnectedNet<T> : IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int InferenceChunk = 256;
    private readonly int[] _dims;                // layer widths: D, H1, …, C
    private readonly BatchnormParam<T>[] _bnParams;
    private readonly NumpyRandom? _dropoutRandom;
    private readonly Dictionary<(int N, bool Train), Workspace> _workspaces = [];
    private readonly Dictionary<string, Tensor<T>> _gradients = [];
    private readonly T _eps = T.CreateChecked(1e-5);

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
    }

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
        Gemm.Multiply(false, false, n, c, _dims[last], input, p[$"W{last + 1}"].AsReadOnlySpan(), scores, GemmEpilogue.Bias, p[$"b{last + 1}"].AsReadOnlySpan());
        double loss = double.CreateChecked(Layer.SoftmaxLoss<T>(scores, y, scores, n, c)); // scores now hold dscores
        double sumW2 = 0;
        for (int l = 0; l <= last; l++) sumW2 += double.CreateChecked(TensorPrimitives.SumOfSquares(p[$"W{l + 1}"].AsReadOnlySpan()));
        loss += 0.5 * Reg * sumW2;

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
                Reductions.ColumnSums<T>(da, p.Gradient($"b{l + 1}").AsSpan(), n, dOut);
            }
            else
            {
                da = BackwardHidden(ws, l, upstream, n);
            }
            Span<T> dw = p.Gradient($"W{l + 1}").AsSpan();
            ReadOnlySpan<T> w = p[$"W{l + 1}"].AsReadOnlySpan();
            Gemm.Multiply<T>(true, false, dIn, dOut, n, layerInput, da, dw); // (dIn, dOut) = Xᵀ·dA
            TensorPrimitives.MultiplyAdd(w, reg, dw, dw);
            if (l == 0) break; // no gradient with respect to the images
            Span<T> dPrev = ws.Upstream.AsSpan(0, n * dIn);
            Gemm.Multiply<T>(false, true, n, dIn, dOut, da, w, dPrev); // (N, dIn) = dA·Wᵀ
            upstream = dPrev;
        }
        return loss;
    }

    // Hidden layer l forward: affine (+ norm) + ReLU (+ dropout), leaving its output in ws.Out[l].
    private void Forward(Workspace ws, int l, ReadOnlySpan<T> input, int n, bool train)
    {
        var p = Parameters;
        int dIn = _dims[l], dOut = _dims[l + 1];
        ReadOnlySpan<T> w = p[$"W{l + 1}"].AsReadOnlySpan(), b = p[$"b{l + 1}"].AsReadOnlySpan();
        Span<T> h = ws.Relu[l].AsSpan(0, n * dOut); // (N, dOut) ReLU output, also the backward mask
        if (Normalization == Normalization.None)
        {
            Gemm.Multiply(false, false, n, dOut, dIn, input, w, h, GemmEpilogue.BiasRelu, b);
        }
        else
        {
            Span<T> a = ws.Affine[l].AsSpan(0, n * dOut);
            Gemm.Multiply(false, false, n, dOut, dIn, input, w, a, GemmEpilogue.Bias, b);
            ReadOnlySpan<T> gamma = p[$"gamma{l + 1}"].AsReadOnlySpan(), beta = p[$"beta{l + 1}"].AsReadOnlySpan();
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
        Span<T> db = p.Gradient($"b{l + 1}").AsSpan();
        ReadOnlySpan<T> h = ws.Relu[l].AsSpan(0, n * d);
        if (Normalization == Normalization.None)
        {
            db.Clear();
            Elementwise.ReluBackwardAddColumnSums<T>(upstream, h, dh, db, n, d);
            return dh;
        }
        Elementwise.ReluBackward<T>(upstream, h, dh);
        Span<T> da = ws.Grad2.AsSpan(0, n * d);
        ReadOnlySpan<T> xhat = ws.XHat[l].AsSpan(0, n * d), gamma = p[$"gamma{l + 1}"].AsReadOnlySpan();
        Span<T> dgamma = p.Gradient($"gamma{l + 1}").AsSpan(), dbeta = p.Gradient($"beta{l + 1}").AsSpan();
        if (Normalization == Normalization.Layernorm)
            Layer.LayernormBackward<T>(dh, xhat, ws.InvStd[l].AsSpan(0, n), gamma, da, dgamma, dbeta, n, d);
        else
            Layer.BatchnormBackwardAlt<T>(dh, xhat, ws.InvStd[l].AsSpan(0, d), gamma, da, dgamma, dbeta, n, d);
        Reductions.ColumnSums<T>(da, db, n, d);
        return da;
    }

    /// <inheritdoc/>
    public void Scores(Tensor<T> x, Tensor<T> scores)
    {
        CheckInput(x);
        ClassifierChecks.Scores(x, scores, NumClasses);
        int n = x.Rows, c = NumClasses, last = NumLayers - 1;
        var p = Parameters;
        var ws = WorkspaceFor(InferenceChunk, train: false);
        for (int start = 0; start < n; start += InferenceChunk)
        {
            int rows = Math.Min(InferenceChunk, n - start);
            ReadOnlySpan<T> input = x.AsReadOnlySpan().Slice(start * InputSize, rows * InputSize);
            for (int l = 0; l < last; l++)
            {
                Forward(ws, l, input, rows, train: false);
                input = ws.Out[l].AsSpan(0, rows * _dims[l + 1]);
            }
            Gemm.Multiply(false, false, rows, c, _dims[last], input, p[$"W{last + 1}"].AsReadOnlySpan(),
                scores.AsSpan().Slice(start * c, rows * c), GemmEpilogue.Bias, p[$"b{last + 1}"].AsReadOnlySpan());
        }
    }

    /// <summary>The predicted class of each row of <paramref name="x"/> (test mode).</summary>
    public int[] Predict(Tensor<T> x)
    {
        var scores = Loss(x);
        var predictions = new int[x.Rows];
        ArgMax.Rows<T>(scores.AsReadOnlySpan(), x.Rows, NumClasses, predictions);
        return predictions;
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
        public readonly T[] Scores, Upstream, Grad, Grad2, Mean, Variance;

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
        }
    }
}
