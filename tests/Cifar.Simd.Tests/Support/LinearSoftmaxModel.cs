using Cifar.Simd.Kernels;
using Cifar.Simd.Models;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Support;

/// <summary>A linear softmax classifier written plainly, to test the Solver apart from the real models.</summary>
internal sealed class LinearSoftmaxModel : IClassifier<double>
{
    public LinearSoftmaxModel(int d, int c, uint seed, double weightScale = 1e-2)
    {
        InputSize = d;
        NumClasses = c;
        Random = new NumpyRandom(seed);
        Parameters = new ParameterSet<double>([("W", new Shape(d, c)), ("b", new Shape(c))]);
        Random.Randn(Parameters["W"].AsSpan(), weightScale);
    }

    public ParameterSet<double> Parameters { get; }
    public NumpyRandom Random { get; }
    public int InputSize { get; }
    public int NumClasses { get; }

    public void Scores(Tensor<double> x, Tensor<double> scores) =>
        Gemm.Multiply<double>(false, false, x.Rows, NumClasses, InputSize, x.AsReadOnlySpan(), Parameters["W"].AsReadOnlySpan(),
            scores.AsSpan(), GemmEpilogue.Bias, Parameters["b"].AsReadOnlySpan());

    public double Loss(Tensor<double> x, ReadOnlySpan<int> y)
    {
        int n = x.Rows, c = NumClasses;
        var scores = new Tensor<double>(n, c);
        Scores(x, scores);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            var row = scores.Row(i);
            double max = row.ToArray().Max(), sum = 0;
            for (int j = 0; j < c; j++) sum += Math.Exp(row[j] - max);
            loss += Math.Log(sum) - (row[y[i]] - max);
            for (int j = 0; j < c; j++) row[j] = (Math.Exp(row[j] - max) / sum - (j == y[i] ? 1 : 0)) / n;
        }
        var dW = Parameters.Gradient("W");
        var db = Parameters.Gradient("b");
        Gemm.Multiply<double>(true, false, InputSize, c, n, x.AsReadOnlySpan(), scores.AsReadOnlySpan(), dW.AsSpan());
        db.Fill(0);
        for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) db[j] += scores[i, j];
        return loss / n;
    }

    /// <summary>Separable data: labels are the argmax of a random linear map of Gaussian inputs.</summary>
    public static (Tensor<double> X, int[] Y) Blobs(int n, int d, int c, uint seed)
    {
        var rng = new NumpyRandom(seed);
        var w = new double[d * c];
        rng.Randn(w);
        var x = new Tensor<double>(n, d);
        rng.Randn(x.AsSpan());
        var y = new int[n];
        var scores = new double[n * c];
        Gemm.Multiply<double>(false, false, n, c, d, x.AsReadOnlySpan(), w, scores);
        ArgMax.Rows<double>(scores, n, c, y);
        return (x, y);
    }
}
