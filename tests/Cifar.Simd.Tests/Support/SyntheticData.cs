using System.Numerics;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Support;

/// <summary>Learnable synthetic classification data in either element type, for the concurrency and soak tests.</summary>
internal static class SyntheticData
{
    /// <summary>
    /// Gaussian clusters: row i (D features) is its class's mean plus unit noise, the class drawn uniformly from
    /// [0, C). Means are drawn with norm about 3, so classes overlap a little and a net has something to learn.
    /// </summary>
    public static (Tensor<T> X, int[] Y) Blobs<T>(int n, int d, int c, uint seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new NumpyRandom(seed);
        var means = new double[c * d];
        rng.Randn(means, 3.0 / Math.Sqrt(d));
        var y = new int[n];
        var x = Tensor<T>.Uninitialized(n, d);
        for (int i = 0; i < n; i++)
        {
            y[i] = (int)rng.RandInt(0, c);
            Span<T> row = x.Row(i);
            ReadOnlySpan<double> mean = means.AsSpan(y[i] * d, d);
            for (int j = 0; j < d; j++) row[j] = T.CreateChecked(mean[j] + rng.StandardNormal());
        }
        return (x, y);
    }

    /// <summary>A train/validation split of <see cref="Blobs{T}"/>.</summary>
    public static (Tensor<T> XTrain, int[] YTrain, Tensor<T> XVal, int[] YVal) Split<T>(int nTrain, int nVal, int d, int c, uint seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, y) = Blobs<T>(nTrain + nVal, d, c, seed);
        return (x.Slice(0, nTrain), y[..nTrain], x.Slice(nTrain, nVal), y[nTrain..]);
    }
}
