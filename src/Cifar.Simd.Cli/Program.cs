using System.CommandLine;
using Cifar.Simd.Cli;

var root = new RootCommand("cifar-simd: train and evaluate CS231n fully-connected networks on CIFAR-10 with SIMD CPU kernels.")
{
    TrainCommand.Create(),
    EvalCommand.Create(),
    SweepCommand.Create(),
    GradCheckCommand.Create(),
    BenchCommand.Create(),
};
// Our own signal handling: System.CommandLine's would return 130 two seconds after Ctrl+C, with a checkpoint half written.
Interruption.Install();
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, Interruption.Token);
