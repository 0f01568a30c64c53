using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using FsCheck;
using FsCheck.Fluent;

namespace Cifar.Simd.Tests.Support.Fuzzing;

/// <summary>How many cases the fuzz tests run: a few seconds' worth by default, far more with <c>CIFAR_SIMD_FUZZ_LONG=1</c>.</summary>
public static class FuzzSettings
{
    /// <summary>The environment variable that turns on the long run.</summary>
    public const string LongVariable = "CIFAR_SIMD_FUZZ_LONG";

    /// <summary>Whether <c>CIFAR_SIMD_FUZZ_LONG=1</c> is set.</summary>
    public static bool Long { get; } = Environment.GetEnvironmentVariable(LongVariable) == "1";

    /// <summary>How long one read may take before the case counts as a hang.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    /// <summary><paramref name="normal"/> cases, or <paramref name="longRun"/> in the long run.</summary>
    public static int Cases(int normal, int longRun) => Long ? longRun : normal;
}

/// <summary>What one read did: accepted or refused, and what it cost.</summary>
/// <param name="Accepted">True when the reader returned, false when it threw its documented exception.</param>
/// <param name="AllocatedBytes">Managed bytes allocated by the reading thread during the read.</param>
/// <param name="Elapsed">Wall time of the read.</param>
public readonly record struct FuzzOutcome(bool Accepted, long AllocatedBytes, TimeSpan Elapsed);

/// <summary>Totals over a fuzz run, for the test output.</summary>
public sealed class FuzzStats
{
    /// <summary>Cases the reader accepted.</summary>
    public int Accepted { get; private set; }

    /// <summary>Cases the reader refused with its documented exception.</summary>
    public int Refused { get; private set; }

    /// <summary>The slowest read.</summary>
    public TimeSpan MaxElapsed { get; private set; }

    /// <summary>The most bytes one read allocated.</summary>
    public long MaxAllocated { get; private set; }

    /// <summary>All cases.</summary>
    public int Total => Accepted + Refused;

    /// <summary>Counts one outcome.</summary>
    public void Add(FuzzOutcome o)
    {
        if (o.Accepted) Accepted++;
        else Refused++;
        if (o.Elapsed > MaxElapsed) MaxElapsed = o.Elapsed;
        if (o.AllocatedBytes > MaxAllocated) MaxAllocated = o.AllocatedBytes;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Total:N0} cases ({Accepted:N0} accepted, {Refused:N0} refused); slowest {MaxElapsed.TotalMilliseconds:F1} ms, most allocated {MaxAllocated:N0} bytes";
}

/// <summary>
/// Runs reads one at a time on a dedicated thread, so that a hang fails the case at <see cref="FuzzSettings.Deadline"/>
/// instead of blocking the test run, and allocations are counted on the reading thread alone.
/// An exception the read lets out is rethrown on the caller's thread.
/// </summary>
public sealed class FuzzRunner : IDisposable
{
    private sealed class Job(Func<bool> read)
    {
        public readonly Func<bool> Read = read;
        public readonly ManualResetEventSlim Done = new();
        public FuzzOutcome Outcome;
        public ExceptionDispatchInfo? Error;
    }

    private readonly TimeSpan _deadline;
    private BlockingCollection<Job> _queue = null!;

    /// <summary>Starts the reading thread.</summary>
    public FuzzRunner(TimeSpan? deadline = null)
    {
        _deadline = deadline ?? FuzzSettings.Deadline;
        StartWorker();
    }

    private void StartWorker()
    {
        var queue = new BlockingCollection<Job>();
        // A background thread, so one stuck in a hung read does not keep the test process alive.
        new Thread(() => Work(queue)) { IsBackground = true, Name = "fuzz reader" }.Start();
        _queue = queue;
    }

    private static void Work(BlockingCollection<Job> queue)
    {
        foreach (var job in queue.GetConsumingEnumerable())
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            bool accepted = false;
            try
            {
                accepted = job.Read();
            }
            catch (Exception e)
            {
                job.Error = ExceptionDispatchInfo.Capture(e);
            }
            job.Outcome = new FuzzOutcome(accepted, GC.GetAllocatedBytesForCurrentThread() - before, clock.Elapsed);
            job.Done.Set();
        }
    }

    /// <summary>Runs <paramref name="read"/> (true = accepted, false = refused as documented) within the deadline.</summary>
    public FuzzOutcome Run(Func<bool> read)
    {
        var job = new Job(read);
        _queue.Add(job);
        if (!job.Done.Wait(_deadline))
        {
            // The stuck thread is abandoned; a fresh one serves later cases (FsCheck's shrinking, say).
            _queue.CompleteAdding();
            StartWorker();
            Assert.Fail($"the read did not finish within {_deadline.TotalSeconds} s (a hang)");
        }
        job.Done.Dispose();
        job.Error?.Throw();
        return job.Outcome;
    }

    /// <summary>
    /// Checks <paramref name="cases"/> random cases from <paramref name="fuzzer"/>: each mutated file is read with
    /// <paramref name="read"/>, must finish within the deadline, and may allocate at most <paramref name="allocationBudget"/>
    /// of its length. Returns the totals.
    /// </summary>
    public FuzzStats Check(ByteFuzzer fuzzer, int cases, Func<byte[], bool> read, Func<int, long> allocationBudget) =>
        Check(fuzzer, cases, (_, bytes) => read(bytes), allocationBudget);

    /// <summary>As <see cref="Check(ByteFuzzer, int, Func{byte[], bool}, Func{int, long})"/>, for a read that also needs the case (its base, say).</summary>
    public FuzzStats Check(ByteFuzzer fuzzer, int cases, Func<FuzzCase, byte[], bool> read, Func<int, long> allocationBudget)
    {
        var stats = new FuzzStats();
        var property = Prop.ForAll(fuzzer.Cases.ToArbitrary(), c =>
        {
            byte[] bytes = fuzzer.Apply(c);
            var outcome = Run(() => read(c, bytes));
            long budget = allocationBudget(bytes.Length);
            Assert.True(outcome.AllocatedBytes <= budget,
                $"the read allocated {outcome.AllocatedBytes:N0} bytes for a {bytes.Length:N0}-byte input (budget {budget:N0})");
            stats.Add(outcome);
        });
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true), property);
        Assert.True(stats.Total >= cases, $"only {stats.Total} of {cases} cases ran");
        return stats;
    }

    /// <summary>Lets the reading thread end.</summary>
    public void Dispose() => _queue.CompleteAdding();
}
