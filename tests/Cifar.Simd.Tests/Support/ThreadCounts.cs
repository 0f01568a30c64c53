using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Support;

/// <summary>Runs test code under chosen process-wide thread counts and restores the previous count afterwards.</summary>
internal static class ThreadCounts
{
    /// <summary>Runs <paramref name="run"/> once for each of 1, 2 and 3 threads, passing the count.</summary>
    public static void ForEach(Action<int> run)
    {
        foreach (int threads in new[] { 1, 2, 3 }) With(threads, () => run(threads));
    }

    /// <summary>Runs <paramref name="run"/> with <see cref="Parallelism.ThreadCount"/> set to <paramref name="threads"/>.</summary>
    public static void With(int threads, Action run) =>
        GlobalSetting.With(() => Parallelism.ThreadCount, v => Parallelism.ThreadCount = v, threads, run);
}
