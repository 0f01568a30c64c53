using System.Numerics;
using System.Runtime.InteropServices;

namespace Cifar.Simd.Kernels;

/// <summary>
/// op(B) (K×N) packed once into the panels one SIMD path's microkernel reads, so that several products against
/// the same B (inference in chunks of rows against one W1) pack it once instead of once per product.
/// Owns a pinned buffer that grows to the largest B packed into it; one packer at a time.
/// </summary>
internal sealed unsafe class PackedB<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[]? _buffer;

    /// <summary>Columns of op(B) last packed (the N of the products it serves).</summary>
    public int N { get; private set; }

    /// <summary>Rows of op(B) last packed (the K of the products it serves).</summary>
    public int K { get; private set; }

    /// <summary>The path whose panel width the packing used; products against it run on that path.</summary>
    public SimdPath Path { get; private set; }

    /// <summary>The 64-byte-aligned start of the packed panels.</summary>
    internal T* Pointer { get; private set; }

    /// <summary>Takes the shape of the next packing and makes room for <paramref name="length"/> elements.</summary>
    internal void Prepare(SimdPath path, int n, int k, long length)
    {
        if (length > Array.MaxLength - 64)
            ThrowHelper.Argument($"A packed {k}×{n} B needs {length} elements, more than one array holds.");
        Pointer = PackBuffers<T>.Get(ref _buffer, (int)length);
        Path = path;
        N = n;
        K = k;
    }

    /// <summary>Marks the buffer as holding no packing, so no product reads what an earlier call left in it.</summary>
    internal void Forget()
    {
        N = 0;
        K = 0;
    }
}

public static partial class Gemm
{
    /// <summary>
    /// Whether a product of <paramref name="m"/> rows against a row-major B of <paramref name="n"/> columns would
    /// pack B rather than read it in place: only then does packing it once ahead for several products save work.
    /// </summary>
    internal static bool PacksB<T>(int m, int n) where T : unmanaged, IFloatingPointIeee754<T> =>
        !GemmDriver<T, PortableKernel<T>, NoEpilogue>.ReadsInPlace(m, n);

    /// <summary>
    /// Packs op(B) (K×N; B stored N×K with <paramref name="transposeB"/>) into <paramref name="packed"/> for
    /// <see cref="MultiplyPacked{T}"/> on the active path. Large B is packed by the worker pool. Allocates only
    /// when <paramref name="packed"/> must grow.
    /// </summary>
    internal static void PackB<T>(bool transposeB, int n, int k, ReadOnlySpan<T> b, PackedB<T> packed)
        where T : unmanaged, IFloatingPointIeee754<T> => PackB(Path, transposeB, n, k, b, packed);

    /// <summary>The packing on a chosen path, so one test run can check every path the CPU has.</summary>
    internal static void PackB<T>(SimdPath path, bool transposeB, int n, int k, ReadOnlySpan<T> b, PackedB<T> packed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Gemm.PackB<{typeof(T).Name}> is not supported; use float or double.");
        Validate(0, n, k, 0, b.Length, 0, GemmEpilogue.None, 0);
        SimdPaths.ThrowIfUnsupported(path);
        switch (path)
        {
            case SimdPath.Avx512: PackB<T, Avx512Kernel<T>>(path, transposeB, n, k, b, packed); break;
            case SimdPath.Avx2: PackB<T, Avx2Kernel<T>>(path, transposeB, n, k, b, packed); break;
            default: PackB<T, PortableKernel<T>>(path, transposeB, n, k, b, packed); break;
        }
    }

    private static unsafe void PackB<T, TKernel>(SimdPath path, bool transposeB, int n, int k, ReadOnlySpan<T> b, PackedB<T> packed)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IMicroKernel<T>
    {
        fixed (T* pb = &MemoryMarshal.GetReference(b))
        {
            var args = new GemmArgs { B = pb, N = n, K = k, TransposeB = transposeB };
            long length = GemmDriver<T, TKernel, NoEpilogue>.SharedBLength(args);
            packed.Prepare(path, n, k, length);
            if (length == 0) return;
            args.SharedB = packed.Pointer;
            // Packing moves a few bytes per element: split it only where it is long enough to repay waking a worker.
            int parts = length < ParallelThreshold / 4 ? 1 : Parallelism.ThreadCount;
            if (parts > 1 && WorkerPool.TryEnter())
            {
                try
                {
                    GemmJob.Instance.Set(args, GemmDriver<T, TKernel, NoEpilogue>.PackSharePointer, null);
                    WorkerPool.Run(GemmJob.Instance, parts);
                }
                finally
                {
                    WorkerPool.Exit();
                }
            }
            else
            {
                GemmDriver<T, TKernel, NoEpilogue>.PackShare(args, 0, 1);
            }
        }
    }

    /// <summary>
    /// <c>C (M×N) = A·op(B)</c> followed by <paramref name="epilogue"/>, with op(B) taken from <paramref name="packedB"/>
    /// (see <see cref="PackB{T}(bool, int, int, ReadOnlySpan{T}, PackedB{T})"/>); runs on the path B was packed for.
    /// C is bitwise what <see cref="Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T})"/>
    /// gives. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The packed B is not K×N, a span is too short, or the bias is missing or too short.</exception>
    internal static void MultiplyPacked<T>(int m, int n, int k, ReadOnlySpan<T> a, PackedB<T> packedB, Span<T> c,
        GemmEpilogue epilogue = GemmEpilogue.None, ReadOnlySpan<T> bias = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (packedB.N != n || packedB.K != k)
            ThrowHelper.Argument($"The packed B is {packedB.K}×{packedB.N}, but the product needs op(B) {k}×{n}.", nameof(packedB));
        Validate(m, n, k, a.Length, int.MaxValue, c.Length, epilogue, bias.Length);
        Core(packedB.Path, false, false, m, n, k, a, default, default, c, epilogue, bias, packedB);
    }

    /// <summary>
    /// <c>C (M×N) = Aᵀ·B</c>, where A (K×M, stored row-major) is what <paramref name="packedA"/> holds packed as a B
    /// operand — the rows a split-K product copied there while packing them (<see cref="MultiplySplitK{T}(int, int, int, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T}, Span{T}, PackedB{T})"/>).
    /// Computed as Cᵀ = Bᵀ·A, on the path A was packed for; C is bitwise what
    /// <see cref="MultiplyGathered{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T})"/>
    /// with <c>transposeA</c> gives for the same rows whenever that product is computed transposed too. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The packed A is not K×M, a span is too short, or C (M×N) is too large to compute transposed.</exception>
    internal static unsafe void MultiplyTransposedPacked<T>(int m, int n, int k, PackedB<T> packedA, ReadOnlySpan<T> b, Span<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (packedA.N != m || packedA.K != k)
            ThrowHelper.Argument($"The packed A is {packedA.K}×{packedA.N}, but the product needs A {k}×{m}.", nameof(packedA));
        Validate(m, n, k, int.MaxValue, b.Length, c.Length, GemmEpilogue.None, 0);
        if ((long)m * n > TransposedCLimit)
            ThrowHelper.Argument($"An {m}×{n} C is larger than the {TransposedCLimit} elements a product computed transposed may have.", nameof(c));
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            c[..(m * n)].Clear();
            return;
        }
        fixed (T* pb = &MemoryMarshal.GetReference(b))
        fixed (T* pc = &MemoryMarshal.GetReference(c))
        {
            // Cᵀ (N×M) = Bᵀ·A: B (K×N) is the transposed A of that product, read in place; A is its packed B.
            var args = new GemmArgs
            {
                A = pb, TransposeA = true, SharedB = packedA.Pointer, M = n, N = m, K = k, Ldc = RoundUpToLine<T>(m), Final = pc,
            };
            args.C = PackBuffers<T>.TransposedC(n * args.Ldc);
            switch (packedA.Path)
            {
                case SimdPath.Avx512: Execute<T, Avx512Kernel<T>, NoEpilogue>(ref args); break;
                case SimdPath.Avx2: Execute<T, Avx2Kernel<T>, NoEpilogue>(ref args); break;
                default: Execute<T, PortableKernel<T>, NoEpilogue>(ref args); break;
            }
        }
    }
}
