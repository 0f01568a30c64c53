using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Cifar.Simd.Bench.AffineReluBenchmarks).Assembly).Run(args);
