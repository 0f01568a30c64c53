using Cifar.Simd.Optim;
using Cifar.Simd.Tests.Support;

namespace Cifar.Simd.Tests.Validation;

/// <summary>Bad update-rule hyperparameters are refused at construction (or assignment), naming the parameter and the value.</summary>
public class OptimHyperparameterTests
{
    private const double NaN = double.NaN, Inf = double.PositiveInfinity;

    [Theory]
    [InlineData("sgd", "learningRate", 0)]
    [InlineData("sgd", "learningRate", -1e-2)]
    [InlineData("sgd", "learningRate", NaN)]
    [InlineData("sgd", "learningRate", Inf)]
    [InlineData("sgd", "learningRate", 1e300)] // finite as a double, infinite as the float the rule updates
    [InlineData("sgd_momentum", "momentum", -0.1)]
    [InlineData("sgd_momentum", "momentum", 1)]
    [InlineData("sgd_momentum", "momentum", NaN)]
    [InlineData("rmsprop", "decayRate", 1)]
    [InlineData("rmsprop", "decayRate", -1)]
    [InlineData("rmsprop", "epsilon", 0)]
    [InlineData("rmsprop", "epsilon", -1e-8)]
    [InlineData("rmsprop", "epsilon", NaN)]
    [InlineData("rmsprop", "epsilon", 1e-50)] // positive as a double, zero as a float: 0/0 on a zero gradient
    [InlineData("adam", "beta1", 1)]
    [InlineData("adam", "beta1", -0.9)]
    [InlineData("adam", "beta2", 1.5)]
    [InlineData("adam", "beta2", NaN)]
    [InlineData("adam", "epsilon", 0)]
    [InlineData("adam", "epsilon", Inf)]
    [InlineData("adam", "TimeStep", -1)]
    [InlineData("adagrad", "epsilon", -1)]
    [InlineData("adagrad", "learningRate", -5)]
    public void Update_rules_refuse_a_bad_value(string rule, string parameter, double value)
    {
        Action create = (rule, parameter) switch
        {
            ("sgd", _) => () => _ = new Sgd<float>(value),
            ("sgd_momentum", _) => () => _ = new SgdMomentum<float>(momentum: value),
            ("rmsprop", "decayRate") => () => _ = new RmsProp<float>(decayRate: value),
            ("rmsprop", _) => () => _ = new RmsProp<float>(epsilon: value),
            ("adam", "beta1") => () => _ = new Adam<float>(beta1: value),
            ("adam", "beta2") => () => _ = new Adam<float>(beta2: value),
            ("adam", "epsilon") => () => _ = new Adam<float>(epsilon: value),
            ("adam", _) => () => _ = new Adam<float> { TimeStep = (long)value },
            ("adagrad", "epsilon") => () => _ = new AdaGrad<float>(epsilon: value),
            _ => () => new AdaGrad<float>().LearningRate = value,
        };
        RangeAssert.Throws(create, parameter, parameter == "TimeStep" ? (long)value : value);
    }

    [Fact]
    public void Values_that_only_double_can_hold_are_fine_for_double_rules_and_a_decayed_learning_rate_may_underflow_float()
    {
        Assert.Equal(1e300, new Sgd<double>(1e300).LearningRate);
        Assert.Equal(1e-50, new Adam<double>(epsilon: 1e-50).Epsilon);
        var rule = new Sgd<float>(1e-3);
        // A schedule may decay the rate below float's range; an update by zero is harmless, unlike a NaN.
        rule.LearningRate = 1e-50;
        var w = new float[] { 1, 2 };
        rule.Update(w, [3, 4]);
        Assert.Equal([1f, 2f], w);
    }
}
