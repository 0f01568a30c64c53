using System.Numerics;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Models;

/// <summary>
/// What the <c>Solver</c> needs of a model: CS231n's <c>model.params</c> and <c>model.loss</c>,
/// with every parameter in one <see cref="ParameterSet{T}"/> and buffers owned by the model so a
/// warmed-up step allocates nothing.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public interface IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Every parameter and its gradient.</summary>
    ParameterSet<T> Parameters { get; }

    /// <summary>
    /// The model's numpy-compatible generator (weight init, dropout masks); a solver draws its
    /// minibatches from it too, so one seed reproduces numpy's single global stream.
    /// </summary>
    NumpyRandom Random { get; }

    /// <summary>
    /// Tensors the model updates while training that are not trained parameters, by name (CS231n's batchnorm
    /// <c>running_mean</c> / <c>running_var</c>, here <c>running_mean1</c>, <c>running_var1</c>, …). They are saved
    /// with the model and in checkpoints. None by default.
    /// </summary>
    IReadOnlyList<KeyValuePair<string, Tensor<T>>> Buffers => [];

    /// <summary>D, the length of one flattened input row.</summary>
    int InputSize { get; }

    /// <summary>C, the number of classes.</summary>
    int NumClasses { get; }

    /// <summary>
    /// Training-mode forward and backward on a minibatch <paramref name="x"/> (N, D) with labels
    /// <paramref name="y"/> (N,): returns the loss (data loss plus regularization) and writes every
    /// parameter's gradient into <see cref="ParameterSet{T}.Gradients"/>.
    /// </summary>
    double Loss(Tensor<T> x, ReadOnlySpan<int> y);

    /// <summary>Test-mode class scores for <paramref name="x"/> (N, D), written to <paramref name="scores"/> (N, C).</summary>
    void Scores(Tensor<T> x, Tensor<T> scores);
}
