using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Cifar.Simd.Kernels;

/// <summary>A parallel region: parts 0..parts-1 run once each, on any thread.</summary>
internal abstract class ParallelWork
{
    public abstract void Execute(int part, int parts);
}

/// <summary>
/// Long-lived background workers woken per parallel region. One region at a time: a caller that
/// finds the pool busy (another user thread inside) runs its work alone, which gives the same
/// result because parts never share a reduction. Workers spin briefly before sleeping, because a
/// training step issues its GEMMs back to back and a futex wake-up costs tens of microseconds on a VM.
/// </summary>
internal static class WorkerPool
{
    // About 0.2 ms: longer than the gaps between the parallel GEMMs of one training step, short enough not to matter when idle.
    private static readonly long s_spinTicks = Stopwatch.Frequency / 5000;
    private static readonly Lock s_gate = new();
    private static Worker[] s_workers = [];
    private static ParallelWork? s_work;
    private static int s_parts;
    private static int s_pending;
    private static ExceptionDispatchInfo? s_error;

    // Set while this thread runs part 0 of a region: a product inside a region's work runs alone, never as a nested region.
    [ThreadStatic] private static bool t_inRegion;

    /// <summary>Takes the pool for one region; false when another thread holds it, or this one is running a region's part.</summary>
    public static bool TryEnter() => !t_inRegion && s_gate.TryEnter();

    public static void Exit() => s_gate.Exit();

    /// <summary>Runs <paramref name="work"/> over <paramref name="parts"/> parts, part 0 on the caller. The caller must hold the pool.</summary>
    public static void Run(ParallelWork work, int parts)
    {
        EnsureWorkers(parts - 1);
        s_work = work;
        s_parts = parts;
        s_error = null;
        Volatile.Write(ref s_pending, parts - 1);
        for (int i = 1; i < parts; i++) s_workers[i - 1].Go.Release();
        try
        {
            t_inRegion = true;
            work.Execute(0, parts);
        }
        finally
        {
            t_inRegion = false;
            // Spin and yield rather than block (a thread's first block on a wait handle allocates); workers still read the operands.
            var spin = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
            s_work = null;
        }
        s_error?.Throw();
    }

    /// <summary>
    /// A barrier inside a region: counts this part in and spins until all <paramref name="parts"/> have arrived.
    /// Every part of a region runs on its own thread at once, so waiting for the others cannot deadlock.
    /// </summary>
    public static void ArriveAndWait(ref int arrived, int parts)
    {
        Interlocked.Increment(ref arrived);
        var spin = new SpinWait();
        // Never Sleep(1): a millisecond nap here would cost more than the whole product.
        while (Volatile.Read(ref arrived) < parts) spin.SpinOnce(sleep1Threshold: -1);
    }

    // Spinning only pays when every worker and the caller can have a core of their own.
    private static bool SpinsAllowed() => s_workers.Length < Environment.ProcessorCount;

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        var grown = new Worker[count];
        Array.Copy(s_workers, grown, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++) grown[i] = new Worker(i + 1);
        s_workers = grown;
    }

    private sealed class Worker
    {
        public readonly SemaphoreSlim Go = new(0);
        private readonly int _part;

        public Worker(int part)
        {
            _part = part;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Cifar.Simd worker {part}" };
            thread.Start();
        }

        private void Loop()
        {
            while (true)
            {
                WaitForWork();
                try
                {
                    s_work!.Execute(_part, s_parts);
                }
                catch (Exception e)
                {
                    s_error = ExceptionDispatchInfo.Capture(e);
                }
                Interlocked.Decrement(ref s_pending);
            }
        }

        private void WaitForWork()
        {
            long deadline = Stopwatch.GetTimestamp() + s_spinTicks;
            while (!Go.Wait(0))
            {
                if (!SpinsAllowed() || Stopwatch.GetTimestamp() > deadline)
                {
                    Go.Wait();
                    return;
                }
                Thread.SpinWait(20);
            }
        }
    }
}
