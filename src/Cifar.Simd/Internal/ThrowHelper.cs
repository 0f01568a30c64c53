using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Cifar.Simd.Tensors;

namespace Cifar.Simd;

/// <summary>Throws the library's argument exceptions; messages name the bad value and what was expected.</summary>
[StackTraceHidden]
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Argument(string message, string? paramName = null) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void OutOfRange(string paramName, object? actual, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actual, message);

    /// <summary>Checks that a span holds at least <paramref name="needed"/> elements for the named operand.</summary>
    public static void CheckLength(int actual, long needed, string operand, string what)
    {
        if (actual < needed)
            Argument($"{operand} has {actual} elements but {what} needs {needed}.", operand);
    }

    /// <summary>
    /// The same check with an interpolated description that is formatted only when the check fails,
    /// so a kernel that passes its checks allocates nothing.
    /// </summary>
    public static void CheckLength(int actual, long needed, string operand,
        [InterpolatedStringHandlerArgument(nameof(actual), nameof(needed))] ref LengthCheckMessage what)
    {
        if (actual < needed)
            Argument($"{operand} has {actual} elements but {what.ToStringAndClear()} needs {needed}.", operand);
    }

    /// <summary>Checks two shapes are equal, naming both when they are not.</summary>
    public static void CheckSameShape(Shape expected, Shape actual, string expectedName, string actualName)
    {
        if (expected != actual)
            Argument($"Shape mismatch: {actualName} has shape {actual} but {expectedName} has shape {expected}.", actualName);
    }

    /// <summary>Rejects an empty batch.</summary>
    public static void CheckNonEmptyBatch(int n, string operand)
    {
        if (n <= 0)
            Argument($"{operand} is an empty batch (N = {n}); a batch needs at least one sample.", operand);
    }

    /// <summary>Checks a class label is in [0, C).</summary>
    public static void CheckLabel(int label, int index, int numClasses, string operand)
    {
        if ((uint)label >= (uint)numClasses)
            Argument($"{operand}[{index}] = {label} is not a class label in [0, {numClasses}) (C = {numClasses}).", operand);
    }
}

/// <summary>
/// The description argument of <see cref="ThrowHelper.CheckLength(int, long, string, ref LengthCheckMessage)"/>:
/// the compiler skips every formatting call when the length suffices, so passing checks build no string.
/// </summary>
[InterpolatedStringHandler]
internal ref struct LengthCheckMessage
{
    private DefaultInterpolatedStringHandler _inner;

    /// <summary>Starts a message only when <paramref name="actual"/> &lt; <paramref name="needed"/>.</summary>
    public LengthCheckMessage(int literalLength, int formattedCount, int actual, long needed, out bool shouldAppend)
    {
        shouldAppend = actual < needed;
        _inner = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    /// <summary>Appends literal text.</summary>
    public void AppendLiteral(string value) => _inner.AppendLiteral(value);

    /// <summary>Appends a formatted value.</summary>
    public void AppendFormatted<TValue>(TValue value) => _inner.AppendFormatted(value);

    /// <summary>Appends a formatted value with a format string.</summary>
    public void AppendFormatted<TValue>(TValue value, string? format) => _inner.AppendFormatted(value, format);

    /// <summary>The message built so far.</summary>
    public string ToStringAndClear() => _inner.ToStringAndClear();
}
