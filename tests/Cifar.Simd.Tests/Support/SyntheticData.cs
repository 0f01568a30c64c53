using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Support;

/// <summary>Learnable synthetic classification data in either element type, for the concurrency and soak tests.</summary>
internal static class SyntheticData
{
    /// <summary>Gaussian rows (N, D) labelled by the argmax of a random linear map, so a net can learn them.</summary>
    public static (Tensor<T> X, int[] Y) Blobs<T>(int n, int d, int c, uint seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new NumpyRandom(seed);
        var w = new double[d * c];
        rng.Randn(w);
        var xd = new double[n * d];
        rng.Randn(xd);
        var scores = new double[n * c];
        Gemm.Multiply<double>(false, false, n, c, d, xd, w, scores);
        var y = new int[n];
        ArgMax.Rows<double>(scores, n, c, y);
        var x = Tensor<T>.Uninitialized(n, d);
        Span<T> xs = x.AsSpan();
        for (int i = 0; i < xd.Length; i++) xs[i] = T.CreateChecked(xd[i]);
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
