using Cifar.Simd.IO;
using Cifar.Simd.Models;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.Models;

public class ModelFileTests
{
    private static Tensor<float> Inputs(int n, int d)
    {
        var x = new Tensor<float>(n, d);
        new NumpyRandom(3).Randn(x.AsSpan(), 1.0);
        return x;
    }

    [Fact]
    public void SavedModels_LoadWithIdenticalScores()
    {
        string dir = Directory.CreateTempSubdirectory("cifar-simd-model-").FullName;
        try
        {
            var x = Inputs(7, 12);
            var fc = new FullyConnectedNet<float>([9, 5], inputDim: 12, numClasses: 4, normalization: Normalization.Batchnorm, reg: 0.1, seed: 2);
            fc.Loss(x, [0, 1, 2, 3, 0, 1, 2]); // moves the running statistics off their initial values
            var two = new TwoLayerNet<float>(12, 6, 4, std: 0.1, seed: 5) { Reg = 0.25 };
            foreach (IClassifier<float> model in new IClassifier<float>[] { fc, two })
            {
                string path = Path.Combine(dir, model.GetType().Name + ".safetensors");
                ModelFile.Save(path, model);
                var loaded = ModelFile.Load<float>(path);
                Assert.Equal(model.GetType(), loaded.GetType());
                Assert.Equal(model.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
                var a = new Tensor<float>(7, 4);
                var b = new Tensor<float>(7, 4);
                model.Scores(x, a);
                loaded.Scores(x, b);
                Assert.Equal(a.ToArray(), b.ToArray());
                var asDouble = ModelFile.Load<double>(path);
                foreach (var name in model.Parameters.Names)
                    Assert.Equal(model.Parameters[name].ToArray().Select(v => (double)v), asDouble.Parameters[name].ToArray());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AFileThatIsNotAModel_IsRefusedByName()
    {
        string dir = Directory.CreateTempSubdirectory("cifar-simd-model-").FullName;
        try
        {
            string path = Path.Combine(dir, "other.safetensors");
            var file = new SafeTensorsFile();
            file.Add("W1", new Tensor<float>(2, 2));
            file.Save(path);
            var e = Assert.Throws<SafeTensorsFormatException>(() => ModelFile.Load<float>(path));
            Assert.Contains("other.safetensors", e.Message);
            Assert.Contains("format", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
