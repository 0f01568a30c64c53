using BenchmarkDotNet.Attributes;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tensors;
using Cifar.Simd.Training;

namespace Cifar.Simd.Bench;

/// <summary>
/// One training iteration of assignment 1's two-layer net, float32: a minibatch of 200 random rows
/// gathered from a preallocated synthetic 49,000×3072 training set, loss and gradients, one SGD
/// update — what <c>TwoLayerNet.Train</c> does per iteration (<see cref="TwoLayerStepWorkload{T}"/>).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(ThroughputConfig))]
public class TwoLayerStepBenchmarks : IThroughputBenchmark
{
    private TwoLayerStepWorkload<float> _step = null!;

    /// <summary>Minibatch size.</summary>
    public const int Batch = 200;

    /// <summary>Hidden units H.</summary>
    [Params(100, 500)]
    public int Hidden { get; set; }

    /// <summary>Worker threads (<see cref="Parallelism.ThreadCount"/>).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <inheritdoc/>
    public bool IsDouble => false;

    /// <inheritdoc/>
    public double SamplesPerInvocation => Batch;

    /// <inheritdoc/>
    public double FlopsPerInvocation => TwoLayerStepWorkload<float>.StepFlops(SyntheticCifar.Features, Hidden, SyntheticCifar.Classes, Batch);

    /// <summary>Allocates the training set (touching every page once) and the model.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Parallelism.ThreadCount = Threads;
        var (x, y) = Data.Train;
        _step = new TwoLayerStepWorkload<float>(x, y, Hidden, Batch);
    }

    /// <summary>Gather, forward, backward, SGD update.</summary>
    [Benchmark]
    public void TrainStep() => _step.Step();
}

/// <summary>
/// One Solver iteration of assignment 2's <c>FullyConnectedNet</c>, float32: five hidden layers of
/// 100 with batchnorm and dropout (keep 0.5), Adam, batch 100 (<see cref="FcStepWorkload{T}"/>).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(ThroughputConfig))]
public class FcStepBenchmarks : IThroughputBenchmark
{
    private FcStepWorkload<float> _step = null!;
    private static readonly int[] HiddenDims = [100, 100, 100, 100, 100];

    /// <summary>Minibatch size (the Solver's default).</summary>
    public const int Batch = 100;

    /// <summary>Worker threads (<see cref="Parallelism.ThreadCount"/>).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <inheritdoc/>
    public bool IsDouble => false;

    /// <inheritdoc/>
    public double SamplesPerInvocation => Batch;

    /// <inheritdoc/>
    public double FlopsPerInvocation => FcStepWorkload<float>.StepFlops([SyntheticCifar.Features, .. HiddenDims, SyntheticCifar.Classes], Batch);

    /// <summary>Allocates the training set and the model.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Parallelism.ThreadCount = Threads;
        var (x, y) = Data.Train;
        _step = new FcStepWorkload<float>(x, y, HiddenDims, Batch);
    }

    /// <summary>Gather, batchnorm/dropout forward, backward, Adam update.</summary>
    [Benchmark]
    public void TrainStep() => _step.Step();
}

/// <summary>
/// <c>TwoLayerNet.Predict</c> on 10,000 synthetic images through 3072-500-10, float32
/// (<see cref="InferenceWorkload{T}"/>).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(ThroughputConfig))]
public class InferenceBenchmarks : IThroughputBenchmark
{
    private InferenceWorkload<float> _predict = null!;

    /// <summary>Images per call.</summary>
    public const int Images = 10_000;

    /// <summary>Hidden units H.</summary>
    public const int Hidden = 500;

    /// <summary>Worker threads (<see cref="Parallelism.ThreadCount"/>).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <inheritdoc/>
    public bool IsDouble => false;

    /// <inheritdoc/>
    public double SamplesPerInvocation => Images;

    /// <inheritdoc/>
    public double FlopsPerInvocation => InferenceWorkload<float>.StepFlops(SyntheticCifar.Features, Hidden, SyntheticCifar.Classes, Images);

    /// <summary>Allocates the images and the model.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Parallelism.ThreadCount = Threads;
        _predict = new InferenceWorkload<float>(SyntheticCifar.Create<float>(Images, seed: 1).X, Hidden);
    }

    /// <summary>Scores and argmax of every image.</summary>
    [Benchmark]
    public void Predict() => _predict.Step();
}

/// <summary>The synthetic training set, created once per benchmark process.</summary>
internal static class Data
{
    private static (Tensor<float> X, int[] Y)? s_train;

    /// <summary>49,000 × 3072 float32 images and their labels.</summary>
    public static (Tensor<float> X, int[] Y) Train => s_train ??= SyntheticCifar.Create<float>(SyntheticCifar.TrainRows);
}
