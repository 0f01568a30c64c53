using System.Diagnostics;

namespace Cifar.Simd.Training;

/// <summary>
/// A unit of work that <see cref="Throughput.Measure"/> repeats: one training step, one inference
/// pass or one matrix product, with every buffer allocated up front.
/// </summary>
public interface IThroughputWorkload
{
    /// <summary>The workload's short name: <c>two-layer-step</c>, <c>fc-step</c>, <c>inference</c> or <c>gemm</c>.</summary>
    string Name { get; }

    /// <summary>A one-line description with the shape, e.g. <c>two-layer 3072-100-10, batch 200, SGD</c>.</summary>
    string Description { get; }

    /// <summary>Images one <see cref="Step"/> processes (0 for a bare GEMM).</summary>
    int SamplesPerStep { get; }

    /// <summary>Floating-point operations of the matrix products in one <see cref="Step"/> (2 per multiply-add); elementwise work is not counted.</summary>
    double FlopsPerStep { get; }

    /// <summary>Runs the unit of work once.</summary>
    void Step();
}

/// <summary>What <see cref="Throughput.Measure"/> found: the time per step over timed repetitions.</summary>
/// <param name="Workload">The workload's <see cref="IThroughputWorkload.Name"/>.</param>
/// <param name="Description">The workload's <see cref="IThroughputWorkload.Description"/>.</param>
/// <param name="SamplesPerStep">Images per step (0 for a bare GEMM).</param>
/// <param name="FlopsPerStep">Floating-point operations of the matrix products per step.</param>
/// <param name="Repetitions">Timed repetitions, each a fixed number of steps.</param>
/// <param name="Steps">Timed steps in all (warm-up excluded).</param>
/// <param name="MedianSecondsPerStep">The median over repetitions of a repetition's seconds per step.</param>
/// <param name="MinSecondsPerStep">The fastest repetition's seconds per step.</param>
/// <param name="MaxSecondsPerStep">The slowest repetition's seconds per step.</param>
public sealed record ThroughputResult(string Workload, string Description, int SamplesPerStep, double FlopsPerStep,
    int Repetitions, long Steps, double MedianSecondsPerStep, double MinSecondsPerStep, double MaxSecondsPerStep)
{
    /// <summary>Images per second at the median step time (0 for a bare GEMM).</summary>
    public double SamplesPerSecond => SamplesPerStep / MedianSecondsPerStep;

    /// <summary>10⁹ floating-point operations per second of the matrix products, at the median step time.</summary>
    public double Gflops => FlopsPerStep / MedianSecondsPerStep / 1e9;
}

/// <summary>
/// Times a workload for a given wall-clock budget: a warm-up (so the JIT has tiered up and every
/// lazily allocated buffer exists), then repetitions of a fixed number of steps, summarised by the
/// median, which a burst of interference from other processes moves least.
/// </summary>
public static class Throughput
{
    private const int TargetRepetitions = 10;
    private const int MinRepetitions = 3;
    private const int MinWarmupSteps = 3;

    /// <summary>
    /// Warms <paramref name="workload"/> up for a quarter of <paramref name="duration"/> (at least
    /// 0.25 s and three steps, at most 2 s), then times repetitions until <paramref name="duration"/>
    /// has passed and at least three are done.
    /// </summary>
    /// <exception cref="ArgumentNullException">workload is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">duration is not positive.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (checked between steps).</exception>
    public static ThroughputResult Measure(IThroughputWorkload workload, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (duration <= TimeSpan.Zero)
            ThrowHelper.OutOfRange(nameof(duration), duration, $"duration must be positive; got {duration}.");
        double budget = duration.TotalSeconds;
        double warmup = Math.Clamp(budget / 4, 0.25, 2.0);

        long start = Stopwatch.GetTimestamp();
        int warmupSteps = 0;
        double lastStep = 0;
        while (warmupSteps < MinWarmupSteps || Stopwatch.GetElapsedTime(start).TotalSeconds < warmup)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long t = Stopwatch.GetTimestamp();
            workload.Step();
            lastStep = Stopwatch.GetElapsedTime(t).TotalSeconds;
            warmupSteps++;
        }

        // The last warm-up step is the best estimate of a warmed-up step's cost.
        long stepsPerRepetition = Math.Max(1, (long)Math.Round(budget / TargetRepetitions / Math.Max(lastStep, 1e-9)));
        var perStep = new List<double>(TargetRepetitions + 1);
        long steps = 0;
        start = Stopwatch.GetTimestamp();
        while (perStep.Count < MinRepetitions || Stopwatch.GetElapsedTime(start).TotalSeconds < budget)
        {
            long t = Stopwatch.GetTimestamp();
            for (long i = 0; i < stepsPerRepetition; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                workload.Step();
            }
            perStep.Add(Stopwatch.GetElapsedTime(t).TotalSeconds / stepsPerRepetition);
            steps += stepsPerRepetition;
        }
        perStep.Sort();
        int n = perStep.Count;
        double median = n % 2 == 1 ? perStep[n / 2] : (perStep[n / 2 - 1] + perStep[n / 2]) / 2;
        return new ThroughputResult(workload.Name, workload.Description, workload.SamplesPerStep, workload.FlopsPerStep,
            n, steps, median, perStep[0], perStep[^1]);
    }
}
