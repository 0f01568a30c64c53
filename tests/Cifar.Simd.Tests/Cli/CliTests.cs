using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Cifar.Simd.IO;
using Cifar.Simd.Tests.Data;
using Cifar.Simd.Training;

namespace Cifar.Simd.Tests.Cli;

/// <summary>Runs <c>cifar-simd</c> as a user would: a real process, real files, the small python-format sample.</summary>
public class CliTests
{
    private static readonly string Sample = Path.Combine(CifarTestData.SharedFolder, "cifar-10-python-sample.tar.gz");

    private static ProcessStartInfo StartInfo(string[] args)
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
        return psi;
    }

    private static (int Code, string Output) Run(params string[] args)
    {
        var (code, stdout, stderr) = RunSeparately(args);
        return (code, stdout + stderr);
    }

    private static (int Code, string Stdout, string Stderr) RunSeparately(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "cifar-simd did not finish within 2 minutes");
        return (process.ExitCode, output, stderr.Result);
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
    public void Bench_TwoLayerStep_WritesJsonToStdout()
    {
        var (code, stdout, stderr) = RunSeparately("bench", "--workload", "two-layer-step", "--seconds", "0.2", "--json");
        Assert.True(code == 0, stdout + stderr);
        // With --json and no file, stdout holds only the document and the table goes to stderr.
        Assert.Contains("% of peak", stderr);
        var doc = JsonNode.Parse(stdout)!;
        Assert.Equal("cifar-simd", doc["impl"]!.GetValue<string>());
        Assert.True(doc["machine"]!["logical_cores"]!.GetValue<int>() >= 1);
        var peak = doc["peak"]!;
        Assert.Equal("float", peak["dtype"]!.GetValue<string>());
        Assert.True(peak["gflops"]!.GetValue<double>() > 0);
        var result = Assert.Single(doc["results"]!.AsArray())!;
        Assert.Equal("two-layer-step", result["workload"]!.GetValue<string>());
        Assert.Equal(100, result["hidden"]!.GetValue<int>());
        Assert.Equal(200, result["batch"]!.GetValue<int>());
        Assert.Equal("float", result["dtype"]!.GetValue<string>());
        Assert.Equal(Environment.ProcessorCount, result["threads"]!.GetValue<int>());
        Assert.True(result["repetitions"]!.GetValue<int>() >= 3);
        double median = result["median_s"]!.GetValue<double>();
        Assert.InRange(median, result["min_s"]!.GetValue<double>(), result["max_s"]!.GetValue<double>());
        Assert.Equal(200 / median, result["samples_per_s"]!.GetValue<double>(), 6);
        double gflops = result["gflops"]!.GetValue<double>();
        Assert.Equal(2.0 * 200 * (2.0 * 3072 * 100 + 3.0 * 100 * 10) / median / 1e9, gflops, 6);
        Assert.Equal(100 * gflops / peak["gflops"]!.GetValue<double>(), result["percent_of_peak"]!.GetValue<double>(), 6);
    }

    [Fact]
    public void Bench_Peak_AndGemm_WriteJsonFiles()
    {
        string dir = TempDir();
        try
        {
            string peakFile = Path.Combine(dir, "peak.json"), gemmFile = Path.Combine(dir, "gemm.json");
            var (code, output) = Run("bench", "--workload", "peak", "--seconds", "0.05", "--threads", "2", "--dtype", "double", "--json", peakFile);
            Assert.True(code == 0, output);
            Assert.Contains("peak GFLOP/s", output);
            var peaks = JsonNode.Parse(File.ReadAllText(peakFile))!["results"]!.AsArray();
            Assert.Equal([1, 2], peaks.Select(p => p!["threads"]!.GetValue<int>()));
            Assert.All(peaks, p => Assert.Equal("double", p!["dtype"]!.GetValue<string>()));

            (code, output) = Run("bench", "--workload", "gemm", "--shape", "x-w", "odd", "--hidden", "50", "--seconds", "0.05", "--threads", "1", "--json", gemmFile);
            Assert.True(code == 0, output);
            var gemms = JsonNode.Parse(File.ReadAllText(gemmFile))!["results"]!.AsArray();
            Assert.Equal(["X·W 200×50×3072", "odd 509×257×1021"], gemms.Select(g => g!["description"]!.GetValue<string>()));
            Assert.Null(gemms[0]!["samples_per_s"]);
            Assert.Equal(1, gemms[0]!["threads"]!.GetValue<int>());

            (code, output) = Run("bench", "--seconds", "0");
            Assert.Equal(2, code);
            Assert.Contains("--seconds must be a positive number", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MissingData_IsOneClearError()
    {
        var (code, output) = Run("train", "--data", "/nonexistent/cifar.tar.gz", "--out", TempDir());
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/cifar.tar.gz", output);
    }

    // 800 training images in batches of 50: 16 iterations per epoch, and so many epochs that only a signal ends the run.
    private static string[] EndlessFcRun(string dir) =>
    [
        "train", "--model", "fc", "--hidden-dims", "32", "--update-rule", "adam", "--learning-rate", "1e-3", "--epochs", "100000",
        "--batch-size", "50", "--data", Sample, "--num-train", "800", "--num-val", "200", "--num-test", "100", "--out", dir,
    ];

    /// <summary>Starts the CLI, waits for its first epoch line, sends SIGINT <paramref name="signals"/> times, and waits for it to end.</summary>
    private static (int Code, string Output) Interrupt(string[] args, int signals)
    {
        var output = new StringBuilder();
        var firstEpoch = new TaskCompletionSource();
        using var process = new Process { StartInfo = StartInfo(args) };
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (e.Data.StartsWith("epoch 1/", StringComparison.Ordinal)) firstEpoch.TrySetResult();
        }
        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Assert.True(firstEpoch.Task.Wait(TimeSpan.FromSeconds(90)), $"no epoch line within 90 s:\n{output}");
            for (int i = 0; i < signals; i++)
            {
                using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }
            Assert.True(process.WaitForExit(60_000), $"cifar-simd did not stop within 60 s of SIGINT:\n{output}");
            process.WaitForExit(); // drains the output events
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
        lock (output) return (process.ExitCode, output.ToString());
    }

    [Fact]
    public void CtrlC_WritesACheckpoint_PrintsTheResumeCommand_Exits130_AndResumeFinishesTheRun()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // needs kill(1) and POSIX signals
        string dir = TempDir();
        try
        {
            var (code, output) = Interrupt(EndlessFcRun(dir), signals: 1);
            Assert.True(code == 130, output);
            Assert.Contains("interrupted at iteration", output);
            Assert.Contains("resume with:", output);
            Assert.Contains($"cifar-simd.dll train --resume {dir}{Environment.NewLine}", output);
            var info = SolverCheckpoint.ReadInfo(Path.Combine(dir, "checkpoint.safetensors"));
            Assert.Equal(16, info.IterationsPerEpoch);
            Assert.True(info.Iteration >= 16, $"stopped at iteration {info.Iteration}, before the first epoch's end");
            Assert.False(File.Exists(Path.Combine(dir, "metrics.json")));

            // Resume with the saved options, asking only for one epoch more than the checkpoint has.
            int epochs = info.Epoch + 1;
            (code, output) = Run("train", "--resume", dir, "--epochs", $"{epochs}");
            Assert.True(code == 0, output);
            Assert.Contains($"resuming at iteration {info.Iteration} of {epochs * 16}", output);
            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!;
            Assert.Equal(epochs * 16, metrics["loss_history"]!.AsArray().Count);
            Assert.Equal(epochs + 1, metrics["val_acc_history"]!.AsArray().Count);
            Assert.Equal("adam", metrics["config"]!["update_rule"]!.GetValue<string>());
            Assert.Equal((epochs, epochs * 16), (SolverCheckpoint.ReadInfo(Path.Combine(dir, "checkpoint.safetensors")).Epoch,
                SolverCheckpoint.ReadInfo(Path.Combine(dir, "checkpoint.safetensors")).Iteration));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SecondCtrlC_ExitsAtOnce_LeavingNoTornCheckpoint()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        string dir = TempDir();
        try
        {
            var (code, output) = Interrupt(EndlessFcRun(dir), signals: 2);
            Assert.True(code == 130, output);
            // Whichever signal won, the checkpoint under its final name is a whole one.
            var info = SolverCheckpoint.ReadInfo(Path.Combine(dir, "checkpoint.safetensors"));
            Assert.True(info.Epoch >= 1);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("fc")]
    [InlineData("two-layer")]
    public void DivergingLoss_PrintsTheMessage_AndExits3(string model)
    {
        string dir = TempDir();
        try
        {
            var (code, output) = Run("train", "--model", model, "--learning-rate", "1000", "--hidden-dims", "32", "--epochs", "3", "--iterations", "50",
                "--batch-size", "50", "--data", Sample, "--num-train", "800", "--num-val", "200", "--num-test", "100", "--out", dir);
            Assert.True(code == 3, output);
            string text = output.Replace(Environment.NewLine, " ");
            Assert.Contains("training diverged at iteration", text);
            Assert.Contains("Lower the learning rate", text);
            Assert.False(File.Exists(Path.Combine(dir, "metrics.json")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Resume_ExplainsWhatItCannotDo()
    {
        string dir = TempDir();
        try
        {
            var (code, output) = Run("train", "--resume", dir);
            Assert.Equal(2, code);
            Assert.Contains("--model fc", output.Replace(Environment.NewLine, " "));
            (code, output) = Run("train", "--resume", dir, "--learning-rate", "1e-3");
            Assert.Equal(2, code);
            Assert.Contains("--learning-rate cannot be given", output.Replace(Environment.NewLine, " "));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--hidden", "0", "--hidden must be ≥ 1; got 0.")]
    [InlineData("--dropout-keep", "1.5", "--dropout-keep must be in (0, 1]; got 1.5.")]
    [InlineData("--learning-rate", "-1", "--learning-rate must be a finite number > 0; got -1.")]
    public void OutOfRangeOption_IsRefusedByTheParser_NamingTheOptionAndTheRange(string option, string value, string message)
    {
        var (code, output) = Run("train", option, value, "--data", "/nonexistent/never-read.tar.gz");
        Assert.Equal(1, code);
        Assert.Contains(message, output);
        Assert.DoesNotContain("never-read", output);
    }
}
