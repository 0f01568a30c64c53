using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cifar.Simd.Kernels;

public static partial class Gemm
{
    /// <summary>Elements of the scratch <see cref="MultiplySplitK{T}(int, int, int, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T}, Span{T}, PackedB{T})"/> needs for an M×N product.</summary>
    internal static int SplitKScratchLength<T>(int m, int n) where T : unmanaged =>
        checked(2 * n * RoundUpToLine<T>(m));

    /// <summary>
    /// <c>C (M×N) = A·B</c> followed by <paramref name="epilogue"/>, summed as two K segments: each element is
    /// (Σ over k &lt; K/2) + (Σ over k ≥ K/2), then the epilogue. The segments run on different cores, so each core
    /// reads only its half of B's rows: a weight matrix that the same cores update by contiguous halves (the
    /// training step's weight decay and update) then never moves between cores. A is gathered by
    /// <paramref name="aRows"/> when given. C is the same for any thread count and path-specific only through the
    /// microkernel, like <see cref="Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T})"/>;
    /// it differs from that single-sum product in the last bits. <paramref name="scratch"/> holds the two partial
    /// products (<see cref="SplitKScratchLength{T}(int, int)"/> elements). Allocates nothing.
    /// </summary>
    /// <remarks>
    /// With <paramref name="rowsOut"/>, the product also leaves A (M×K, its rows gathered) packed there as the A of
    /// <see cref="MultiplyTransposedPacked{T}"/> — the weight gradient Aᵀ·dC of the same layer — whenever both products are
    /// computed transposed on this path (the packing that transposes A's rows for this product copies them there while they
    /// are in L1), and returns true; otherwise it returns false and <paramref name="rowsOut"/> holds nothing.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// A dimension is negative, a span is too short, a row index is out of range, the epilogue accumulates, or the bias is missing or too short.
    /// </exception>
    internal static bool MultiplySplitK<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<int> aRows, ReadOnlySpan<T> b, Span<T> c,
        GemmEpilogue epilogue, ReadOnlySpan<T> bias, Span<T> scratch, PackedB<T>? rowsOut = null)
        where T : unmanaged, IFloatingPointIeee754<T> => MultiplySplitK(Path, m, n, k, a, aRows, b, c, epilogue, bias, scratch, rowsOut);

    /// <summary>The split-K product on a chosen path, so one test run can check every path the CPU has.</summary>
    internal static unsafe bool MultiplySplitK<T>(SimdPath path, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<int> aRows,
        ReadOnlySpan<T> b, Span<T> c, GemmEpilogue epilogue, ReadOnlySpan<T> bias, Span<T> scratch, PackedB<T>? rowsOut = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Gemm.MultiplySplitK<{typeof(T).Name}> is not supported; use float or double.");
        if (aRows.IsEmpty) Validate(m, n, k, a.Length, b.Length, c.Length, epilogue, bias.Length);
        else ValidateGathered(false, m, n, k, a.Length, aRows, b.Length, c.Length, epilogue, bias.Length);
        if (epilogue == GemmEpilogue.Accumulate)
            ThrowHelper.Argument("A split-K product overwrites C; the Accumulate epilogue is not supported.", nameof(epilogue));
        SimdPaths.ThrowIfUnsupported(path);
        rowsOut?.Forget();
        if (m == 0 || n == 0) return false;
        if (k < 2)
        {
            // One K segment would be empty: the plain product is the same sum.
            Core(path, false, false, m, n, k, a, aRows, b, c, epilogue, bias, null);
            return false;
        }
        ThrowHelper.CheckLength(scratch.Length, SplitKScratchLength<T>(m, n), nameof(scratch), $"two partial {m}×{n} products");
        return path switch
        {
            SimdPath.Avx512 => SplitK<T, Avx512Kernel<T>>(path, m, n, k, a, aRows, b, c, epilogue, bias, scratch, rowsOut),
            SimdPath.Avx2 => SplitK<T, Avx2Kernel<T>>(path, m, n, k, a, aRows, b, c, epilogue, bias, scratch, rowsOut),
            _ => SplitK<T, PortableKernel<T>>(path, m, n, k, a, aRows, b, c, epilogue, bias, scratch, rowsOut),
        };
    }

    private static unsafe bool SplitK<T, TKernel>(SimdPath path, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<int> aRows,
        ReadOnlySpan<T> b, Span<T> c, GemmEpilogue epilogue, ReadOnlySpan<T> bias, Span<T> scratch, PackedB<T>? rowsOut)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IMicroKernel<T>
    {
        // Rounded down to 16 elements, so every row of A splits on a cache line and the two cores never read the same line;
        // the boundary depends only on K, never on the thread count.
        int split = Math.Max(1, k / 2 / 16 * 16);
        bool transposed = ComputeTransposed(m, n, k, TKernel.MR, TKernel.NR);
        // The rows are copied where this product packs them as a transposed B, for a weight gradient computed transposed too;
        // not for a large batch, whose copy would outgrow what it saves (the same 16 MiB bound as a shared packed B).
        bool packRows = rowsOut != null && transposed && ComputeTransposed(k, n, m, TKernel.MR, TKernel.NR)
            && (long)m * ((k + TKernel.NR - 1) / TKernel.NR * TKernel.NR) <= SharedBLimit;
        if (packRows)
        {
            var layout = new GemmArgs { N = k, K = m };
            rowsOut!.Prepare(path, k, m, GemmDriver<T, TKernel, NoEpilogue>.SharedBLength(layout));
            GemmDriver<T, TKernel, NoEpilogue>.ClearRowsOutPadding(rowsOut.Pointer, m, k);
        }
        fixed (T* pa = &MemoryMarshal.GetReference(a))
        fixed (int* prows = &MemoryMarshal.GetReference(aRows))
        fixed (T* pb = &MemoryMarshal.GetReference(b))
        fixed (T* pc = &MemoryMarshal.GetReference(c))
        fixed (T* pbias = &MemoryMarshal.GetReference(bias))
        fixed (T* ps = &MemoryMarshal.GetReference(scratch))
        {
            int* rows = aRows.IsEmpty ? null : prows;
            // Each segment's partial product: C itself laid out, or its transpose when that pads less (N = 50 or 100 hidden units).
            var plain = new GemmArgs { A = pa, ARows = rows, B = pb, M = m, N = n, K = k, Ldc = n };
            GemmArgs segment = transposed ? Transposed<T>(plain) with { RowsOut = packRows ? rowsOut!.Pointer : null } : plain;
            int half = n * RoundUpToLine<T>(m);
            var product = new SplitKProduct
            {
                // Within a segment, pieces split the batch: C's rows, or the columns of its transpose.
                First = segment with { C = ps, KBegin = 0, KEnd = split, SplitRows = !transposed },
                Second = segment with { C = ps + half, KBegin = split, KEnd = k, SplitRows = !transposed },
                Out = pc, Bias = epilogue is GemmEpilogue.Bias or GemmEpilogue.BiasRelu ? pbias : null,
                Relu = epilogue == GemmEpilogue.BiasRelu, Transposed = transposed, Rows = m, Columns = n,
                Run = GemmDriver<T, TKernel, NoEpilogue>.RunPartPointer, Combine = &Combine<T>,
            };
            int pairs = (long)m * n * k < ParallelThreshold ? 0 : Parallelism.ThreadCount / 2;
            product.SegmentParts = Math.Min(pairs, GemmDriver<T, TKernel, NoEpilogue>.Units(product.First));
            if (product.SegmentParts >= 1 && WorkerPool.TryEnter())
            {
                try
                {
                    SplitKJob.Instance.Set(product);
                    WorkerPool.Run(SplitKJob.Instance, 2 * product.SegmentParts);
                }
                finally
                {
                    SplitKJob.Instance.Set(default);
                    WorkerPool.Exit();
                }
            }
            else
            {
                product.Run(in product.First, 0, 1);
                product.Run(in product.Second, 0, 1);
                product.Combine(in product, 0, m);
            }
        }
        return packRows;
    }

    // Rows [r0, r1) of C = epilogue(first + second), from partials laid out as C (row stride N) or as Cᵀ (row stride ldp;
    // the second is then added into the first in place).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Combine<T>(in SplitKProduct job, int r0, int r1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p0 = (T*)job.First.C, p1 = (T*)job.Second.C, c = (T*)job.Out, bias = (T*)job.Bias;
        int n = job.Columns;
        bool relu = job.Relu;
        if (!job.Transposed)
        {
            int w = Vector<T>.Count;
            for (int i = r0; i < r1; i++)
            {
                T* x0 = p0 + (nint)i * n, x1 = p1 + (nint)i * n, y = c + (nint)i * n;
                int j = 0;
                for (; j <= n - w; j += w)
                {
                    var v = Vector.Load(x0 + j) + Vector.Load(x1 + j);
                    if (bias != null) v += Vector.Load(bias + j);
                    if (relu) v = Vector.Max(v, Vector<T>.Zero);
                    v.Store(y + j);
                }
                for (; j < n; j++) y[j] = Finish(x0[j] + x1[j], bias, j, relu);
            }
            return;
        }
        // The partials are Cᵀ: add them in their own (contiguous) layout, then write the sum out transposed with the
        // epilogue, 8×8 at a time, as a transposed product's last step does. Each part owns columns [r0, r1) of the sum.
        nint ldp = job.First.Ldc;
        int wt = Vector<T>.Count;
        for (int j = 0; j < n; j++)
        {
            T* x0 = p0 + j * ldp, x1 = p1 + j * ldp;
            int i = r0;
            for (; i <= r1 - wt; i += wt) (Vector.Load(x0 + i) + Vector.Load(x1 + i)).Store(x0 + i);
            for (; i < r1; i++) x0[i] += x1[i];
        }
        var sum = new GemmArgs { C = p0, Final = c, Bias = bias, M = n, N = job.Rows, Ldc = (int)ldp };
        if (bias == null) GemmTransposeOut.Region<T, NoEpilogue>(sum, 0, n, r0, r1);
        else if (relu) GemmTransposeOut.Region<T, BiasReluEpilogue>(sum, 0, n, r0, r1);
        else GemmTransposeOut.Region<T, BiasEpilogue>(sum, 0, n, r0, r1);
    }

    // The same operations, in the same order, as the vector lanes: (first + second) + bias, then ReLU (NaN stays NaN).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe T Finish<T>(T sum, T* bias, int j, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (bias != null) sum += bias[j];
        return relu ? T.Max(sum, T.Zero) : sum;
    }

    /// <summary>One split-K product: the two segments' runs, then the combine into the caller's C.</summary>
    private unsafe struct SplitKProduct
    {
        public GemmArgs First, Second;
        public void* Out, Bias;
        public bool Relu, Transposed;
        public int Rows, Columns, SegmentParts;
        public delegate*<in GemmArgs, int, int, void> Run;
        public delegate*<in SplitKProduct, int, int, void> Combine;
    }

    /// <summary>The pool's reusable split-K job: one instance, used only by the thread holding the pool.</summary>
    private sealed unsafe class SplitKJob : ParallelWork
    {
        public static readonly SplitKJob Instance = new();
        private SplitKProduct _product;
        private int _done;

        public void Set(in SplitKProduct product)
        {
            _product = product;
            _done = 0;
        }

        public override void Execute(int part, int parts)
        {
            // Part p computes piece p / 2 of segment p % 2, then, once every piece is done, its share of C's rows.
            if (part % 2 == 0) _product.Run(in _product.First, part / 2, _product.SegmentParts);
            else _product.Run(in _product.Second, part / 2, _product.SegmentParts);
            WorkerPool.ArriveAndWait(ref _done, parts);
            _product.Combine(in _product, (int)((long)_product.Rows * part / parts), (int)((long)_product.Rows * (part + 1) / parts));
        }
    }
}
