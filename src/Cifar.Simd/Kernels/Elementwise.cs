using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cifar.Simd.Kernels;

/// <summary>
/// Elementwise kernels over dense spans. Outputs are caller-owned, nothing is allocated, and an
/// output may be the same span as an input unless a method says otherwise.
/// </summary>
public static class Elementwise
{
    /// <summary>
    /// L2 weight decay in one pass: <c>dw += scale·w</c> elementwise, returning <c>Σ w²</c> (summed in
    /// fixed chunks, so the result is the same for any thread count). Long spans run on the worker pool.
    /// </summary>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    public static double AddWeightDecayAndSumSquares<T>(ReadOnlySpan<T> w, T scale, Span<T> dw) where T : unmanaged, IFloatingPointIeee754<T> =>
        WeightDecay(w, scale, dw, step: false, T.Zero);

    /// <summary>
    /// <see cref="AddWeightDecayAndSumSquares{T}"/> followed by the SGD step <c>w −= learningRate·dw</c>, in the same
    /// pass: each chunk is decayed and stepped while it is in cache. The same arithmetic, so the same bits, as the two
    /// calls one after the other (the sum is of <paramref name="w"/> before the step).
    /// </summary>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    public static double AddWeightDecaySumSquaresAndStep<T>(Span<T> w, T scale, Span<T> dw, T learningRate) where T : unmanaged, IFloatingPointIeee754<T> =>
        WeightDecay(w, scale, dw, step: true, -learningRate);

    private static unsafe double WeightDecay<T>(ReadOnlySpan<T> w, T scale, Span<T> dw, bool step, T negativeStep) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (w.Length != dw.Length)
            ThrowHelper.Argument($"dw has {dw.Length} elements but w has {w.Length}.", nameof(dw));
        var work = WeightDecayWork<T>.ForThisThread(ParallelLoops.Chunks(w.Length));
        fixed (T* pw = w)
        fixed (T* pdw = dw)
        {
            work.W = pw;
            work.Dw = pdw;
            (work.Scale, work.Step, work.NegativeStep) = (scale, step, negativeStep);
            ParallelLoops.For(w.Length, work);
            work.W = null;
            work.Dw = null;
        }
        double sum = 0;
        for (int c = 0; c < ParallelLoops.Chunks(w.Length); c++) sum += work.Partials[c];
        return sum;
    }

    // One per thread, so two models training at once never share partial sums.
    private sealed unsafe class WeightDecayWork<T> : RangeWork where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static WeightDecayWork<T>? t_instance;
        public T* W, Dw;
        public T Scale;
        public bool Step;
        public T NegativeStep; // −learning rate
        public double[] Partials = [];

        public static WeightDecayWork<T> ForThisThread(int chunks)
        {
            var work = t_instance ??= new WeightDecayWork<T>();
            if (work.Partials.Length < chunks) work.Partials = new double[chunks];
            return work;
        }

        public override void Run(int start, int count)
        {
            var w = new ReadOnlySpan<T>(W + start, count);
            var dw = new Span<T>(Dw + start, count);
            TensorPrimitives.MultiplyAdd(w, Scale, dw, dw);
            Partials[start / ParallelLoops.Chunk] = double.CreateChecked(TensorPrimitives.SumOfSquares(w));
            // dw·(−lr) + w rounds as Sgd's w − lr·dw: negation is exact, and neither fuses the multiply-add.
            if (Step) TensorPrimitives.MultiplyAdd(dw, NegativeStep, w, new Span<T>(W + start, count));
        }
    }

    /// <summary>
    /// ReLU forward: <c>y = max(0, x)</c> elementwise. NaN in x gives NaN in y (like numpy's <c>np.maximum</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.CheckLength(y.Length, x.Length, nameof(y), "the ReLU output");
        TensorPrimitives.Max(x, T.Zero, y.Slice(0, x.Length));
    }

    /// <summary>
    /// ReLU backward: <c>dx = dout · (x &gt; 0)</c> elementwise, where x is the forward input (or
    /// the forward output, which is positive exactly where the input is). NaN in x gives 0.
    /// </summary>
    /// <exception cref="ArgumentException">The spans' lengths differ or <paramref name="dx"/> is too short.</exception>
    public static void ReluBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dout.Length != x.Length)
            ThrowHelper.Argument($"dout has {dout.Length} elements but x has {x.Length}.", nameof(dout));
        ThrowHelper.CheckLength(dx.Length, x.Length, nameof(dx), "the ReLU gradient");
        int n = x.Length, i = 0;
        ref T pd = ref MemoryMarshal.GetReference(dout);
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(dx);
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                Mask(ref pd, ref px, ref py, (nuint)i);
            // The overlapping last vector rewrites a few outputs with identical values instead of a scalar tail.
            if (i < n)
                Mask(ref pd, ref px, ref py, (nuint)(n - Vector<T>.Count));
            return;
        }
        for (; i < n; i++)
            Unsafe.Add(ref py, i) = Unsafe.Add(ref px, i) > T.Zero ? Unsafe.Add(ref pd, i) : T.Zero;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mask<T>(ref T dout, ref T x, ref T dx, nuint i) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vx = Vector.LoadUnsafe(ref x, i);
        var vd = Vector.LoadUnsafe(ref dout, i);
        Vector.ConditionalSelect(Vector.GreaterThan(vx, Vector<T>.Zero), vd, Vector<T>.Zero).StoreUnsafe(ref dx, i);
    }

    /// <summary>
    /// Fused ReLU backward and bias gradient for a (N, D) matrix in one pass:
    /// <c>dh = dout · (h &gt; 0)</c> and <c>db[j] += Σ_i dh[i, j]</c>. Each column is summed row by
    /// row in a fixed order, so results are bitwise reproducible on every ISA.
    /// dout: (N, D), h: (N, D), dh: (N, D) (may alias dout), db: (D,).
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void ReluBackwardAddColumnSums<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> h, Span<T> dh, Span<T> db, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Reductions.CheckMatrix(n, d);
        long nd = (long)n * d;
        ThrowHelper.CheckLength(dout.Length, nd, nameof(dout), $"a ({n}, {d}) matrix");
        ThrowHelper.CheckLength(h.Length, nd, nameof(h), $"a ({n}, {d}) matrix");
        ThrowHelper.CheckLength(dh.Length, nd, nameof(dh), $"a ({n}, {d}) matrix");
        ThrowHelper.CheckLength(db.Length, d, nameof(db), $"a bias gradient over D = {d} columns");
        ref T pd = ref MemoryMarshal.GetReference(dout);
        ref T ph = ref MemoryMarshal.GetReference(h);
        ref T po = ref MemoryMarshal.GetReference(dh);
        ref T pb = ref MemoryMarshal.GetReference(db);
        int w = Vector.IsHardwareAccelerated ? Vector<T>.Count : int.MaxValue;
        for (int r = 0; r < n; r++)
        {
            nuint row = (nuint)r * (nuint)d;
            int j = 0;
            for (; j <= d - w; j += w)
            {
                nuint at = row + (nuint)j;
                var v = Vector.ConditionalSelect(
                    Vector.GreaterThan(Vector.LoadUnsafe(ref ph, at), Vector<T>.Zero),
                    Vector.LoadUnsafe(ref pd, at), Vector<T>.Zero);
                v.StoreUnsafe(ref po, at);
                (Vector.LoadUnsafe(ref pb, (nuint)j) + v).StoreUnsafe(ref pb, (nuint)j);
            }
            // A scalar tail adds each column in the same row order as the vector lanes do, so it is bitwise identical.
            for (; j < d; j++)
            {
                nuint at = row + (nuint)j;
                T v = Unsafe.Add(ref ph, at) > T.Zero ? Unsafe.Add(ref pd, at) : T.Zero;
                Unsafe.Add(ref po, at) = v;
                Unsafe.Add(ref pb, j) += v;
            }
        }
    }
}
