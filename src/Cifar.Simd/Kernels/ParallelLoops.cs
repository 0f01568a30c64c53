namespace Cifar.Simd.Kernels;

/// <summary>A loop body over element ranges; <c>Run</c> may be called from several threads at once on disjoint ranges.</summary>
internal abstract class RangeWork
{
    /// <summary>Processes elements [start, start + count).</summary>
    public abstract void Run(int start, int count);
}

/// <summary>
/// Long elementwise loops (parameter updates, weight decay) split over the worker pool. The range is
/// cut into fixed chunks of <see cref="Chunk"/> elements whatever the thread count, so a reduction that
/// keeps one partial per chunk sums in the same order on any number of threads.
/// </summary>
internal static class ParallelLoops
{
    /// <summary>Elements per chunk: 64 KiB of float, small enough to stay in L2 between two passes over it.</summary>
    public const int Chunk = 16384;

    // Below this a memory-bound loop takes a few microseconds, less than waking a worker.
    private const int MinParallelLength = 4 * Chunk;

    /// <summary>The number of chunks a range of <paramref name="length"/> elements is cut into.</summary>
    public static int Chunks(int length) => (length + Chunk - 1) / Chunk;

    /// <summary>Calls <paramref name="body"/> once per chunk of [0, <paramref name="length"/>), on up to <see cref="Parallelism.ThreadCount"/> threads.</summary>
    public static void For(int length, RangeWork body)
    {
        int chunks = Chunks(length);
        int parts = Math.Min(Parallelism.ThreadCount, chunks);
        if (length < MinParallelLength || parts < 2 || !WorkerPool.TryEnter())
        {
            RunChunks(body, 0, chunks, length);
            return;
        }
        try
        {
            Job.Instance.Set(body, length, chunks);
            WorkerPool.Run(Job.Instance, parts);
        }
        finally
        {
            Job.Instance.Set(null, 0, 0);
            WorkerPool.Exit();
        }
    }

    private static void RunChunks(RangeWork body, int firstChunk, int endChunk, int length)
    {
        for (int c = firstChunk; c < endChunk; c++)
        {
            int start = c * Chunk;
            body.Run(start, Math.Min(Chunk, length - start));
        }
    }

    /// <summary>The pool's reusable job: one instance, used only by the thread holding the pool.</summary>
    private sealed class Job : ParallelWork
    {
        public static readonly Job Instance = new();
        private RangeWork? _body;
        private int _length, _chunks;

        public void Set(RangeWork? body, int length, int chunks) => (_body, _length, _chunks) = (body, length, chunks);

        public override void Execute(int part, int parts) =>
            RunChunks(_body!, (int)((long)_chunks * part / parts), (int)((long)_chunks * (part + 1) / parts), _length);
    }
}
