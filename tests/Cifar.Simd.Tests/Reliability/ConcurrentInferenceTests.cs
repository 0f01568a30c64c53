using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using Cifar.Simd.Models;
using Cifar.Simd.Optim;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;

namespace Cifar.Simd.Tests.Reliability;

/// <summary>
/// Many threads predicting with one trained model get bitwise the serial results. Inputs are sized so the first
/// layer's GEMM is large enough to want the worker pool: callers that find it busy run alone, which must not
/// change a bit either.
/// </summary>
public class ConcurrentInferenceTests
{
    private const int D = 512, C = 10;

    private delegate void PredictInto<T>(Tensor<T> x, Span<int> predictions) where T : unmanaged, IFloatingPointIeee754<T>;

    // One model's inference entry points, so both nets run through the same check.
    private sealed record Inference<T>(IClassifier<T> Model, Func<Tensor<T>, int[]> Predict, PredictInto<T> PredictInto, Func<Tensor<T>, Tensor<T>> Loss)
        where T : unmanaged, IFloatingPointIeee754<T>;

    [Fact]
    public void TwoLayerNet_Float() => PredictConcurrently(TwoLayer<float>(), 8);

    // More callers than the scratch pool keeps: the extra buffers must be just as private.
    [Fact]
    public void TwoLayerNet_Float_MoreCallersThanThePoolKeeps() =>
        PredictConcurrently(TwoLayer<float>(), new ScratchPool<object>(() => new object()).Capacity + 4);

    [Fact]
    public void TwoLayerNet_Double() => PredictConcurrently(TwoLayer<double>(), 8);

    [Fact]
    public void FullyConnectedNet_BatchnormDropout_Float() => PredictConcurrently(FullyConnected<float>(Normalization.Batchnorm), 8);

    [Theory]
    [InlineData(Normalization.Batchnorm)]
    [InlineData(Normalization.Layernorm)]
    public void FullyConnectedNet_Dropout_Double(Normalization norm) => PredictConcurrently(FullyConnected<double>(norm), 8);

    private static Inference<T> TwoLayer<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var net = new TwoLayerNet<T>(D, 64, C, std: 1e-2, seed: 3) { Reg = 1e-3 };
        Train(net, new Sgd<T>(1e-1));
        return new Inference<T>(net, net.Predict, net.Predict, net.Loss);
    }

    private static Inference<T> FullyConnected<T>(Normalization norm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var net = new FullyConnectedNet<T>([64, 48], D, C, dropoutKeepRatio: 0.5, normalization: norm, reg: 1e-3, weightScale: 5e-2, seed: 3);
        Train(net, new Adam<T>(1e-3));
        // Trained batchnorm statistics differ from their zero/one start, so test mode really reads them.
        if (norm == Normalization.Batchnorm) Assert.Contains(net.BnParams[0].RunningMean!.ToArray(), v => v != T.Zero);
        return new Inference<T>(net, net.Predict, net.Predict, net.Loss);
    }

    // A few training steps, so the model is a trained one rather than its initialization.
    private static void Train<T>(IClassifier<T> model, UpdateRule<T> rule) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, y) = SyntheticData.Blobs<T>(64, D, C, seed: 4);
        for (int i = 0; i < 5; i++)
        {
            model.Loss(x, y);
            rule.Update(model.Parameters.Values.AsSpan(), model.Parameters.Gradients.AsReadOnlySpan());
        }
    }

    private static void PredictConcurrently<T>(Inference<T> inference, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 1 row, partial chunks, exactly one chunk, and one over a chunk boundary.
        int chunk = TwoLayerNet<T>.InferenceChunk;
        Assert.Equal(FullyConnectedNet<T>.InferenceChunk, chunk);
        int[] sizes = [1, 37, 300, chunk, chunk + 76];
        var inputs = sizes.Select((n, i) => SyntheticData.Blobs<T>(n, D, C, seed: 10 + (uint)i).X).ToArray();
        var expectedScores = inputs.Select(x => inference.Loss(x).ToArray()).ToArray();
        var expectedPredictions = inputs.Select(x => inference.Predict(x)).ToArray();
        for (int i = 0; i < inputs.Length; i++) Assert.Equal(expectedPredictions[i], ArgMaxRows(expectedScores[i], C));

        const int rounds = 6;
        var failures = new ConcurrentQueue<string>();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (int round = 0; round < rounds; round++)
                {
                    // Half the threads share one input each round, the others spread over the rest.
                    int i = t % 2 == 0 ? round % inputs.Length : (t + round) % inputs.Length;
                    var x = inputs[i];
                    var scores = Tensor<T>.Uninitialized(x.Rows, C);
                    inference.Model.Scores(x, scores);
                    if (!Bitwise(scores.AsReadOnlySpan(), expectedScores[i])) failures.Enqueue($"thread {t} round {round}: Scores differ on input {i}");
                    var predictions = new int[x.Rows];
                    inference.PredictInto(x, predictions);
                    if (!predictions.AsSpan().SequenceEqual(expectedPredictions[i])) failures.Enqueue($"thread {t} round {round}: Predict(x, span) differs on input {i}");
                    if (!inference.Predict(x).AsSpan().SequenceEqual(expectedPredictions[i])) failures.Enqueue($"thread {t} round {round}: Predict(x) differs on input {i}");
                    if (!Bitwise(inference.Loss(x).AsReadOnlySpan(), expectedScores[i])) failures.Enqueue($"thread {t} round {round}: Loss(x) differs on input {i}");
                }
            }
            catch (Exception e)
            {
                failures.Enqueue($"thread {t}: {e}");
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        Assert.Empty(failures);
    }

    private static bool Bitwise<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected) where T : unmanaged =>
        MemoryMarshal.AsBytes(actual).SequenceEqual(MemoryMarshal.AsBytes(expected));

    private static int[] ArgMaxRows<T>(T[] scores, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new int[scores.Length / c];
        Simd.Kernels.ArgMax.Rows<T>(scores, result.Length, c, result);
        return result;
    }
}
