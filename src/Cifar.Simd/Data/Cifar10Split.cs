using System.Numerics;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Data;

/// <summary>
/// CS231n's prepared data (<c>get_CIFAR10_data</c>): feature rows (N, 3072) and labels for the
/// training, validation, test and dev splits, and the training mean image that was subtracted.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class Cifar10Split<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Training rows (num_training, 3072): the first num_training training images.</summary>
    public required Tensor<T> XTrain { get; init; }

    /// <summary>Training labels, 0–9.</summary>
    public required int[] YTrain { get; init; }

    /// <summary>Validation rows (num_validation, 3072): training images [num_training, num_training + num_validation).</summary>
    public required Tensor<T> XVal { get; init; }

    /// <summary>Validation labels.</summary>
    public required int[] YVal { get; init; }

    /// <summary>Test rows (num_test, 3072): the first num_test test images.</summary>
    public required Tensor<T> XTest { get; init; }

    /// <summary>Test labels.</summary>
    public required int[] YTest { get; init; }

    /// <summary>Dev rows (num_dev, 3072): a subset of the training rows (see <see cref="Cifar10.Split{T}"/>).</summary>
    public required Tensor<T> XDev { get; init; }

    /// <summary>Dev labels.</summary>
    public required int[] YDev { get; init; }

    /// <summary>
    /// The mean of the training rows per feature (3072,), computed in double by summing rows in order;
    /// all zeros when the mean was not subtracted.
    /// </summary>
    public required Tensor<double> MeanImage { get; init; }

    /// <summary>The class names in label order.</summary>
    public required IReadOnlyList<string> LabelNames { get; init; }

    /// <summary>The feature order of every row and of <see cref="MeanImage"/>.</summary>
    public required Cifar10FeatureOrder Order { get; init; }
}
