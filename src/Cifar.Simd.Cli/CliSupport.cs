using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Cifar.Simd.Models;
using Spectre.Console;

namespace Cifar.Simd.Cli;

/// <summary>Reports on the calling thread.</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Range checks on options, reported by the parser before a command does any work.</summary>
internal static class OptionChecks
{
    /// <summary>Adds a check that a given value satisfies <paramref name="valid"/>; the error names the option, the range and the value.</summary>
    public static Option<T> Require<T>(this Option<T> option, Func<T, bool> valid, string range)
    {
        option.Validators.Add(result =>
        {
            T? value = result.GetValueOrDefault<T>();
            if (value is not null && !valid(value))
                result.AddError($"{option.Name} must be {range}; got {Show(value)}.");
        });
        return option;
    }

    public static Option<int> AtLeast(this Option<int> option, int min) => option.Require(v => v >= min, $"≥ {min}");

    public static Option<int?> AtLeast(this Option<int?> option, int min) => option.Require(v => v is null || v >= min, $"≥ {min}");

    public static Option<double> NonNegative(this Option<double> option) => option.Require(v => v >= 0 && double.IsFinite(v), "a finite number ≥ 0");

    public static Option<double?> NonNegative(this Option<double?> option) => option.Require(v => v is not { } x || (x >= 0 && double.IsFinite(x)), "a finite number ≥ 0");

    public static Option<double?> Positive(this Option<double?> option) => option.Require(v => v is not { } x || (x > 0 && double.IsFinite(x)), "a finite number > 0");

    public static Option<double> UnitInterval(this Option<double> option) => option.Require(v => v > 0 && v <= 1, "in (0, 1]");

    public static Option<double?> UnitInterval(this Option<double?> option) => option.Require(v => v is not { } x || (x > 0 && x <= 1), "in (0, 1]");

    private static string Show(object value) => value switch
    {
        int[] list => string.Join(" ", list),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>The process exit codes of every command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 2;
    public const int Diverged = 3;
}

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM for the whole process, in place of System.CommandLine's own handling (which gives
/// a command two seconds and then returns while it still runs). The first signal cancels <see cref="Token"/>, so
/// a command finishes its step and saves what it must; a second one ends the process at once through the
/// signal's default action, without running any more of our code.
/// </summary>
internal static class Interruption
{
    private static readonly CancellationTokenSource Source = new();
    private static readonly List<PosixSignalRegistration> Registrations = [];
    private static int _signals;

    /// <summary>Cancelled by the first Ctrl+C or SIGTERM.</summary>
    public static CancellationToken Token => Source.Token;

    /// <summary>128 + the signal: 130 after Ctrl+C (SIGINT), 143 after SIGTERM.</summary>
    public static int ExitCode { get; private set; } = 130;

    public static void Install()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                Registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // Such a platform keeps the default action: the signal ends the process.
            }
        }
    }

    private static void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1)
        {
            // The progress display hides the cursor; show it again, since no cleanup code runs after this.
            if (!Console.IsOutputRedirected) Console.Out.Write("\u001b[?25h");
            // Cancel stays false, so the runtime's default action ends the process now.
            return;
        }
        context.Cancel = true;
        ExitCode = context.Signal == PosixSignal.SIGTERM ? 143 : 130;
        Source.Cancel();
    }
}

/// <summary>Turns the library's exceptions into one clear line and an exit code.</summary>
internal static class CliErrors
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]cancelled[/]");
            return Interruption.ExitCode;
        }
        catch (TrainingDivergedException e)
        {
            AnsiConsole.MarkupLine($"[red]diverged:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.Diverged;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.Error;
        }
    }
}
