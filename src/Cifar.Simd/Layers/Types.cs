using System.Numerics;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Layers;

/// <summary>Whether a layer runs as in training (batch statistics, random dropout) or at test time.</summary>
public enum LayerMode
{
    /// <summary>Training: batchnorm uses and updates batch statistics; dropout draws a mask.</summary>
    Train,
    /// <summary>Test: batchnorm uses the running statistics; dropout is the identity.</summary>
    Test,
}

/// <summary>What <see cref="Layer.AffineForward{T}(Tensor{T}, Tensor{T}, Tensor{T})"/> keeps for the backward pass.</summary>
/// <param name="X">The input, (N, d1, …, dk).</param>
/// <param name="W">The weights, (D, M) with D = d1·…·dk.</param>
/// <param name="B">The biases, (M,).</param>
public sealed record AffineCache<T>(Tensor<T> X, Tensor<T> W, Tensor<T> B) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>The gradients of an affine layer.</summary>
/// <param name="Dx">dL/dx, the shape of x: (N, d1, …, dk).</param>
/// <param name="Dw">dL/dw = xᵀ·dout, (D, M).</param>
/// <param name="Db">dL/db = Σ_i dout[i, :], (M,).</param>
public sealed record AffineGradients<T>(Tensor<T> Dx, Tensor<T> Dw, Tensor<T> Db) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What <see cref="Layer.ReluForward{T}(Tensor{T})"/> keeps for the backward pass.</summary>
/// <param name="X">The input, any shape.</param>
public sealed record ReluCache<T>(Tensor<T> X) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What <see cref="Layer.AffineReluForward{T}(Tensor{T}, Tensor{T}, Tensor{T})"/> keeps for the backward pass.</summary>
/// <param name="X">The input, (N, d1, …, dk).</param>
/// <param name="W">The weights, (D, M).</param>
/// <param name="H">The output <c>max(0, x·w + b)</c>, (N, M); positive exactly where the ReLU passes gradient.</param>
public sealed record AffineReluCache<T>(Tensor<T> X, Tensor<T> W, Tensor<T> H) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>The gradients of a batchnorm or layernorm layer.</summary>
/// <param name="Dx">dL/dx, (N, D).</param>
/// <param name="Dgamma">dL/dgamma = Σ_i dout·xhat, (D,).</param>
/// <param name="Dbeta">dL/dbeta = Σ_i dout, (D,).</param>
public sealed record NormGradients<T>(Tensor<T> Dx, Tensor<T> Dgamma, Tensor<T> Dbeta) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What batchnorm's forward pass keeps for the backward pass.</summary>
/// <param name="Mode">The mode the forward pass ran in.</param>
/// <param name="XHat">The normalized input <c>(x − mean)·invStd</c>, (N, D).</param>
/// <param name="InvStd"><c>1 / sqrt(var + eps)</c> per feature, (D,): the batch variance in train mode, the running variance in test mode.</param>
/// <param name="Gamma">The scale, (D,).</param>
public sealed record BatchnormCache<T>(LayerMode Mode, Tensor<T> XHat, Tensor<T> InvStd, Tensor<T> Gamma) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What layernorm's forward pass keeps for the backward pass.</summary>
/// <param name="XHat">The normalized input <c>(x − mean_i)·invStd_i</c>, (N, D).</param>
/// <param name="InvStd"><c>1 / sqrt(var_i + eps)</c> per sample, (N,).</param>
/// <param name="Gamma">The scale, (D,).</param>
public sealed record LayernormCache<T>(Tensor<T> XHat, Tensor<T> InvStd, Tensor<T> Gamma) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What dropout's forward pass keeps for the backward pass.</summary>
/// <param name="Mode">The mode the forward pass ran in.</param>
/// <param name="Mask">The inverted-dropout mask <c>(u &lt; p) / p</c>, the shape of x; null in test mode.</param>
public sealed record DropoutCache<T>(LayerMode Mode, Tensor<T>? Mask) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// Batchnorm's settings and running statistics, CS231n's <c>bn_param</c> dictionary. The running
/// statistics start as zeros of length D on first use, like <c>bn_param.get('running_mean', np.zeros(D))</c>,
/// and train mode updates them as <c>running = momentum·running + (1 − momentum)·sample</c>.
/// </summary>
public sealed class BatchnormParam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Train (batch statistics) or test (running statistics). Default: train.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="LayerMode"/>.</exception>
    public LayerMode Mode
    {
        get;
        set => field = Layer.CheckMode(value);
    } = LayerMode.Train;

    /// <summary>Added to the variance before the square root; a finite number &gt; 0. Default 1e-5.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 0.</exception>
    public T Eps
    {
        get;
        set
        {
            Layer.CheckEps(value);
            field = value;
        }
    } = T.CreateChecked(1e-5);

    /// <summary>The running statistics' decay, in [0, 1] (1 keeps them, 0 replaces them with each batch's). Default 0.9.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [0, 1].</exception>
    public T Momentum
    {
        get;
        set
        {
            if (!(value >= T.Zero && value <= T.One))
                ThrowHelper.OutOfRange("momentum", value, $"Batchnorm's momentum must lie in [0, 1]; got {value}.");
            field = value;
        }
    } = T.CreateChecked(0.9);

    /// <summary>The running mean, (D,); null until the first forward pass creates it as zeros.</summary>
    public Tensor<T>? RunningMean { get; set; }

    /// <summary>The running (biased) variance, (D,); null until the first forward pass creates it as zeros.</summary>
    public Tensor<T>? RunningVar { get; set; }
}

/// <summary>
/// Dropout's settings, CS231n's <c>dropout_param</c>: <see cref="P"/> is the probability of
/// KEEPING a unit. When <see cref="Seed"/> is set, every forward pass reseeds the generator like
/// <c>np.random.seed(seed)</c>, so a seeded mask equals numpy's.
/// </summary>
public sealed class DropoutParam
{
    /// <summary>The probability of keeping each unit, in (0, 1].</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in (0, 1].</exception>
    public double P
    {
        get;
        set
        {
            Layer.CheckKeepProbability(value);
            field = value;
        }
    } = 0.5;

    /// <summary>Train (draw a mask) or test (identity). Default: train.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="LayerMode"/>.</exception>
    public LayerMode Mode
    {
        get;
        set => field = Layer.CheckMode(value);
    } = LayerMode.Train;

    /// <summary>When set, the generator is reseeded with it before each mask is drawn.</summary>
    public uint? Seed { get; set; }

    /// <summary>
    /// The generator masks are drawn from; created on first use (from <see cref="Seed"/>, or from
    /// a random seed like numpy's unseeded global state) when null.
    /// </summary>
    public NumpyRandom? Generator { get; set; }
}
