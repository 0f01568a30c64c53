using Cifar.Simd.Checks;
using Cifar.Simd.Models;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Validation;

/// <summary>Bad search spaces, search points and gradient-check steps are refused when given, naming the value.</summary>
public class SearchHyperparameterTests
{
    private const double NaN = double.NaN, Inf = double.PositiveInfinity;

    [Theory]
    [InlineData("LearningRates", "grid", 0)]
    [InlineData("LearningRates", "random", -1e-3)]
    [InlineData("LearningRates", "grid", NaN)]
    [InlineData("LearningRates", "random", Inf)]
    [InlineData("Regs", "grid", -1)]
    [InlineData("Regs", "grid", NaN)]
    [InlineData("Regs", "random", 0)] // a log-uniform range cannot start at 0
    [InlineData("HiddenSizes", "grid", 0)]
    [InlineData("BatchSizes", "random", -200)]
    [InlineData("count", "random", -1)]
    public void A_search_space_refuses_a_bad_value_when_the_points_are_asked_for(string parameter, string search, double value)
    {
        var space = parameter switch
        {
            "LearningRates" => new SearchSpace { LearningRates = [1e-3, value] },
            "Regs" => new SearchSpace { Regs = [1e-2, value] },
            "HiddenSizes" => new SearchSpace { HiddenSizes = [50, (int)value] },
            "BatchSizes" => new SearchSpace { BatchSizes = [(int)value] },
            _ => new SearchSpace(),
        };
        int count = parameter == "count" ? (int)value : 3;
        // No enumeration: the check happens at the call, not when the first point is drawn.
        Action act = search == "grid" ? () => space.Grid() : () => space.Random(count);
        object shown = parameter is "HiddenSizes" or "BatchSizes" or "count" ? (int)value : value;
        RangeAssert.Throws(act, parameter, shown);
    }

    [Fact]
    public void An_unknown_update_rule_and_empty_lists_are_refused_naming_them()
    {
        RangeAssert.Throws(() => new SearchSpace { UpdateRules = ["sgd", "nesterov"] }.Grid(), "UpdateRules", "nesterov");
        foreach (var space in new[] { new SearchSpace { LearningRates = [] }, new SearchSpace { Regs = [] }, new SearchSpace { HiddenSizes = [] },
                     new SearchSpace { BatchSizes = [] }, new SearchSpace { UpdateRules = [] } })
        {
            var e = Assert.Throws<ArgumentException>(() => space.Random(1));
            Assert.Contains("must list at least one value", e.Message);
        }
    }

    [Theory]
    [InlineData(-1e-3, 0.1, 10, 50, "sgd", -1e-3)]
    [InlineData(1e-3, NaN, 10, 50, "sgd", NaN)]
    [InlineData(1e-3, 0.1, 0, 50, "sgd", 0)]
    [InlineData(1e-3, 0.1, 10, -5, "sgd", -5)]
    [InlineData(1e-3, 0.1, 10, 50, "lbfgs", "lbfgs")]
    public void A_search_refuses_a_bad_point_before_its_first_trial(double lr, double reg, int hidden, int batch, string rule, object shown)
    {
        int trials = 0;
        var x = Tensor<double>.Zeros(8, 4);
        int[] y = [0, 1, 2, 0, 1, 2, 0, 1];
        var search = new HyperparameterSearch<double>(p => { trials++; return new TwoLayerNet<double>(4, p.HiddenSize, 3); }, x, y, x, y);
        SearchPoint[] points = [new(1e-3, 0.1, 10, 50, "sgd"), new(lr, reg, hidden, batch, rule)];
        RangeAssert.Throws(() => search.Run(points), "points", shown is int i ? i : shown);
        Assert.Equal(0, trials);
    }

    [Fact]
    public void A_search_over_mismatched_data_is_refused_at_construction()
    {
        var x = Tensor<double>.Zeros(8, 4);
        var e = Assert.Throws<ArgumentException>(() => new HyperparameterSearch<double>(_ => new TwoLayerNet<double>(4, 5, 3), x, new int[7], x, new int[8]));
        Assert.Equal("yTrain", e.ParamName);
        Assert.Contains("7 labels", e.Message);
        e = Assert.Throws<ArgumentException>(() => new HyperparameterSearch<double>(_ => new TwoLayerNet<double>(4, 5, 3), x, new int[8], Tensor<double>.Zeros(0, 4), []));
        Assert.Equal("xVal", e.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1e-5)]
    [InlineData(NaN)]
    [InlineData(Inf)]
    public void A_gradient_check_refuses_a_bad_step(double h)
    {
        double[] x = [1, 2];
        RangeAssert.Throws(() => GradientCheck.EvalNumericalGradient(v => v[0], x, h), "h", h);
        RangeAssert.Throws(() => GradientCheck.EvalNumericalGradientArray(v => v, x, [1, 1], h), "h", h);
    }
}
