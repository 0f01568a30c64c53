using System.Numerics;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Models;

/// <summary>The argument checks every classifier makes at its boundary, with messages naming shapes and labels.</summary>
internal static class ClassifierChecks
{
    /// <summary>x must be a non-empty batch of rows of <paramref name="inputSize"/> features.</summary>
    public static void Input<T>(Tensor<T> x, int inputSize, string name = "x") where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x, name);
        ThrowHelper.CheckNonEmptyBatch(x.Rows, name);
        if (x.RowLength != inputSize)
            ThrowHelper.Argument($"{name} has shape {x.Shape}, rows of {x.RowLength} features, but the model takes D = {inputSize}.", name);
    }

    /// <summary>scores must be (N, C) for an x of N rows.</summary>
    public static void Scores<T>(Tensor<T> x, Tensor<T> scores, int numClasses) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Rows != x.Rows || scores.RowLength != numClasses)
            ThrowHelper.Argument($"scores has shape {scores.Shape} but x has shape {x.Shape} and the model has C = {numClasses}; expected ({x.Rows}, {numClasses}).", nameof(scores));
    }

    /// <summary>
    /// The layer widths <paramref name="dims"/> (D, H1, …, C) must give a parameter count one buffer can hold:
    /// Σ dIn·dOut + dOut, plus gamma and beta per hidden layer when normalized.
    /// </summary>
    public static void ParameterCount(ReadOnlySpan<int> dims, bool normalized, string paramName)
    {
        // Each tensor may be padded to a 64-byte boundary: at most 16 more elements.
        const int Padding = 16;
        long total = 0;
        for (int i = 0; i + 1 < dims.Length; i++)
        {
            total += (long)dims[i] * dims[i + 1] + dims[i + 1] + 2 * Padding;
            if (normalized && i + 2 < dims.Length) total += 2L * (dims[i + 1] + Padding);
        }
        if (total > Array.MaxLength)
            ThrowHelper.OutOfRange(paramName, $"({string.Join(", ", dims.ToArray())})",
                $"Layer widths ({string.Join(", ", dims.ToArray())}) need {total:N0} parameters, more than the {Array.MaxLength:N0} one buffer holds.");
    }

    /// <summary>y must hold one label in [0, C) per row of x.</summary>
    public static void Labels<T>(Tensor<T> x, ReadOnlySpan<int> y, int numClasses, string xName = "x", string yName = "y") where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length != x.Rows)
            ThrowHelper.Argument($"{yName} has {y.Length} labels but {xName} has shape {x.Shape} ({x.Rows} rows).", yName);
        for (int i = 0; i < y.Length; i++) ThrowHelper.CheckLabel(y[i], i, numClasses, yName);
    }
}
