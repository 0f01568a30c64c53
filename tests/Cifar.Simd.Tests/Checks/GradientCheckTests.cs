using Cifar.Simd.Checks;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Checks;

public class GradientCheckTests
{
    [Fact]
    public void EvalNumericalGradient_OfQuadratic_IsExactUpToRoundoff_AndRestoresX()
    {
        double[] x = [1.5, -2, 0.25];
        var before = (double[])x.Clone();
        // f = Σ x_i² + x_0·x_1 → ∇f = 2x + (x_1, x_0, 0)
        var grad = GradientCheck.EvalNumericalGradient(v => v.Sum(t => t * t) + v[0] * v[1], x);
        double[] expected = [2 * 1.5 - 2, 2 * -2 + 1.5, 0.5];
        Assert.True(GradientCheck.RelError(grad, expected) < 1e-9);
        Assert.Equal(before, x);

        var xt = Tensor<double>.FromArray(before, 3, 1);
        var gt = GradientCheck.EvalNumericalGradient(t => t[0] * t[0] + t[1] * t[1] + t[2] * t[2] + t[0] * t[1], xt);
        Assert.Equal(new Shape(3, 1), gt.Shape);
        Assert.True(GradientCheck.RelError(gt.AsReadOnlySpan(), expected) < 1e-9);
        Assert.Equal(before, xt.ToArray());
    }

    [Fact]
    public void EvalNumericalGradientArray_ContractsWithDf_AndRestoresX()
    {
        double[] x = [0.3, -0.7, 1.1, 2.0];
        var before = (double[])x.Clone();
        double[] df = [1, -2, 0.5, 3];
        // f(x) = x³ elementwise → grad = 3x²·df
        var grad = GradientCheck.EvalNumericalGradientArray(v => v.Select(t => t * t * t).ToArray(), x, df);
        var expected = x.Select((t, i) => 3 * t * t * df[i]).ToArray();
        Assert.True(GradientCheck.RelError(grad, expected) < 1e-9);
        Assert.Equal(before, x);

        var xt = Tensor<double>.FromArray(x, 2, 2);
        var gt = GradientCheck.EvalNumericalGradientArray(t =>
        {
            var o = Tensor<double>.Zeros(2, 2);
            for (int i = 0; i < 4; i++) o[i] = t[i] * t[i] * t[i];
            return o;
        }, xt, Tensor<double>.FromArray(df, 2, 2));
        Assert.Equal(new Shape(2, 2), gt.Shape);
        Assert.True(GradientCheck.RelError(gt.AsReadOnlySpan(), expected) < 1e-9);
        Assert.Equal(before, xt.ToArray());
    }

    [Fact]
    public void RelError_IsCs231nFormula()
    {
        Assert.Equal(0, GradientCheck.RelError([1, 2], [1, 2]));
        Assert.Equal(1.0 / 3, GradientCheck.RelError([1, 2], [1, 1]), 1e-15);
        // The 1e-8 floor: both ~0 gives |x − y| / 1e-8.
        Assert.Equal(1e-2, GradientCheck.RelError([1e-10], [0]), 1e-12);
        Assert.Equal(0, GradientCheck.RelError([], []));
        Assert.True(double.IsNaN(GradientCheck.RelError([double.NaN], [1])));
        var e = Assert.Throws<ArgumentException>(() => GradientCheck.RelError([1, 2], [1]));
        Assert.Contains("(2,)", e.Message);
        Assert.Contains("(1,)", e.Message);
        var t = Assert.Throws<ArgumentException>(() => GradientCheck.RelError(Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(3, 2)));
        Assert.Contains("(2, 3)", t.Message);
        Assert.Contains("(3, 2)", t.Message);
    }

    [Fact]
    public void EvalNumericalGradientArray_MismatchedDf_Throws()
    {
        Assert.Throws<ArgumentException>(() => GradientCheck.EvalNumericalGradientArray(v => v, [1.0, 2.0], [1.0]));
    }
}
