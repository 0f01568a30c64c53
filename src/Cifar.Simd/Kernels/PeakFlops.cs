using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Cifar.Simd.Kernels;

/// <summary>One measurement of <see cref="PeakFlops"/>.</summary>
/// <param name="Path">The instruction set the FMA loop ran on.</param>
/// <param name="ElementType"><see cref="float"/> or <see cref="double"/>.</param>
/// <param name="Threads">Threads that ran the loop at the same time.</param>
/// <param name="Gflops">The best repetition, in 10⁹ floating-point operations per second over all threads (an FMA counts 2 per lane).</param>
/// <param name="MedianGflops">The median repetition, same unit.</param>
/// <param name="Repetitions">How many timed repetitions the figures come from.</param>
public sealed record PeakFlopsResult(SimdPath Path, Type ElementType, int Threads, double Gflops, double MedianGflops, int Repetitions)
{
    /// <summary><see cref="Gflops"/> divided by <see cref="Threads"/>.</summary>
    public double GflopsPerThread => Gflops / Threads;
}

/// <summary>
/// Measures the machine's peak fused multiply-add rate: a loop of register-resident FMAs on twelve
/// independent vector accumulators (no loads or stores), run on several threads at once. It is
/// the denominator of every "percent of peak" figure: what the GEMM's microkernel could reach if
/// it never waited for memory.
/// </summary>
/// <remarks>
/// Twelve accumulators cover an FMA latency of 4–6 cycles on two FMA pipes, and with the two
/// constant operands they fit in the 16 registers of AVX2 as well as AVX-512. The result is the
/// best of several repetitions, since interference from other processes only ever lowers it.
/// </remarks>
public static class PeakFlops
{
    private const int Accumulators = 12;
    private const int MinRepetitions = 5;

    // Written once per loop so the JIT cannot drop the accumulators as dead.
    private static double s_sink;

    /// <summary>
    /// Runs the FMA loop on <paramref name="threads"/> threads at once (the caller is one of them)
    /// for about <paramref name="duration"/> in total, split into at least five repetitions.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="threads">Threads to run concurrently, 1–1024.</param>
    /// <param name="duration">Total time to spend, at least 1 ms.</param>
    /// <param name="path">The instruction set; default the best this CPU and runtime support (not <see cref="Gemm.Path"/>, so a forced GEMM path is still compared with the CPU's peak).</param>
    /// <exception cref="ArgumentOutOfRangeException">threads or duration is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException">The path is not supported here.</exception>
    /// <exception cref="NotSupportedException">T is neither float nor double.</exception>
    public static PeakFlopsResult Measure<T>(int threads, TimeSpan duration, SimdPath? path = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (threads < 1 || threads > 1024)
            ThrowHelper.OutOfRange(nameof(threads), threads, $"threads must lie in [1, 1024]; got {threads}.");
        if (duration < TimeSpan.FromMilliseconds(1))
            ThrowHelper.OutOfRange(nameof(duration), duration, $"duration must be at least 1 ms; got {duration}.");
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"PeakFlops.Measure<{typeof(T).Name}> is not supported; use float or double.");
        SimdPath p = path ?? SimdPaths.Best;
        SimdPaths.ThrowIfUnsupported(p);

        Func<long, double> loop = Loop<T>(p);
        double flopsPerIteration = 2.0 * Accumulators * LanesOf<T>(p);

        // Calibrate on one thread so that one repetition lasts duration / MinRepetitions.
        loop(1024);
        long iterations = 1 << 12;
        double seconds;
        while ((seconds = Time(loop, iterations)) < 2e-3) iterations *= 4;
        double repetitionSeconds = duration.TotalSeconds / MinRepetitions;
        iterations = Math.Max(1, (long)(iterations * repetitionSeconds / seconds));

        var rates = new List<double>(MinRepetitions);
        var planned = new StrongBox<long>(iterations); // the coordinator's plan for the next repetition; -1 means stop
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        using var barrier = new Barrier(threads);
        var workers = new Thread[threads - 1];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(() =>
            {
                while (true)
                {
                    barrier.SignalAndWait();
                    long n = Volatile.Read(ref planned.Value);
                    if (n < 0) break;
                    loop(n);
                    barrier.SignalAndWait();
                }
            }) { IsBackground = true, Name = $"PeakFlops worker {i + 1}" };
            workers[i].Start();
        }
        try
        {
            while (rates.Count < MinRepetitions || Stopwatch.GetTimestamp() < deadline)
            {
                barrier.SignalAndWait();
                long start = Stopwatch.GetTimestamp();
                loop(iterations);
                barrier.SignalAndWait();
                double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
                rates.Add(threads * iterations * flopsPerIteration / elapsed / 1e9);
            }
        }
        finally
        {
            Volatile.Write(ref planned.Value, -1);
            if (workers.Length > 0) barrier.SignalAndWait();
            foreach (var w in workers) w.Join();
        }
        rates.Sort();
        return new PeakFlopsResult(p, typeof(T), threads, rates[^1], rates[rates.Count / 2], rates.Count);
    }

    private static double Time(Func<long, double> loop, long iterations)
    {
        long start = Stopwatch.GetTimestamp();
        loop(iterations);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static int LanesOf<T>(SimdPath path) where T : unmanaged => path switch
    {
        SimdPath.Avx512 => Vector512<T>.Count,
        SimdPath.Avx2 => Vector256<T>.Count,
        _ => Vector128<T>.Count,
    };

    private static Func<long, double> Loop<T>(SimdPath path) => (path, typeof(T) == typeof(float)) switch
    {
        (SimdPath.Avx512, true) => Run<Vector512<float>, Fma512Single>,
        (SimdPath.Avx512, false) => Run<Vector512<double>, Fma512Double>,
        (SimdPath.Avx2, true) => Run<Vector256<float>, Fma256Single>,
        (SimdPath.Avx2, false) => Run<Vector256<double>, Fma256Double>,
        (_, true) => Run<Vector128<float>, Fma128Single>,
        _ => Run<Vector128<double>, Fma128Double>,
    };

    // acc = acc·m + c converges to c / (1 − m) = 1, so the values stay normal and finite forever.
    // Fully optimised from the first call, so calibration does not time tier-0 code.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Run<TV, TOps>(long iterations) where TV : struct where TOps : struct, IFmaOps<TV>
    {
        TV m = TOps.Create(0.999), c = TOps.Create(0.001);
        TV a0 = TOps.Create(0.0), a1 = TOps.Create(0.1), a2 = TOps.Create(0.2), a3 = TOps.Create(0.3);
        TV a4 = TOps.Create(0.4), a5 = TOps.Create(0.5), a6 = TOps.Create(0.6), a7 = TOps.Create(0.7);
        TV a8 = TOps.Create(0.8), a9 = TOps.Create(0.9), a10 = TOps.Create(1.0), a11 = TOps.Create(1.1);
        for (long i = 0; i < iterations; i++)
        {
            a0 = TOps.Fma(a0, m, c); a1 = TOps.Fma(a1, m, c); a2 = TOps.Fma(a2, m, c); a3 = TOps.Fma(a3, m, c);
            a4 = TOps.Fma(a4, m, c); a5 = TOps.Fma(a5, m, c); a6 = TOps.Fma(a6, m, c); a7 = TOps.Fma(a7, m, c);
            a8 = TOps.Fma(a8, m, c); a9 = TOps.Fma(a9, m, c); a10 = TOps.Fma(a10, m, c); a11 = TOps.Fma(a11, m, c);
        }
        double sum = TOps.First(a0) + TOps.First(a1) + TOps.First(a2) + TOps.First(a3) + TOps.First(a4) + TOps.First(a5)
            + TOps.First(a6) + TOps.First(a7) + TOps.First(a8) + TOps.First(a9) + TOps.First(a10) + TOps.First(a11);
        s_sink = sum;
        return sum;
    }

    /// <summary>The one fused multiply-add instruction of a path and element type, as the GEMM microkernels use it.</summary>
    private interface IFmaOps<TV> where TV : struct
    {
        static abstract TV Create(double value);
        static abstract TV Fma(TV a, TV b, TV c);
        static abstract double First(TV v);
    }

    private readonly struct Fma512Single : IFmaOps<Vector512<float>>
    {
        public static Vector512<float> Create(double value) => Vector512.Create((float)value);
        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static double First(Vector512<float> v) => v.ToScalar();
    }

    private readonly struct Fma512Double : IFmaOps<Vector512<double>>
    {
        public static Vector512<double> Create(double value) => Vector512.Create(value);
        public static Vector512<double> Fma(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static double First(Vector512<double> v) => v.ToScalar();
    }

    private readonly struct Fma256Single : IFmaOps<Vector256<float>>
    {
        public static Vector256<float> Create(double value) => Vector256.Create((float)value);
        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static double First(Vector256<float> v) => v.ToScalar();
    }

    private readonly struct Fma256Double : IFmaOps<Vector256<double>>
    {
        public static Vector256<double> Create(double value) => Vector256.Create(value);
        public static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static double First(Vector256<double> v) => v.ToScalar();
    }

    // The portable microkernel's MultiplyAddEstimate: one FMA where the CPU has it, else multiply and add.
    private readonly struct Fma128Single : IFmaOps<Vector128<float>>
    {
        public static Vector128<float> Create(double value) => Vector128.Create((float)value);
        public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);
        public static double First(Vector128<float> v) => v.ToScalar();
    }

    private readonly struct Fma128Double : IFmaOps<Vector128<double>>
    {
        public static Vector128<double> Create(double value) => Vector128.Create(value);
        public static Vector128<double> Fma(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.MultiplyAddEstimate(a, b, c);
        public static double First(Vector128<double> v) => v.ToScalar();
    }
}
