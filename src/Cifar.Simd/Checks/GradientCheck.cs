using Cifar.Simd.Tensors;

namespace Cifar.Simd.Checks;

/// <summary>
/// Numerical gradient checks from CS231n's <c>gradient_check.py</c>, in double: centred differences
/// <c>(f(x + h) − f(x − h)) / 2h</c>, evaluated one coordinate at a time with x changed in place and restored.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// The numerical gradient of a scalar function, <c>grad[i] = (f(x + h·e_i) − f(x − h·e_i)) / 2h</c>
    /// (<c>eval_numerical_gradient</c>). x: (K,) is modified during the call and restored; returns (K,).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">h is not a finite number &gt; 0.</exception>
    public static double[] EvalNumericalGradient(Func<double[], double> f, double[] x, double h = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var grad = new double[x.Length];
        Centred(x.Length, i => x[i], (i, v) => x[i] = v, () => f(x), h, grad);
        return grad;
    }

    /// <summary>
    /// The numerical gradient of a scalar function of a tensor (<c>eval_numerical_gradient</c>):
    /// <c>grad[i] = (f(x + h·e_i) − f(x − h·e_i)) / 2h</c>. x is modified during the call and restored; returns the shape of x.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">h is not a finite number &gt; 0.</exception>
    public static Tensor<double> EvalNumericalGradient(Func<Tensor<double>, double> f, Tensor<double> x, double h = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var grad = Tensor<double>.Zeros(x.Shape.ToArray());
        Centred(x.Length, i => x[i], (i, v) => x[i] = v, () => f(x), h, grad.AsSpan());
        return grad;
    }

    /// <summary>
    /// The numerical gradient of an array function contracted with the upstream gradient df,
    /// <c>grad[i] = Σ_k (f(x + h·e_i)[k] − f(x − h·e_i)[k])·df[k] / 2h</c> (<c>eval_numerical_gradient_array</c>).
    /// x: (K,) is modified during the call and restored; df: the length of f's output; returns (K,).
    /// </summary>
    /// <exception cref="ArgumentException">f's output length differs from df's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">h is not a finite number &gt; 0.</exception>
    public static double[] EvalNumericalGradientArray(Func<double[], double[]> f, double[] x, double[] df, double h = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(df);
        var grad = new double[x.Length];
        CentredContracted(x.Length, i => x[i], (i, v) => x[i] = v, () => f(x), df, $"({df.Length},)", h, grad);
        return grad;
    }

    /// <summary>
    /// The numerical gradient of a tensor function contracted with df (<c>eval_numerical_gradient_array</c>).
    /// x is modified during the call and restored; df: f's output shape; returns the shape of x.
    /// </summary>
    /// <exception cref="ArgumentException">f's output length differs from df's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">h is not a finite number &gt; 0.</exception>
    public static Tensor<double> EvalNumericalGradientArray(Func<Tensor<double>, Tensor<double>> f, Tensor<double> x, Tensor<double> df, double h = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(df);
        var grad = Tensor<double>.Zeros(x.Shape.ToArray());
        CentredContracted(x.Length, i => x[i], (i, v) => x[i] = v, () => f(x).ToArray(), df.ToArray(), df.Shape.ToString(), h, grad.AsSpan());
        return grad;
    }

    // The one centred-difference loop: shift x[i] by ±h through get/set, evaluate, restore.
    private static void Centred(int length, Func<int, double> get, Action<int, double> set, Func<double> f, double h, Span<double> grad)
    {
        CheckStep(h);
        for (int i = 0; i < length; i++)
        {
            double old = get(i);
            set(i, old + h);
            double pos = f();
            set(i, old - h);
            double neg = f();
            set(i, old);
            grad[i] = (pos - neg) / (2 * h);
        }
    }

    private static void CentredContracted(int length, Func<int, double> get, Action<int, double> set, Func<double[]> f,
        double[] df, string dfShape, double h, Span<double> grad)
    {
        CheckStep(h);
        for (int i = 0; i < length; i++)
        {
            double old = get(i);
            set(i, old + h);
            double[] pos = (double[])f().Clone(); // f may return the same buffer each call
            set(i, old - h);
            double[] neg = f();
            set(i, old);
            if (pos.Length != df.Length || neg.Length != df.Length)
                ThrowHelper.Argument($"f returned {pos.Length} values but df has shape {dfShape}.", "df");
            double sum = 0;
            for (int k = 0; k < df.Length; k++)
                sum += (pos[k] - neg[k]) * df[k];
            grad[i] = sum / (2 * h);
        }
    }

    private static void CheckStep(double h)
    {
        if (!(h > 0) || !double.IsFinite(h))
            ThrowHelper.OutOfRange(nameof(h), h, $"The finite-difference step h must be a finite number > 0; got {h}.");
    }

    /// <summary>
    /// CS231n's <c>rel_error</c>: <c>max_i |x_i − y_i| / max(1e-8, |x_i| + |y_i|)</c>. x, y: same length; 0 when empty.
    /// A NaN anywhere gives NaN.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double RelError(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
            ThrowHelper.Argument($"Shape mismatch: x has shape ({x.Length},) but y has shape ({y.Length},).", nameof(y));
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Abs(x[i] - y[i]) / Math.Max(1e-8, Math.Abs(x[i]) + Math.Abs(y[i]));
            if (double.IsNaN(e)) return double.NaN;
            worst = Math.Max(worst, e);
        }
        return worst;
    }

    /// <summary><c>rel_error</c> of two tensors of the same shape: <c>max |x − y| / max(1e-8, |x| + |y|)</c>.</summary>
    /// <exception cref="ArgumentException">The shapes differ; the message names both.</exception>
    public static double RelError(Tensor<double> x, Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ThrowHelper.CheckSameShape(x.Shape, y.Shape, nameof(x), nameof(y));
        return RelError(x.AsReadOnlySpan(), y.AsReadOnlySpan());
    }
}
