using System.Numerics;
using System.Runtime.InteropServices;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Data;

public static partial class Cifar10
{
    /// <summary>
    /// CS231n's <c>get_CIFAR10_data</c>: validation = training images [numTraining, numTraining + numValidation),
    /// train = the first <paramref name="numTraining"/>, test = the first <paramref name="numTest"/> test images,
    /// dev = <paramref name="numDev"/> training rows; then (when <paramref name="subtractMean"/>) the mean image of
    /// the training split, computed in double by summing rows in order, is subtracted from every split. Each value
    /// is <c>pixel − mean</c> in double, rounded once to <typeparamref name="T"/>.
    /// </summary>
    /// <param name="data">The raw set from <see cref="Load"/>.</param>
    /// <param name="numTraining">Training rows, 0 ≤ numTraining ≤ TrainCount (≥ 1 when subtracting the mean).</param>
    /// <param name="numValidation">Validation rows, 0 ≤ numValidation ≤ TrainCount − numTraining.</param>
    /// <param name="numTest">Test rows, 0 ≤ numTest ≤ TestCount.</param>
    /// <param name="numDev">Dev rows, 0 ≤ numDev ≤ numTraining.</param>
    /// <param name="subtractMean">Subtract the training mean image from every split.</param>
    /// <param name="devSeed">
    /// <see langword="null"/>: dev is the first <paramref name="numDev"/> training rows. Otherwise dev is
    /// <paramref name="numDev"/> distinct training rows drawn by a partial Fisher–Yates shuffle driven by
    /// SplitMix64 seeded with this value — deterministic, but not numpy's <c>np.random.choice</c> stream.
    /// </param>
    /// <param name="order">The feature order of the rows.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is outside its range (the message names the value and the range).</exception>
    public static Cifar10Split<T> Split<T>(
        Cifar10RawSet data,
        int numTraining = 49_000,
        int numValidation = 1_000,
        int numTest = 1_000,
        int numDev = 0,
        bool subtractMean = true,
        ulong? devSeed = null,
        Cifar10FeatureOrder order = Cifar10FeatureOrder.HeightWidthChannel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckOrder(order);
        int trainCount = data.TrainCount;
        if ((uint)numTraining > (uint)trainCount || (subtractMean && numTraining == 0))
            ThrowHelper.OutOfRange(nameof(numTraining), numTraining, $"numTraining must be in [{(subtractMean ? 1 : 0)}, {trainCount}] (the training images{(subtractMean ? "; the mean needs at least one" : "")}).");
        if ((uint)numValidation > (uint)(trainCount - numTraining))
            ThrowHelper.OutOfRange(nameof(numValidation), numValidation, $"numValidation must be in [0, {trainCount - numTraining}] (the training images after the first {numTraining}).");
        if ((uint)numTest > (uint)data.TestCount)
            ThrowHelper.OutOfRange(nameof(numTest), numTest, $"numTest must be in [0, {data.TestCount}] (the test images).");
        if ((uint)numDev > (uint)numTraining)
            ThrowHelper.OutOfRange(nameof(numDev), numDev, $"numDev must be in [0, {numTraining}] (a subset of the training split).");

        var mean = new double[Features];
        if (subtractMean) TrainMean(data.Train.Images.AsSpan(0, numTraining * Features), numTraining, order, mean);
        ReadOnlySpan<double> m = subtractMean ? mean : ReadOnlySpan<double>.Empty;

        var trainImages = data.Train.Images;
        int[] devRows = DevRows(numTraining, numDev, devSeed);
        var xDev = Tensor<T>.Uninitialized(numDev, Features);
        var yDev = new int[numDev];
        for (int i = 0; i < numDev; i++)
        {
            DecodeTo(trainImages.AsSpan(devRows[i] * Features, Features), xDev.Row(i), order, m);
            yDev[i] = data.Train.Labels[devRows[i]];
        }

        return new Cifar10Split<T>
        {
            XTrain = DecodeRows<T>(trainImages, 0, numTraining, order, m),
            YTrain = Labels(data.Train.Labels, 0, numTraining),
            XVal = DecodeRows<T>(trainImages, numTraining, numValidation, order, m),
            YVal = Labels(data.Train.Labels, numTraining, numValidation),
            XTest = DecodeRows<T>(data.Test.Images, 0, numTest, order, m),
            YTest = Labels(data.Test.Labels, 0, numTest),
            XDev = xDev,
            YDev = yDev,
            MeanImage = Tensor<double>.FromArray(mean),
            LabelNames = data.LabelNames,
            Order = order,
        };
    }

    private static Tensor<T> DecodeRows<T>(byte[] images, int start, int count, Cifar10FeatureOrder order, ReadOnlySpan<double> mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(count, Features);
        DecodeTo(images.AsSpan(start * Features, count * Features), result.AsSpan(), order, mean);
        return result;
    }

    private static void DecodeTo<T>(ReadOnlySpan<byte> images, Span<T> destination, Cifar10FeatureOrder order, ReadOnlySpan<double> mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) DecodeCore(images, MemoryMarshal.Cast<T, float>(destination), order, mean);
        else if (typeof(T) == typeof(double)) DecodeCore(images, MemoryMarshal.Cast<T, double>(destination), order, mean);
        else throw new NotSupportedException($"Cifar10.Split<{typeof(T).Name}> is not supported; use float or double.");
    }

    private static int[] Labels(byte[] labels, int start, int count)
    {
        var result = new int[count];
        for (int i = 0; i < count; i++) result[i] = labels[start + i];
        return result;
    }

    /// <summary>The per-feature mean of <paramref name="n"/> images in the output order: rows summed in order in double, then divided by n (numpy's <c>mean(axis=0)</c>).</summary>
    private static void TrainMean(ReadOnlySpan<byte> images, int n, Cifar10FeatureOrder order, Span<double> mean)
    {
        // Pixel sums are integers below 2^53, so a long accumulator gives exactly the double numpy sums to.
        var sums = new long[Features];
        for (int i = 0; i < n; i++)
        {
            var image = images.Slice(i * Features, Features);
            for (int k = 0; k < Features; k++) sums[k] += image[k];
        }
        for (int c = 0; c < Channels; c++)
            for (int p = 0; p < Plane; p++)
            {
                int planar = c * Plane + p;
                int k = order == Cifar10FeatureOrder.HeightWidthChannel ? p * Channels + c : planar;
                mean[k] = (double)sums[planar] / n;
            }
    }

    /// <summary>Dev row indices: the first <paramref name="numDev"/> rows, or a seeded partial Fisher–Yates sample.</summary>
    private static int[] DevRows(int numTraining, int numDev, ulong? seed)
    {
        if (seed is not ulong state)
        {
            var first = new int[numDev];
            for (int i = 0; i < numDev; i++) first[i] = i;
            return first;
        }
        var perm = new int[numTraining];
        for (int i = 0; i < numTraining; i++) perm[i] = i;
        for (int i = 0; i < numDev; i++)
        {
            // SplitMix64 is fully specified, so the sample is the same on every runtime and platform.
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            int j = i + (int)(z % (ulong)(numTraining - i));
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        return perm[..numDev];
    }
}
