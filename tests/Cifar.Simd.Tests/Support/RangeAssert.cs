namespace Cifar.Simd.Tests.Support;

/// <summary>Checks the library's out-of-range convention: the exception names the parameter, and its message the bad value.</summary>
internal static class RangeAssert
{
    /// <summary>
    /// Asserts <paramref name="action"/> throws <see cref="ArgumentOutOfRangeException"/> with ParamName
    /// <paramref name="paramName"/> and <paramref name="value"/> (as the library formats it) in the message.
    /// </summary>
    public static ArgumentOutOfRangeException Throws(Action action, string paramName, object value)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(action);
        Assert.Equal(paramName, e.ParamName);
        string text = value switch { double d => $"{d}", float f => $"{f}", _ => $"{value}" };
        Assert.Contains(text, e.Message);
        return e;
    }
}
