using System.CommandLine;
using Cifar.Simd.Models;
using Cifar.Simd.Random;
using Cifar.Simd.Tensors;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary><c>cifar-simd gradcheck</c>: the notebook's gradient check of the two-layer net on its toy data.</summary>
internal static class GradCheckCommand
{
    public static Command Create()
    {
        var command = new Command("gradcheck", "Check analytic gradients against numeric ones on the notebook's toy two-layer net (float64).");
        command.SetAction((ParseResult _) => CliErrors.Run(Run));
        return command;
    }

    private static int Run()
    {
        // The assignment-1 notebook: 5 inputs of 4 features, 10 hidden units, 3 classes, reg 0.05.
        var net = new TwoLayerNet<double>(4, 10, 3, std: 1e-1, seed: 0);
        var x = new Tensor<double>(5, 4);
        new NumpyRandom(1).Randn(x.AsSpan(), 10.0);
        int[] y = [0, 1, 2, 2, 1];
        const double Reg = 0.05;
        var (loss, grads) = net.Loss(x, y, Reg);
        var analytic = grads.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        AnsiConsole.MarkupLine($"two-layer toy net 4-10-3, reg {Reg}: loss {loss:R}");
        var table = new Table().AddColumns("parameter", "shape", "max relative error");
        bool ok = true;
        foreach (var name in net.Parameters.Names)
        {
            var p = net.Parameters[name];
            var values = p.ToArray();
            var numeric = Checks.GradientCheck.EvalNumericalGradient(v => { v.CopyTo(p.AsSpan()); return net.Loss(x, y, Reg).Loss; }, values);
            values.CopyTo(p.AsSpan());
            double err = Checks.GradientCheck.RelError(analytic[name], numeric);
            ok &= err < 1e-7;
            table.AddRow(name, p.Shape.ToString(), err < 1e-7 ? $"[green]{err:e2}[/]" : $"[red]{err:e2}[/]");
        }
        AnsiConsole.Write(table);
        return ok ? 0 : 1;
    }
}
