using BenchmarkDotNet.Running;

namespace Cifar.Simd.Bench;

/// <summary>Entry point: pick suites with BenchmarkDotNet's <c>--filter</c>.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks selected by <paramref name="args"/>.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
