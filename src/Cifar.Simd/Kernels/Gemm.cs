using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Cifar.Simd.Kernels;

/// <summary>What the GEMM does with each finished output element before storing it.</summary>
public enum GemmEpilogue
{
    /// <summary><c>C = op(A)·op(B)</c>.</summary>
    None,
    /// <summary><c>C = op(A)·op(B) + bias</c>, the bias broadcast over rows (length N).</summary>
    Bias,
    /// <summary><c>C = max(0, op(A)·op(B) + bias)</c>: the fused affine-ReLU forward.</summary>
    BiasRelu,
    /// <summary><c>C += op(A)·op(B)</c>.</summary>
    Accumulate,
}

/// <summary>
/// General matrix multiply over dense row-major spans: <c>C (M×N) = op(A)·op(B)</c>, where
/// op(A) is M×K and op(B) is K×N. With <c>transposeA</c> A is stored K×M; with <c>transposeB</c>
/// B is stored N×K. This covers the three products of an affine layer: X·W, dout·Wᵀ, Xᵀ·dout.
/// </summary>
/// <remarks>
/// BLIS-style: packed panels and one register-tile microkernel per <see cref="SimdPath"/>. Large
/// products run on up to <see cref="Parallelism.ThreadCount"/> threads, split over output tiles
/// only, so the result is bitwise identical for any thread count. Safe to call from several
/// threads at once on distinct outputs.
/// </remarks>
public static partial class Gemm
{
    // Below about a million multiply-adds (~10 µs of work) waking workers costs more than it saves.
    internal const long ParallelThreshold = 1L << 20;

    // Largest op(B) packed once and shared by the threads of a row split (16 MiB of float); larger ones are packed per thread.
    internal const long SharedBLimit = 1L << 22;

    // Rows of C from which each part of a row split packs B itself instead of sharing one packing of it.
    internal const int OwnBMinRows = 256;

    // Largest C computed transposed (its scratch is kept per calling thread): 1M elements, 4 MiB of float.
    internal const long TransposedCLimit = 1L << 20;

    /// <summary>Tests force a formulation: 0 chooses by shape, 1 never transposes, 2 transposes whenever allowed.</summary>
    internal static int TransposeMode;

    /// <summary>
    /// Whether C (M×N) is cheaper computed as Cᵀ = op(B)ᵀ·op(A)ᵀ: the microkernel pads M to whole MR rows and
    /// N to whole NR columns (or a half panel), so a narrow N such as 50 hidden units pads to 64 (78 % useful)
    /// while as the row side it pads to 50 of a 10-row tile. Chosen when it saves at least a twentieth of the
    /// padded work (100 columns: 7 %); K must be long enough that the extra pass over C is small beside the product.
    /// </summary>
    internal static bool ComputeTransposed(int m, int n, int k, int mr, int nr)
    {
        if (TransposeMode == 1 || (long)m * n > TransposedCLimit) return false;
        if (TransposeMode == 2) return true;
        return k >= 32 && PaddedWork(n, m, mr, nr) * 100 <= PaddedWork(m, n, mr, nr) * 95;
    }

    /// <summary>
    /// The operands of Cᵀ = op(B)ᵀ·op(A)ᵀ for the product <paramref name="g"/> describes, with no C yet: its scratch rows
    /// start on cache lines, so parts split at half panels never write the same line.
    /// </summary>
    private static unsafe GemmArgs Transposed<T>(in GemmArgs g) where T : unmanaged => new()
    {
        A = g.B, TransposeA = !g.TransposeB,
        B = g.A, BRows = g.ARows, TransposeB = !g.TransposeA,
        M = g.N, N = g.M, K = g.K, Ldc = RoundUpToLine<T>(g.M),
    };

    // x rounded up to a whole 64-byte cache line of T.
    private static unsafe int RoundUpToLine<T>(int x) where T : unmanaged => (x + 64 / sizeof(T) - 1) / (64 / sizeof(T)) * (64 / sizeof(T));

    // Multiply-adds the microkernels run for an M×N output, edge tiles included (an N edge of at most NR/2 runs a half tile).
    private static long PaddedWork(int m, int n, int mr, int nr)
    {
        int rest = n % nr;
        long paddedN = n - rest + (rest == 0 ? 0 : rest <= nr / 2 ? nr / 2 : nr);
        return (long)((m + mr - 1) / mr * mr) * paddedN;
    }

    /// <summary>The SIMD path the GEMM runs on: the CPU's best unless <c>CIFAR_SIMD_PATH</c> forces one.</summary>
    /// <exception cref="PlatformNotSupportedException"><c>CIFAR_SIMD_PATH</c> names a path this CPU lacks.</exception>
    /// <exception cref="ArgumentException"><c>CIFAR_SIMD_PATH</c> is not a path name.</exception>
    public static SimdPath Path => SimdPaths.Active;

    /// <summary>
    /// Computes <c>C = op(A)·op(B)</c> followed by <paramref name="epilogue"/>. Allocates nothing.
    /// NaN in A or B propagates to the outputs it touches.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative, a span is too short, or the bias is missing or too short.</exception>
    public static void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c,
        GemmEpilogue epilogue = GemmEpilogue.None, ReadOnlySpan<T> bias = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(m, n, k, a.Length, b.Length, c.Length, epilogue, bias.Length);
        Core(Path, transposeA, transposeB, m, n, k, a, default, b, c, epilogue, bias, null);
    }

    /// <summary>
    /// <see cref="Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T})"/>
    /// with A's rows gathered: the stored A (M×K, or K×M with <paramref name="transposeA"/>) is the matrix
    /// whose row r is row <c>aRows[r]</c> of <paramref name="a"/>. A minibatch's rows are packed straight
    /// from the training set this way, never copied into a batch buffer first. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative, a span is too short, <paramref name="aRows"/> does not hold
    /// one index per stored row of A, or an index names a row outside <paramref name="a"/>.</exception>
    public static void MultiplyGathered<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<int> aRows, ReadOnlySpan<T> b, Span<T> c,
        GemmEpilogue epilogue = GemmEpilogue.None, ReadOnlySpan<T> bias = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateGathered(transposeA, m, n, k, a.Length, aRows, b.Length, c.Length, epilogue, bias.Length);
        Core(Path, transposeA, transposeB, m, n, k, a, aRows, b, c, epilogue, bias, null);
    }

    /// <summary>The same product on a chosen path, so one test run can check every path the CPU has.</summary>
    internal static void Multiply<T>(SimdPath path, bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c,
        GemmEpilogue epilogue = GemmEpilogue.None, ReadOnlySpan<T> bias = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(m, n, k, a.Length, b.Length, c.Length, epilogue, bias.Length);
        SimdPaths.ThrowIfUnsupported(path);
        Core(path, transposeA, transposeB, m, n, k, a, default, b, c, epilogue, bias, null);
    }

    /// <summary>The gathered product on a chosen path.</summary>
    internal static void MultiplyGathered<T>(SimdPath path, bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<int> aRows, ReadOnlySpan<T> b, Span<T> c,
        GemmEpilogue epilogue = GemmEpilogue.None, ReadOnlySpan<T> bias = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateGathered(transposeA, m, n, k, a.Length, aRows, b.Length, c.Length, epilogue, bias.Length);
        SimdPaths.ThrowIfUnsupported(path);
        Core(path, transposeA, transposeB, m, n, k, a, aRows, b, c, epilogue, bias, null);
    }

    private static void ValidateGathered(bool transposeA, int m, int n, int k, int aLength, ReadOnlySpan<int> aRows,
        int bLength, int cLength, GemmEpilogue epilogue, int biasLength)
    {
        // A itself is checked row by row below, so the shape check sees a long enough A.
        Validate(m, n, k, int.MaxValue, bLength, cLength, epilogue, biasLength);
        int storedRows = transposeA ? k : m, rowLength = transposeA ? m : k;
        if (aRows.Length != storedRows)
            ThrowHelper.Argument($"aRows holds {aRows.Length} row indices, but the stored A ({(transposeA ? "K×M" : "M×K")}) has {storedRows} rows.", nameof(aRows));
        if (rowLength == 0) return;
        int available = aLength / rowLength;
        for (int r = 0; r < aRows.Length; r++)
        {
            if ((uint)aRows[r] >= (uint)available)
                ThrowHelper.Argument($"aRows[{r}] = {aRows[r]} is not a row of a, which holds {available} rows of {rowLength}.", nameof(aRows));
        }
    }

    internal static void Validate(int m, int n, int k, int aLength, int bLength, int cLength, GemmEpilogue epilogue, int biasLength)
    {
        if (m < 0 || n < 0 || k < 0)
            ThrowHelper.Argument($"GEMM dimensions must be ≥ 0; got M = {m}, N = {n}, K = {k}.");
        // Each message is built only on failure: an interpolated argument would allocate on every call.
        if (aLength < (long)m * k) ThrowHelper.CheckLength(aLength, (long)m * k, "a", $"an {m}×{k} operand");
        if (bLength < (long)k * n) ThrowHelper.CheckLength(bLength, (long)k * n, "b", $"a {k}×{n} operand");
        if (cLength < (long)m * n) ThrowHelper.CheckLength(cLength, (long)m * n, "c", $"an {m}×{n} output");
        if (epilogue is GemmEpilogue.Bias or GemmEpilogue.BiasRelu && biasLength < n)
            ThrowHelper.CheckLength(biasLength, n, "bias", $"a bias epilogue over N = {n} columns");
        if ((uint)epilogue > (uint)GemmEpilogue.Accumulate)
            ThrowHelper.Argument($"Unknown GEMM epilogue {epilogue}.", nameof(epilogue));
    }

    private static unsafe void Core<T>(SimdPath path, bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<int> aRows, ReadOnlySpan<T> b, Span<T> c, GemmEpilogue epilogue, ReadOnlySpan<T> bias,
        PackedB<T>? packedB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Gemm.Multiply<{typeof(T).Name}> is not supported; use float or double.");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            EmptyProduct(m, n, c, epilogue, bias);
            return;
        }
        fixed (T* pa = &MemoryMarshal.GetReference(a))
        fixed (int* prows = &MemoryMarshal.GetReference(aRows))
        fixed (T* pb = &MemoryMarshal.GetReference(b))
        fixed (T* pc = &MemoryMarshal.GetReference(c))
        fixed (T* pbias = &MemoryMarshal.GetReference(bias))
        {
            var args = new GemmArgs
            {
                A = pa, B = pb, C = pc, ARows = aRows.IsEmpty ? null : prows,
                Bias = epilogue is GemmEpilogue.Bias or GemmEpilogue.BiasRelu ? pbias : null,
                M = m, N = n, K = k, Ldc = n, TransposeA = transposeA, TransposeB = transposeB,
                SharedB = packedB == null ? null : packedB.Pointer,
            };
            switch (path)
            {
                case SimdPath.Avx512: ByEpilogue<T, Avx512Kernel<T>>(ref args, epilogue); break;
                case SimdPath.Avx2: ByEpilogue<T, Avx2Kernel<T>>(ref args, epilogue); break;
                default: ByEpilogue<T, PortableKernel<T>>(ref args, epilogue); break;
            }
        }
    }

    private static void ByEpilogue<T, TKernel>(ref GemmArgs args, GemmEpilogue epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IMicroKernel<T>
    {
        switch (epilogue)
        {
            case GemmEpilogue.Bias: Run<T, TKernel, BiasEpilogue>(ref args); break;
            case GemmEpilogue.BiasRelu: Run<T, TKernel, BiasReluEpilogue>(ref args); break;
            case GemmEpilogue.Accumulate: Run<T, TKernel, AccumulateEpilogue>(ref args); break;
            default: Run<T, TKernel, NoEpilogue>(ref args); break;
        }
    }

    private static unsafe void Run<T, TKernel, TEpi>(ref GemmArgs args)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IMicroKernel<T>
        where TEpi : struct, IGemmEpilogue
    {
        // A B the caller packed ahead (PackedB) arrives as SharedB; nothing else sets it before this point.
        bool prepacked = args.SharedB != null;
        if (!prepacked && !TEpi.Accumulate && ComputeTransposed(args.M, args.N, args.K, TKernel.MR, TKernel.NR))
        {
            // Cᵀ = op(B)ᵀ·op(A)ᵀ into a scratch; every part then writes its region of C back transposed.
            var transposed = Transposed<T>(args);
            args = transposed with { C = PackBuffers<T>.TransposedC(transposed.M * transposed.Ldc), Final = args.C, Bias = args.Bias };
        }
        Execute<T, TKernel, TEpi>(ref args);
    }

    // Runs the product args describes (already in the formulation it is computed in) on the worker pool, or on this thread.
    private static unsafe void Execute<T, TKernel, TEpi>(ref GemmArgs args)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IMicroKernel<T>
        where TEpi : struct, IGemmEpilogue
    {
        bool prepacked = args.SharedB != null;
        // Split the longer side of C; every part owns whole tiles and the full K loop. But when a transposed A
        // is read in place (W1ᵀ of X·W1 computed transposed) and B must be packed, split the columns: each part
        // then packs only its own columns of B, where a row split would pack all of B, or share it across cores.
        // A prepacked B splits either way: its column parts start on whole NR panels.
        args.SplitRows = (args.M + TKernel.MR - 1) / TKernel.MR >= (args.N + TKernel.NR - 1) / TKernel.NR;
        if (!prepacked && args.SplitRows && args.TransposeA && args.ARows == null && GemmDriver<T, TKernel, TEpi>.ReadsInPlace(args.N, args.M)
            && (args.TransposeB || args.BRows != null))
            args.SplitRows = false;
        int parts = (long)args.M * args.N * args.K < ParallelThreshold
            ? 1
            : Math.Min(Parallelism.ThreadCount, GemmDriver<T, TKernel, TEpi>.Units(args));
        if (parts > 1 && WorkerPool.TryEnter())
        {
            try
            {
                long shared = GemmDriver<T, TKernel, TEpi>.SharedBLength(args);
                // Only a row split shares B, only when its parts would pack it rather than read it in place, and only when
                // they are short: a part of many rows repays packing each K block of B itself, into its own L2, just before
                // using it (509×257×1021 on 2 threads 9 % faster than one shared B packed up front, 1024³ 2 %).
                int partRows = (int)Math.Min(args.M, ((long)GemmDriver<T, TKernel, TEpi>.Units(args) + parts - 1) / parts * TKernel.MR);
                bool inPlace = !args.TransposeB && args.BRows == null && GemmDriver<T, TKernel, TEpi>.ReadsInPlace(partRows, args.N);
                bool share = !prepacked && args.SplitRows && !inPlace && shared <= SharedBLimit && partRows < OwnBMinRows;
                if (share) args.SharedB = PackBuffers<T>.Shared((int)shared);
                GemmJob.Instance.Set(args, GemmDriver<T, TKernel, TEpi>.RunPartPointer, share ? GemmDriver<T, TKernel, TEpi>.PackSharePointer : null);
                WorkerPool.Run(GemmJob.Instance, parts);
            }
            finally
            {
                WorkerPool.Exit();
            }
        }
        else
        {
            GemmDriver<T, TKernel, TEpi>.RunPart(args, 0, 1);
        }
    }

    // K = 0: the product is an empty sum (zero), so only the epilogue remains.
    private static void EmptyProduct<T>(int m, int n, Span<T> c, GemmEpilogue epilogue, ReadOnlySpan<T> bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (epilogue)
        {
            case GemmEpilogue.None:
                c[..(m * n)].Clear();
                break;
            case GemmEpilogue.Bias:
            case GemmEpilogue.BiasRelu:
                for (int i = 0; i < m; i++)
                {
                    Span<T> row = c.Slice(i * n, n);
                    if (epilogue == GemmEpilogue.Bias) bias[..n].CopyTo(row);
                    else TensorPrimitives.Max(bias[..n], T.Zero, row);
                }
                break;
        }
    }

    /// <summary>The pool's reusable job: one instance, used only by the thread holding the pool.</summary>
    private sealed unsafe class GemmJob : ParallelWork
    {
        public static readonly GemmJob Instance = new();
        private GemmArgs _args;
        private delegate*<in GemmArgs, int, int, void> _run;
        private delegate*<in GemmArgs, int, int, void> _packShared;
        private int _packed;

        public void Set(in GemmArgs args, delegate*<in GemmArgs, int, int, void> run, delegate*<in GemmArgs, int, int, void> packShared)
        {
            _args = args;
            _run = run;
            _packShared = packShared;
            _packed = 0;
        }

        public override void Execute(int part, int parts)
        {
            if (_packShared != null)
            {
                _packShared(in _args, part, parts);
                // Every part runs on its own thread at once, so waiting here for all packers cannot deadlock.
                WorkerPool.ArriveAndWait(ref _packed, parts);
            }
            _run(in _args, part, parts);
        }
    }
}
