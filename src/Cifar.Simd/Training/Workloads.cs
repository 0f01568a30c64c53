using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Models;
using Cifar.Simd.Optim;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Training;

/// <summary>Synthetic stand-ins for CIFAR-10 for throughput measurements, where only the shapes matter.</summary>
public static class SyntheticCifar
{
    /// <summary>CS231n's training-set size, 49,000 rows.</summary>
    public const int TrainRows = 49_000;

    /// <summary>D = 32·32·3 values per image (Data's <c>Cifar10.Features</c>, which this layer cannot reference).</summary>
    public const int Features = 3 * 32 * 32;

    /// <summary>C = 10 classes.</summary>
    public const int Classes = 10;

    /// <summary>
    /// <paramref name="rows"/> images of <paramref name="features"/> values drawn uniformly from
    /// [−128, 128) (the range of mean-subtracted pixels) and one label in [0, <paramref name="classes"/>)
    /// each, from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is &lt; 1.</exception>
    public static (Tensor<T> X, int[] Y) Create<T>(int rows, int features = SyntheticCifar.Features, int classes = SyntheticCifar.Classes, uint seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSize(rows, nameof(rows));
        CheckSize(features, nameof(features));
        CheckSize(classes, nameof(classes));
        var rng = new NumpyRandom(seed);
        var x = Tensor<T>.Uninitialized(rows, features);
        Span<double> chunk = stackalloc double[256];
        Span<T> xs = x.AsSpan();
        for (int i = 0; i < xs.Length; i += chunk.Length)
        {
            int count = Math.Min(chunk.Length, xs.Length - i);
            rng.Rand(chunk[..count]);
            for (int j = 0; j < count; j++) xs[i + j] = T.CreateTruncating(256 * chunk[j] - 128);
        }
        var y = new int[rows];
        rng.Choice(classes, y);
        return (x, y);
    }

    internal static void CheckSize(int value, string name)
    {
        if (value < 1) ThrowHelper.OutOfRange(name, value, $"{name} must be ≥ 1; got {value}.");
    }
}

/// <summary>
/// One iteration of <see cref="TwoLayerNet{T}.Train"/> without its bookkeeping: draw a minibatch of
/// row indices from the model's generator, pick their labels, compute the loss and gradients on those
/// rows of the training set without copying them (<see cref="TwoLayerNet{T}.MinibatchLoss"/>), and apply
/// one SGD update. The epoch-end accuracy checks, which <c>Train</c> makes once per epoch, are not part
/// of a step.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class TwoLayerStepWorkload<T> : IThroughputWorkload where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _x;
    private readonly int[] _y, _indices, _labels;
    private readonly Sgd<T> _sgd;
    private readonly double _reg;

    /// <summary>Creates the net (3072-H-10 for CIFAR-shaped data, W = std·randn) and the step's buffers.</summary>
    /// <param name="xTrain">The training images (N, D); rows are drawn from it with replacement.</param>
    /// <param name="yTrain">The labels (N,), in [0, 10).</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="learningRate">SGD's learning rate (the notebook's 1e-4).</param>
    /// <param name="reg">L2 strength (the notebook's 0.25).</param>
    /// <param name="std">W = std·randn (the notebook's 1e-4).</param>
    /// <param name="seed">Seed of the model's generator (weights, then minibatches).</param>
    /// <exception cref="ArgumentException">The data are empty or mismatched, a label is not a class, or a size is out of range.</exception>
    public TwoLayerStepWorkload(Tensor<T> xTrain, int[] yTrain, int hiddenSize = 100, int batchSize = 200,
        double learningRate = 1e-4, double reg = 0.25, double std = 1e-4, uint seed = 0)
    {
        CheckData(xTrain, yTrain, SyntheticCifar.Classes);
        SyntheticCifar.CheckSize(batchSize, nameof(batchSize));
        if (!(reg >= 0) || !double.IsFinite(reg)) ThrowHelper.OutOfRange(nameof(reg), reg, $"reg must be a finite number ≥ 0; got {reg}.");
        Model = new TwoLayerNet<T>(xTrain.RowLength, hiddenSize, SyntheticCifar.Classes, std, seed);
        (_x, _y, _reg) = (xTrain.AsMatrix(), yTrain, reg);
        _indices = new int[batchSize];
        _labels = new int[batchSize];
        _sgd = new Sgd<T>(learningRate);
        _sgd.InitializeState(Model.Parameters.Values.Length);
    }

    /// <summary>The net being trained.</summary>
    public TwoLayerNet<T> Model { get; }

    /// <summary>The loss of the last step (NaN before the first).</summary>
    public double LastLoss { get; private set; } = double.NaN;

    /// <inheritdoc/>
    public string Name => "two-layer-step";

    /// <inheritdoc/>
    public string Description => $"two-layer {Model.InputSize}-{Model.HiddenSize}-{Model.NumClasses}, batch {_indices.Length}, SGD";

    /// <inheritdoc/>
    public int SamplesPerStep => _indices.Length;

    /// <inheritdoc/>
    public double FlopsPerStep => StepFlops(Model.InputSize, Model.HiddenSize, Model.NumClasses, _indices.Length);

    /// <summary>
    /// The GEMM work of one step: forward X·W1 and H·W2, backward Hᵀ·dS, dS·W2ᵀ and Xᵀ·dH (no dX),
    /// i.e. <c>2·N·(2·D·H + 3·H·C)</c>.
    /// </summary>
    public static double StepFlops(int inputSize, int hiddenSize, int numClasses, int batchSize) =>
        2.0 * batchSize * (2.0 * inputSize * hiddenSize + 3.0 * hiddenSize * numClasses);

    /// <inheritdoc/>
    public void Step()
    {
        Model.Random.Choice(_x.Rows, _indices);
        for (int i = 0; i < _indices.Length; i++) _labels[i] = _y[_indices[i]];
        // As TwoLayerNet.Train does: the products read the drawn rows straight from the training set.
        LastLoss = Model.MinibatchLoss(_x, _indices, _labels, _reg).Loss;
        _sgd.Update(Model.Parameters.Values.AsSpan(), Model.Parameters.Gradients.AsReadOnlySpan());
    }

    internal static void CheckData(Tensor<T> x, int[] y, int classes)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ClassifierChecks.Input(x, x.RowLength);
        ClassifierChecks.Labels(x, y, classes);
    }
}

/// <summary>
/// One iteration of the <see cref="Solver{T}"/> on a <see cref="FullyConnectedNet{T}"/>: draw a
/// minibatch from the model's generator, gather it, run the training-mode loss and backward pass,
/// and apply the update rule once over the whole parameter buffer.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class FcStepWorkload<T> : IThroughputWorkload where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _x, _batch;
    private readonly int[] _y, _indices, _labels;

    /// <summary>Creates the net and the step's buffers.</summary>
    /// <param name="xTrain">The training images (N, D).</param>
    /// <param name="yTrain">The labels (N,), in [0, 10).</param>
    /// <param name="hiddenDims">The hidden widths, e.g. five of 100.</param>
    /// <param name="batchSize">Rows per step (the Solver's default 100).</param>
    /// <param name="normalization">Between each hidden affine layer and its ReLU.</param>
    /// <param name="dropoutKeepRatio">Probability of keeping a unit (1 = no dropout).</param>
    /// <param name="updateRule">The rule; default Adam with CS231n's settings (learning rate 1e-3).</param>
    /// <param name="weightScale">W = weightScale·randn.</param>
    /// <param name="seed">Seed of the model's generator (weights, dropout masks, minibatches).</param>
    /// <exception cref="ArgumentException">The data are empty or mismatched, a label is not a class, or a size is out of range.</exception>
    public FcStepWorkload(Tensor<T> xTrain, int[] yTrain, IReadOnlyList<int> hiddenDims, int batchSize = 100,
        Normalization normalization = Normalization.Batchnorm, double dropoutKeepRatio = 0.5, UpdateRule<T>? updateRule = null,
        double weightScale = 1e-2, uint seed = 0)
    {
        TwoLayerStepWorkload<T>.CheckData(xTrain, yTrain, SyntheticCifar.Classes);
        SyntheticCifar.CheckSize(batchSize, nameof(batchSize));
        Model = new FullyConnectedNet<T>(hiddenDims, xTrain.RowLength, SyntheticCifar.Classes, dropoutKeepRatio, normalization,
            reg: 0, weightScale, seed);
        UpdateRule = updateRule ?? new Adam<T>();
        UpdateRule.InitializeState(Model.Parameters.Values.Length);
        (_x, _y) = (xTrain.AsMatrix(), yTrain);
        _batch = Tensor<T>.Uninitialized(batchSize, xTrain.RowLength);
        _indices = new int[batchSize];
        _labels = new int[batchSize];
    }

    /// <summary>The net being trained.</summary>
    public FullyConnectedNet<T> Model { get; }

    /// <summary>The rule applied after each backward pass.</summary>
    public UpdateRule<T> UpdateRule { get; }

    /// <summary>The loss of the last step (NaN before the first).</summary>
    public double LastLoss { get; private set; } = double.NaN;

    /// <inheritdoc/>
    public string Name => "fc-step";

    /// <inheritdoc/>
    public string Description
    {
        get
        {
            var dims = Model.HiddenDims;
            string hidden = dims.Count > 0 && dims.All(d => d == dims[0]) ? $"[{dims[0]}]×{dims.Count}" : $"[{string.Join(", ", dims)}]";
            string norm = Model.Normalization == Normalization.None ? "" : $" + {Model.Normalization.ToString().ToLowerInvariant()}";
            string dropout = Model.DropoutKeepRatio < 1 ? $" + dropout keep {Model.DropoutKeepRatio}" : "";
            return $"fc {hidden}{norm}{dropout}, batch {_batch.Rows}, {UpdateRule.Name}";
        }
    }

    /// <inheritdoc/>
    public int SamplesPerStep => _batch.Rows;

    /// <inheritdoc/>
    public double FlopsPerStep => StepFlops([Model.InputSize, .. Model.HiddenDims, Model.NumClasses], _batch.Rows);

    /// <summary>
    /// The GEMM work of one step over layer widths <paramref name="dims"/> (D, H1, …, C): per layer a
    /// forward product and a weight-gradient product, and an input-gradient product for every layer
    /// but the first, each <c>2·N·dIn·dOut</c>.
    /// </summary>
    public static double StepFlops(IReadOnlyList<int> dims, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(dims);
        double flops = 0;
        for (int l = 0; l + 1 < dims.Count; l++) flops += (l == 0 ? 2.0 : 3.0) * 2.0 * batchSize * dims[l] * dims[l + 1];
        return flops;
    }

    /// <inheritdoc/>
    public void Step()
    {
        Model.Random.Choice(_x.Rows, _indices);
        Solver<T>.Gather(_x, _y, _indices, _batch, _labels); // the Solver copies its minibatch, so this step does too
        LastLoss = Model.Loss(_batch, _labels).Loss;
        UpdateRule.Update(Model.Parameters.Values.AsSpan(), Model.Parameters.Gradients.AsReadOnlySpan());
    }
}

/// <summary>Class predictions for a set of images through a <see cref="TwoLayerNet{T}"/>, via <see cref="TwoLayerNet{T}.Predict(Tensor{T}, Span{int})"/>.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class InferenceWorkload<T> : IThroughputWorkload where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _images;
    private readonly int[] _predictions;

    /// <summary>Creates a net with random weights (W = std·randn) for <paramref name="images"/> (N, D).</summary>
    /// <exception cref="ArgumentException">images is empty or a size is out of range.</exception>
    public InferenceWorkload(Tensor<T> images, int hiddenSize = 500, double std = 1e-4, uint seed = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        ClassifierChecks.Input(images, images.RowLength, nameof(images));
        Model = new TwoLayerNet<T>(images.RowLength, hiddenSize, SyntheticCifar.Classes, std, seed);
        _images = images.AsMatrix();
        _predictions = new int[images.Rows];
    }

    /// <summary>The net that classifies.</summary>
    public TwoLayerNet<T> Model { get; }

    /// <summary>The predictions of the last step.</summary>
    public ReadOnlySpan<int> Predictions => _predictions;

    /// <inheritdoc/>
    public string Name => "inference";

    /// <inheritdoc/>
    public string Description => $"predict {_images.Rows:N0} images, two-layer {Model.InputSize}-{Model.HiddenSize}-{Model.NumClasses}";

    /// <inheritdoc/>
    public int SamplesPerStep => _images.Rows;

    /// <inheritdoc/>
    public double FlopsPerStep => StepFlops(Model.InputSize, Model.HiddenSize, Model.NumClasses, _images.Rows);

    /// <summary>The GEMM work of one pass: <c>2·N·(D·H + H·C)</c>.</summary>
    public static double StepFlops(int inputSize, int hiddenSize, int numClasses, int images) =>
        2.0 * images * ((double)inputSize * hiddenSize + (double)hiddenSize * numClasses);

    /// <inheritdoc/>
    public void Step() => Model.Predict(_images, _predictions);
}

/// <summary>One <see cref="Gemm.Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T})"/> on operands filled once.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class GemmWorkload<T> : IThroughputWorkload where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _a, _b, _c, _bias;
    private readonly SimdPath? _path;

    /// <summary>Allocates op(A) (M×K), op(B) (K×N), C (M×N) and a bias (N), filled uniformly from [−1, 1).</summary>
    /// <param name="name">A label for the shape, e.g. <c>X·W</c>.</param>
    /// <param name="m">M, rows of C.</param>
    /// <param name="n">N, columns of C.</param>
    /// <param name="k">K, the reduction length.</param>
    /// <param name="transposeA">A is stored K×M.</param>
    /// <param name="transposeB">B is stored N×K.</param>
    /// <param name="epilogue">What is applied to C.</param>
    /// <param name="seed">Seed of the generator that fills the operands.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is &lt; 1.</exception>
    public GemmWorkload(string name, int m, int n, int k, bool transposeA = false, bool transposeB = false,
        GemmEpilogue epilogue = GemmEpilogue.None, uint seed = 0)
        : this(null, name, m, n, k, transposeA, transposeB, epilogue, seed) { }

    /// <summary>The same product forced onto one SIMD path.</summary>
    internal GemmWorkload(SimdPath? path, string name, int m, int n, int k, bool transposeA = false, bool transposeB = false,
        GemmEpilogue epilogue = GemmEpilogue.None, uint seed = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        SyntheticCifar.CheckSize(m, nameof(m));
        SyntheticCifar.CheckSize(n, nameof(n));
        SyntheticCifar.CheckSize(k, nameof(k));
        if (path is { } p) SimdPaths.ThrowIfUnsupported(p);
        (ShapeName, M, N, K, TransposeA, TransposeB, Epilogue, _path) = (name, m, n, k, transposeA, transposeB, epilogue, path);
        var rng = new NumpyRandom(seed);
        _a = Fill(rng, (long)m * k);
        _b = Fill(rng, (long)k * n);
        _bias = Fill(rng, n);
        _c = GC.AllocateUninitializedArray<T>(checked(m * n), pinned: true);
    }

    private static T[] Fill(NumpyRandom rng, long length)
    {
        var values = GC.AllocateUninitializedArray<T>(checked((int)length), pinned: true);
        for (int i = 0; i < values.Length; i++) values[i] = T.CreateTruncating(2 * rng.RandomSample() - 1);
        return values;
    }

    /// <summary>The shape's label.</summary>
    public string ShapeName { get; }

    /// <summary>M, rows of C.</summary>
    public int M { get; }

    /// <summary>N, columns of C.</summary>
    public int N { get; }

    /// <summary>K, the reduction length.</summary>
    public int K { get; }

    /// <summary>Whether A is stored K×M.</summary>
    public bool TransposeA { get; }

    /// <summary>Whether B is stored N×K.</summary>
    public bool TransposeB { get; }

    /// <summary>What is applied to C.</summary>
    public GemmEpilogue Epilogue { get; }

    /// <summary>The SIMD path the product runs on.</summary>
    public SimdPath Path => _path ?? Gemm.Path;

    /// <inheritdoc/>
    public string Name => "gemm";

    /// <inheritdoc/>
    public string Description => $"{ShapeName} {M}×{N}×{K}" + (Epilogue == GemmEpilogue.None ? "" : $" + {Epilogue}");

    /// <inheritdoc/>
    public int SamplesPerStep => 0;

    /// <inheritdoc/>
    public double FlopsPerStep => 2.0 * M * N * K;

    /// <inheritdoc/>
    public void Step()
    {
        if (_path is { } path)
            Gemm.Multiply<T>(path, TransposeA, TransposeB, M, N, K, _a, _b, _c, Epilogue, _bias);
        else
            Gemm.Multiply<T>(TransposeA, TransposeB, M, N, K, _a, _b, _c, Epilogue, _bias);
    }
}
