using System.Diagnostics;
using System.Text.Json.Nodes;
using Cifar.Simd.IO;
using Cifar.Simd.Tests.Data;

namespace Cifar.Simd.Tests.Cli;

/// <summary>Runs <c>cifar-simd</c> as a user would: a real process, real files, the small python-format sample.</summary>
public class CliTests
{
    private static readonly string Sample = Path.Combine(CifarTestData.SharedFolder, "cifar-10-python-sample.tar.gz");

    private static (int Code, string Output) Run(params string[] args)
    {
        // tests/Cifar.Simd.Tests/bin/<config>/net10.0 → src/Cifar.Simd.Cli/bin/<config>/net10.0/cifar-simd.dll
        string testBin = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        string framework = Path.GetFileName(testBin), config = Path.GetFileName(Path.GetDirectoryName(testBin)!);
        string root = Path.GetFullPath(Path.Combine(testBin, "..", "..", "..", "..", ".."));
        string dll = Path.Combine(root, "src", "Cifar.Simd.Cli", "bin", config, framework, "cifar-simd.dll");
        Assert.True(File.Exists(dll), $"the CLI is not built at {dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CIFAR_SIMD_DATA"] = null;
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "cifar-simd did not finish within 2 minutes");
        return (process.ExitCode, output + stderr.Result);
    }

    private static string TempDir() => Directory.CreateTempSubdirectory("cifar-simd-cli-").FullName;

    [Fact]
    public void Train_TwoLayer_WritesMetricsPlotsAndModel_ThenEvalReadsTheModel()
    {
        string dir = TempDir();
        try
        {
            var (code, output) = Run("train", "--data", Sample, "--num-train", "800", "--num-val", "200", "--num-test", "100",
                "--iterations", "30", "--batch-size", "50", "--hidden", "16", "--learning-rate", "1e-3", "--out", dir);
            Assert.True(code == 0, output);
            Assert.Contains("validation accuracy", output);
            foreach (var file in new[] { "metrics.json", "loss.png", "accuracy.png", "weights.png", "model.safetensors" })
                Assert.True(new FileInfo(Path.Combine(dir, file)).Length > 100, $"{file} missing or empty");
            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!;
            Assert.Equal(30, metrics["loss_history"]!.AsArray().Count);
            Assert.InRange(metrics["val_acc"]!.GetValue<double>(), 0, 1);
            Assert.True(metrics["train_seconds"]!.GetValue<double>() > 0);
            Assert.Equal(16, metrics["config"]!["hidden_size"]!.GetValue<int>());
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(dir, "weights.png"))[..4]);
            var model = SafeTensors.Load(Path.Combine(dir, "model.safetensors"));
            Assert.Equal("two-layer", model.Metadata["model"]);
            Assert.Equal(new Cifar.Simd.Tensors.Shape(3072, 16), model["W1"].Shape);

            (code, output) = Run("eval", Path.Combine(dir, "model.safetensors"), "--data", Sample, "--num-train", "800", "--num-val", "200");
            Assert.True(code == 0, output);
            Assert.Contains("test accuracy", output);
            Assert.Contains("airplane", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Train_FullyConnected_WithBatchnormAndAdam()
    {
        string dir = TempDir();
        try
        {
            var (code, output) = Run("train", "--model", "fc", "--hidden-dims", "32", "32", "--normalization", "batchnorm", "--update-rule", "adam",
                "--learning-rate", "1e-3", "--epochs", "2", "--batch-size", "100", "--data", Sample, "--num-train", "800", "--num-val", "200",
                "--num-test", "100", "--out", dir);
            Assert.True(code == 0, output);
            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!;
            Assert.Equal(16, metrics["loss_history"]!.AsArray().Count);
            Assert.Equal(3, metrics["val_acc_history"]!.AsArray().Count);
            Assert.Equal("batchnorm", metrics["config"]!["normalization"]!.GetValue<string>());
            var model = SafeTensors.Load(Path.Combine(dir, "model.safetensors"));
            Assert.True(model.Contains("running_var2"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Sweep_RanksTrials_AndWritesSweepJson()
    {
        string dir = TempDir();
        try
        {
            var (code, output) = Run("sweep", "--learning-rates", "1e-4", "1e-3", "--hidden-sizes", "8", "--epochs", "1", "--data", Sample,
                "--num-train", "800", "--num-val", "200", "--num-test", "100", "--out", dir);
            Assert.True(code == 0, output);
            var results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "sweep.json")))!["results"]!.AsArray();
            Assert.Equal(2, results.Count);
            Assert.True(results[0]!["best_val_acc"]!.GetValue<double>() >= results[1]!["best_val_acc"]!.GetValue<double>());
            Assert.True(File.Exists(Path.Combine(dir, "best.safetensors")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void GradCheck_PrintsSmallRelativeErrors()
    {
        var (code, output) = Run("gradcheck");
        Assert.True(code == 0, output);
        Assert.Contains("W1", output);
        Assert.Contains("b2", output);
    }

    [Fact]
    public void MissingData_IsOneClearError()
    {
        var (code, output) = Run("train", "--data", "/nonexistent/cifar.tar.gz", "--out", TempDir());
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/cifar.tar.gz", output);
    }
}
