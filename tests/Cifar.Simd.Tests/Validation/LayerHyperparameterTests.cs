using Cifar.Simd.Layers;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;

namespace Cifar.Simd.Tests.Validation;

/// <summary>Bad layer settings (dropout's p, batchnorm's and layernorm's eps and momentum, modes) are refused, naming the value.</summary>
public class LayerHyperparameterTests
{
    private const double NaN = double.NaN, Inf = double.PositiveInfinity;

    [Theory]
    [InlineData("DropoutParam.P", "p", 0)]
    [InlineData("DropoutParam.P", "p", -0.5)]
    [InlineData("DropoutParam.P", "p", 1.0001)]
    [InlineData("DropoutParam.P", "p", NaN)]
    [InlineData("DropoutForward(span)", "p", 0)]
    [InlineData("DropoutForward(uniform)", "p", 2)]
    [InlineData("DropoutParam.Mode", "mode", 2)]
    [InlineData("BatchnormParam.Eps", "eps", 0)]
    [InlineData("BatchnormParam.Eps", "eps", -1e-5)]
    [InlineData("BatchnormParam.Eps", "eps", NaN)]
    [InlineData("BatchnormParam.Eps", "eps", Inf)]
    [InlineData("BatchnormParam.Momentum", "momentum", -0.1)]
    [InlineData("BatchnormParam.Momentum", "momentum", 1.5)]
    [InlineData("BatchnormParam.Momentum", "momentum", NaN)]
    [InlineData("BatchnormParam.Mode", "mode", -1)]
    [InlineData("BatchnormForwardTrain", "eps", 0)]
    [InlineData("BatchnormForwardTest", "eps", -1)]
    [InlineData("LayernormForward", "eps", 0)]
    [InlineData("LayernormForward", "eps", NaN)]
    [InlineData("LayernormForward(span)", "eps", -1e-5)]
    public void Layers_refuse_a_bad_value(string where, string parameter, double value)
    {
        var x = Tensor<double>.Zeros(2, 3);
        var g = Tensor<double>.Zeros(3);
        var buffer = new double[6];
        var d = new double[3];
        Action act = where switch
        {
            "DropoutParam.P" => () => _ = new DropoutParam { P = value },
            "DropoutForward(span)" => () => Layer.DropoutForward<double>(buffer, new NumpyRandom(0), value, new double[6], new double[6]),
            "DropoutForward(uniform)" => () => Layer.DropoutForward<double>(buffer, buffer, value, new double[6], new double[6]),
            "DropoutParam.Mode" => () => _ = new DropoutParam { Mode = (LayerMode)(int)value },
            "BatchnormParam.Eps" => () => _ = new BatchnormParam<double> { Eps = value },
            "BatchnormParam.Momentum" => () => _ = new BatchnormParam<double> { Momentum = value },
            "BatchnormParam.Mode" => () => _ = new BatchnormParam<double> { Mode = (LayerMode)(int)value },
            "BatchnormForwardTrain" => () => Layer.BatchnormForwardTrain<double>(buffer, d, d, new double[6], new double[6], new double[3], new double[3], new double[3], 2, 3, value),
            "BatchnormForwardTest" => () => Layer.BatchnormForwardTest<double>(buffer, d, d, d, d, new double[6], new double[6], new double[3], 2, 3, value),
            "LayernormForward" => () => Layer.LayernormForward(x, g, g, value),
            _ => () => Layer.LayernormForward<double>(buffer, d, d, new double[6], new double[6], new double[2], 2, 3, value),
        };
        object shown = parameter == "mode" ? (LayerMode)(int)value : value;
        RangeAssert.Throws(act, parameter, shown);
    }
}
