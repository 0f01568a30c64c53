using Cifar.Simd.Models;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Support;

namespace Cifar.Simd.Tests.Validation;

/// <summary>Bad hyperparameters of the two nets are refused at the call, naming the parameter and the value.</summary>
public class ModelHyperparameterTests
{
    private const double NaN = double.NaN, Inf = double.PositiveInfinity;

    [Theory]
    [InlineData("hiddenDims", 0)]
    [InlineData("hiddenDims", -3)]
    [InlineData("inputDim", 0)]
    [InlineData("numClasses", -1)]
    [InlineData("dropoutKeepRatio", 0)]
    [InlineData("dropoutKeepRatio", -0.5)]
    [InlineData("dropoutKeepRatio", 1.5)]
    [InlineData("dropoutKeepRatio", NaN)]
    [InlineData("reg", -1e-3)]
    [InlineData("reg", NaN)]
    [InlineData("reg", Inf)]
    [InlineData("weightScale", -1)]
    [InlineData("weightScale", NaN)]
    [InlineData("weightScale", Inf)]
    [InlineData("normalization", 3)]
    [InlineData("Reg", -2)]
    [InlineData("Reg", NaN)]
    public void FullyConnectedNet_refuses_a_bad_value(string parameter, double value)
    {
        Action create = parameter switch
        {
            "hiddenDims" => () => _ = new FullyConnectedNet<float>([5, (int)value], inputDim: 4, numClasses: 3),
            "inputDim" => () => _ = new FullyConnectedNet<float>([5], inputDim: (int)value, numClasses: 3),
            "numClasses" => () => _ = new FullyConnectedNet<float>([5], inputDim: 4, numClasses: (int)value),
            "dropoutKeepRatio" => () => _ = new FullyConnectedNet<float>([5], inputDim: 4, numClasses: 3, dropoutKeepRatio: value),
            "reg" => () => _ = new FullyConnectedNet<float>([5], inputDim: 4, numClasses: 3, reg: value),
            "weightScale" => () => _ = new FullyConnectedNet<float>([5], inputDim: 4, numClasses: 3, weightScale: value),
            "normalization" => () => _ = new FullyConnectedNet<float>([5], inputDim: 4, numClasses: 3, normalization: (Normalization)(int)value),
            _ => () => new FullyConnectedNet<float>([5], inputDim: 4, numClasses: 3).Reg = value,
        };
        object shown = parameter is "hiddenDims" or "inputDim" or "numClasses" or "normalization" ? (int)value : value;
        RangeAssert.Throws(create, parameter, shown);
    }

    [Fact]
    public void Widths_that_need_more_parameters_than_one_buffer_holds_are_refused_before_allocating()
    {
        var e = RangeAssert.Throws(() => _ = new FullyConnectedNet<float>([100_000, 100_000]), "hiddenDims", "(3072, 100000, 100000, 10)");
        Assert.Contains("need 10,308,400,106 parameters, more than the 2,147,483,591 one buffer holds", e.Message);
        RangeAssert.Throws(() => _ = new TwoLayerNet<float>(3072, 1_000_000, 10), "hiddenSize", "(3072, 1000000, 10)");
    }

    [Theory]
    [InlineData("inputSize", 0)]
    [InlineData("hiddenSize", -1)]
    [InlineData("numClasses", 0)]
    [InlineData("std", -1e-4)]
    [InlineData("std", NaN)]
    [InlineData("std", Inf)]
    [InlineData("Reg", -0.5)]
    [InlineData("Reg", Inf)]
    [InlineData("reg", -1)]
    [InlineData("reg", NaN)]
    [InlineData("learningRate", 0)]
    [InlineData("learningRate", -1e-3)]
    [InlineData("learningRate", NaN)]
    [InlineData("learningRate", Inf)]
    [InlineData("learningRateDecay", 0)]
    [InlineData("learningRateDecay", 1.01)]
    [InlineData("learningRateDecay", NaN)]
    [InlineData("numIters", -1)]
    [InlineData("batchSize", 0)]
    public void TwoLayerNet_refuses_a_bad_value(string parameter, double value)
    {
        var net = new TwoLayerNet<double>(4, 5, 3);
        var x = Tensor<double>.Zeros(6, 4);
        int[] y = [0, 1, 2, 0, 1, 2];
        Action act = parameter switch
        {
            "inputSize" => () => _ = new TwoLayerNet<double>((int)value, 5, 3),
            "hiddenSize" => () => _ = new TwoLayerNet<double>(4, (int)value, 3),
            "numClasses" => () => _ = new TwoLayerNet<double>(4, 5, (int)value),
            "std" => () => _ = new TwoLayerNet<double>(4, 5, 3, std: value),
            "Reg" => () => net.Reg = value,
            // The reg of Loss(x, y, reg) when called directly, and Train's own reg, share the name.
            "reg" => () => net.Loss(x, y, value),
            "learningRate" => () => net.Train(x, y, x, y, learningRate: value),
            "learningRateDecay" => () => net.Train(x, y, x, y, learningRateDecay: value),
            "numIters" => () => net.Train(x, y, x, y, numIters: (int)value),
            _ => () => net.Train(x, y, x, y, batchSize: (int)value),
        };
        object shown = parameter is "inputSize" or "hiddenSize" or "numClasses" or "numIters" or "batchSize" ? (int)value : value;
        RangeAssert.Throws(act, parameter, shown);
        if (parameter == "reg") RangeAssert.Throws(() => net.Train(x, y, x, y, reg: value), "reg", value);
    }
}
