using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cifar.Simd.Kernels;

/// <summary>
/// The register-tile microkernel contract (see docs/kernels.md). <c>Run</c> computes an MR×NR tile
/// <c>acc = Ã·B̃</c> over <c>kc</c> steps and stores it to <c>c</c> (row stride <c>ldc</c>):
/// it reads MR elements of each of the <c>kc</c> columns of the A panel <c>a</c> (column p at a + p·lda: lda = MR
/// for a packed panel, or A's own row stride when a transposed A is read in place),
/// NR elements of each of the <c>kc</c> rows of the B panel <c>b</c> (row p at b + p·ldb: ldb = NR for
/// a packed panel, or B's own row stride when B is read in place), the full MR×NR tile of <c>c</c>
/// only when <c>!first || TEpi.Accumulate</c>, and <c>NR</c> bias values only when
/// <c>last &amp;&amp; TEpi.AddBias</c>. It always writes the full MR×NR tile: the driver hands edge
/// tiles over as a padded temporary so nothing past the caller's spans is touched.
/// </summary>
internal unsafe interface IMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows of the register tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile (two vectors).</summary>
    static abstract int NR { get; }

    static abstract bool IsSupported { get; }

    /// <summary>
    /// Computes the tile; with <see cref="LinePrefetch"/>, meanwhile prefetches the <paramref name="prefetchCount"/>
    /// cache lines at <paramref name="prefetch"/>, one every second k step (the next gathered block the driver will
    /// pack), so that reading it from memory overlaps this tile's arithmetic; with <see cref="CopyB"/>, stores each of
    /// the kc B rows it reads (NR elements at b + p·ldb) to <paramref name="bCopy"/> + p·NR, packing the panel that the
    /// block's other row tiles then read. Neither changes the result; with <see cref="NoSideWork"/> the loop has no trace of them.
    /// </summary>
    static abstract void Run<TEpi, TSide>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last,
        byte** prefetch, int prefetchCount, T* bCopy)
        where TEpi : struct, IGemmEpilogue
        where TSide : struct, IGemmSideWork;

    /// <summary>
    /// The same contract for an MR×(NR/2) tile: reads only the first NR/2 columns of each B row
    /// (still at stride ldb), of the C tile and of the bias. Halves the wasted work on a narrow N edge.
    /// </summary>
    static abstract void RunHalf<TEpi>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last)
        where TEpi : struct, IGemmEpilogue;

    /// <summary>Whether this path has <see cref="RunRows{TEpi}"/>; where not (the default), a row-major A is always packed.</summary>
    static virtual bool HasRowKernel => false;

    /// <summary>
    /// <see cref="Run{TEpi, TSide}"/> (or, with <paramref name="half"/>, <see cref="RunHalf{TEpi}"/>) with a row-major A
    /// read in place instead of from a packed panel: element p of tile row r at a + rowOffsets[r] + p, so rows may be
    /// gathered from anywhere in a matrix. Each element is the same FMA sequence and store as in <c>Run</c>, so C is bitwise the same.
    /// </summary>
    static virtual void RunRows<TEpi>(int kc, T* a, nint* rowOffsets, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last, bool half)
        where TEpi : struct, IGemmEpilogue => throw new NotSupportedException("This path has no row-form A kernel (HasRowKernel is false).");

    /// <summary>
    /// Most columns of an N edge that <see cref="RunColumns{TEpi}"/> covers; 0 (the default) where this kernel has no
    /// column form and every edge runs through <see cref="RunHalf{TEpi}"/> or <see cref="Run{TEpi, TSide}"/>.
    /// </summary>
    static virtual int EdgeColumns => 0;

    /// <summary>
    /// The first <paramref name="nr"/> (≤ <see cref="EdgeColumns"/>) columns of <paramref name="panels"/> full MR-row tiles at
    /// once, vectorised along the rows: column p of A panel g at a + g·panelStride + p·lda, B as for <see cref="Run{TEpi, TSide}"/>,
    /// C rows g·MR.. at stride ldc. Each element is the same FMA sequence and store as in <c>Run</c>, so C is bitwise the same;
    /// a tile of a few columns costs a few FMAs per k step instead of a half tile's MR.
    /// </summary>
    static virtual void RunColumns<TEpi>(int kc, T* a, nint lda, nint panelStride, int panels, T* b, nint ldb, int nr,
        T* c, nint ldc, T* bias, bool first, bool last)
        where TEpi : struct, IGemmEpilogue => throw new NotSupportedException("This path has no column edge (EdgeColumns is 0).");
}

/// <summary>
/// What a microkernel does in its k loop besides the product; constants per struct, so the JIT drops what a struct does not do.
/// </summary>
internal interface IGemmSideWork
{
    /// <summary>Prefetches the lines it is given, one every second k step.</summary>
    static abstract bool Prefetches { get; }

    /// <summary>Stores each B row it loads, NR elements, to the packed panel it is given (row p at p·NR).</summary>
    static abstract bool CopiesB { get; }
}

/// <summary>The k loop computes the product only.</summary>
internal readonly struct NoSideWork : IGemmSideWork
{
    public static bool Prefetches => false;
    public static bool CopiesB => false;
}

/// <summary>The k loop also prefetches the lines it is given.</summary>
internal readonly struct LinePrefetch : IGemmSideWork
{
    public static bool Prefetches => true;
    public static bool CopiesB => false;
}

/// <summary>The k loop also packs the B panel it reads in place.</summary>
internal readonly struct CopyB : IGemmSideWork
{
    public static bool Prefetches => false;
    public static bool CopiesB => true;
}

/// <summary>What a microkernel does at its store; constants per struct, so the JIT drops the unused branches.</summary>
internal interface IGemmEpilogue
{
    /// <summary>The first K block adds to C instead of overwriting it.</summary>
    static abstract bool Accumulate { get; }

    /// <summary>The last K block adds the bias row.</summary>
    static abstract bool AddBias { get; }

    /// <summary>The last K block clamps at zero.</summary>
    static abstract bool Relu { get; }
}

internal readonly struct NoEpilogue : IGemmEpilogue
{
    public static bool Accumulate => false;
    public static bool AddBias => false;
    public static bool Relu => false;
}

internal readonly struct BiasEpilogue : IGemmEpilogue
{
    public static bool Accumulate => false;
    public static bool AddBias => true;
    public static bool Relu => false;
}

internal readonly struct BiasReluEpilogue : IGemmEpilogue
{
    public static bool Accumulate => false;
    public static bool AddBias => true;
    public static bool Relu => true;
}

internal readonly struct AccumulateEpilogue : IGemmEpilogue
{
    public static bool Accumulate => true;
    public static bool AddBias => false;
    public static bool Relu => false;
}

/// <summary>AVX-512 tile 10×(2·16) float / 10×(2·8) double: 20 zmm accumulators + 2 B vectors + 1 broadcast = 23 of 32 registers.</summary>
internal readonly unsafe struct Avx512Kernel<T> : IMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 10;
    public static int NR => 2 * Vector512<T>.Count;
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TEpi, TSide>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last,
        byte** prefetch, int prefetchCount, T* bCopy)
        where TEpi : struct, IGemmEpilogue
        where TSide : struct, IGemmSideWork
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default;
        Vector512<T> c10 = default, c11 = default;
        Vector512<T> c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default;
        Vector512<T> c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default;
        Vector512<T> c70 = default, c71 = default;
        Vector512<T> c80 = default, c81 = default;
        Vector512<T> c90 = default, c91 = default;
        byte** prefetchEnd = prefetch + prefetchCount;
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b), b1 = Vector512.Load(b + w);
            if (TSide.CopiesB) { b0.Store(bCopy); b1.Store(bCopy + w); bCopy += 2 * w; }
            Vector512<T> ar;
            ar = Vector512.Create(a[0]); c00 = MulAdd(ar, b0, c00); c01 = MulAdd(ar, b1, c01);
            ar = Vector512.Create(a[1]); c10 = MulAdd(ar, b0, c10); c11 = MulAdd(ar, b1, c11);
            ar = Vector512.Create(a[2]); c20 = MulAdd(ar, b0, c20); c21 = MulAdd(ar, b1, c21);
            ar = Vector512.Create(a[3]); c30 = MulAdd(ar, b0, c30); c31 = MulAdd(ar, b1, c31);
            ar = Vector512.Create(a[4]); c40 = MulAdd(ar, b0, c40); c41 = MulAdd(ar, b1, c41);
            ar = Vector512.Create(a[5]); c50 = MulAdd(ar, b0, c50); c51 = MulAdd(ar, b1, c51);
            ar = Vector512.Create(a[6]); c60 = MulAdd(ar, b0, c60); c61 = MulAdd(ar, b1, c61);
            ar = Vector512.Create(a[7]); c70 = MulAdd(ar, b0, c70); c71 = MulAdd(ar, b1, c71);
            ar = Vector512.Create(a[8]); c80 = MulAdd(ar, b0, c80); c81 = MulAdd(ar, b1, c81);
            ar = Vector512.Create(a[9]); c90 = MulAdd(ar, b0, c90); c91 = MulAdd(ar, b1, c91);
            a += lda;
            b += ldb;
            // Sse.IsSupported is a JIT-time constant: no prefetch instruction off x86.
            if (TSide.Prefetches && Sse.IsSupported && (p & 1) == 0 && prefetch < prefetchEnd) Sse.Prefetch0(*prefetch++);
        }
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        Vector512<T> bias0 = default, bias1 = default;
        if (addBias) { bias0 = Vector512.Load(bias); bias1 = Vector512.Load(bias + w); }
        Store(c + 0 * ldc, w, c00, c01, load, addBias, bias0, bias1, relu);
        Store(c + 1 * ldc, w, c10, c11, load, addBias, bias0, bias1, relu);
        Store(c + 2 * ldc, w, c20, c21, load, addBias, bias0, bias1, relu);
        Store(c + 3 * ldc, w, c30, c31, load, addBias, bias0, bias1, relu);
        Store(c + 4 * ldc, w, c40, c41, load, addBias, bias0, bias1, relu);
        Store(c + 5 * ldc, w, c50, c51, load, addBias, bias0, bias1, relu);
        Store(c + 6 * ldc, w, c60, c61, load, addBias, bias0, bias1, relu);
        Store(c + 7 * ldc, w, c70, c71, load, addBias, bias0, bias1, relu);
        Store(c + 8 * ldc, w, c80, c81, load, addBias, bias0, bias1, relu);
        Store(c + 9 * ldc, w, c90, c91, load, addBias, bias0, bias1, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunHalf<TEpi>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last)
        where TEpi : struct, IGemmEpilogue
    {
        Vector512<T> c0 = default;
        Vector512<T> c1 = default;
        Vector512<T> c2 = default;
        Vector512<T> c3 = default;
        Vector512<T> c4 = default;
        Vector512<T> c5 = default;
        Vector512<T> c6 = default;
        Vector512<T> c7 = default;
        Vector512<T> c8 = default;
        Vector512<T> c9 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            c0 = MulAdd(Vector512.Create(a[0]), b0, c0);
            c1 = MulAdd(Vector512.Create(a[1]), b0, c1);
            c2 = MulAdd(Vector512.Create(a[2]), b0, c2);
            c3 = MulAdd(Vector512.Create(a[3]), b0, c3);
            c4 = MulAdd(Vector512.Create(a[4]), b0, c4);
            c5 = MulAdd(Vector512.Create(a[5]), b0, c5);
            c6 = MulAdd(Vector512.Create(a[6]), b0, c6);
            c7 = MulAdd(Vector512.Create(a[7]), b0, c7);
            c8 = MulAdd(Vector512.Create(a[8]), b0, c8);
            c9 = MulAdd(Vector512.Create(a[9]), b0, c9);
            a += lda;
            b += ldb;
        }
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        Vector512<T> bias0 = addBias ? Vector512.Load(bias) : default;
        StoreOne(c + 0 * ldc, c0, load, addBias, bias0, relu);
        StoreOne(c + 1 * ldc, c1, load, addBias, bias0, relu);
        StoreOne(c + 2 * ldc, c2, load, addBias, bias0, relu);
        StoreOne(c + 3 * ldc, c3, load, addBias, bias0, relu);
        StoreOne(c + 4 * ldc, c4, load, addBias, bias0, relu);
        StoreOne(c + 5 * ldc, c5, load, addBias, bias0, relu);
        StoreOne(c + 6 * ldc, c6, load, addBias, bias0, relu);
        StoreOne(c + 7 * ldc, c7, load, addBias, bias0, relu);
        StoreOne(c + 8 * ldc, c8, load, addBias, bias0, relu);
        StoreOne(c + 9 * ldc, c9, load, addBias, bias0, relu);
    }

    public static bool HasRowKernel => true;

    /// <summary>The tile with A read by rows in place (element p of tile row r at a + rowOffsets[r] + p); see <see cref="IMicroKernel{T}.RunRows{TEpi}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRows<TEpi>(int kc, T* a, nint* rowOffsets, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last, bool half)
        where TEpi : struct, IGemmEpilogue
    {
        int w = Vector512<T>.Count;
        nint o0 = rowOffsets[0], o1 = rowOffsets[1], o2 = rowOffsets[2], o3 = rowOffsets[3], o4 = rowOffsets[4],
            o5 = rowOffsets[5], o6 = rowOffsets[6], o7 = rowOffsets[7], o8 = rowOffsets[8], o9 = rowOffsets[9];
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        T* end = a + kc;
        if (half)
        {
            Vector512<T> h0 = default, h1 = default, h2 = default, h3 = default, h4 = default;
            Vector512<T> h5 = default, h6 = default, h7 = default, h8 = default, h9 = default;
            for (; a < end; a++)
            {
                Vector512<T> b0 = Vector512.Load(b);
                h0 = MulAdd(Vector512.Create(a[o0]), b0, h0);
                h1 = MulAdd(Vector512.Create(a[o1]), b0, h1);
                h2 = MulAdd(Vector512.Create(a[o2]), b0, h2);
                h3 = MulAdd(Vector512.Create(a[o3]), b0, h3);
                h4 = MulAdd(Vector512.Create(a[o4]), b0, h4);
                h5 = MulAdd(Vector512.Create(a[o5]), b0, h5);
                h6 = MulAdd(Vector512.Create(a[o6]), b0, h6);
                h7 = MulAdd(Vector512.Create(a[o7]), b0, h7);
                h8 = MulAdd(Vector512.Create(a[o8]), b0, h8);
                h9 = MulAdd(Vector512.Create(a[o9]), b0, h9);
                b += ldb;
            }
            Vector512<T> biasH = addBias ? Vector512.Load(bias) : default;
            StoreOne(c + 0 * ldc, h0, load, addBias, biasH, relu);
            StoreOne(c + 1 * ldc, h1, load, addBias, biasH, relu);
            StoreOne(c + 2 * ldc, h2, load, addBias, biasH, relu);
            StoreOne(c + 3 * ldc, h3, load, addBias, biasH, relu);
            StoreOne(c + 4 * ldc, h4, load, addBias, biasH, relu);
            StoreOne(c + 5 * ldc, h5, load, addBias, biasH, relu);
            StoreOne(c + 6 * ldc, h6, load, addBias, biasH, relu);
            StoreOne(c + 7 * ldc, h7, load, addBias, biasH, relu);
            StoreOne(c + 8 * ldc, h8, load, addBias, biasH, relu);
            StoreOne(c + 9 * ldc, h9, load, addBias, biasH, relu);
            return;
        }
        Vector512<T> c00 = default, c01 = default;
        Vector512<T> c10 = default, c11 = default;
        Vector512<T> c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default;
        Vector512<T> c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default;
        Vector512<T> c70 = default, c71 = default;
        Vector512<T> c80 = default, c81 = default;
        Vector512<T> c90 = default, c91 = default;
        for (; a < end; a++)
        {
            Vector512<T> b0 = Vector512.Load(b), b1 = Vector512.Load(b + w);
            Vector512<T> ar;
            ar = Vector512.Create(a[o0]); c00 = MulAdd(ar, b0, c00); c01 = MulAdd(ar, b1, c01);
            ar = Vector512.Create(a[o1]); c10 = MulAdd(ar, b0, c10); c11 = MulAdd(ar, b1, c11);
            ar = Vector512.Create(a[o2]); c20 = MulAdd(ar, b0, c20); c21 = MulAdd(ar, b1, c21);
            ar = Vector512.Create(a[o3]); c30 = MulAdd(ar, b0, c30); c31 = MulAdd(ar, b1, c31);
            ar = Vector512.Create(a[o4]); c40 = MulAdd(ar, b0, c40); c41 = MulAdd(ar, b1, c41);
            ar = Vector512.Create(a[o5]); c50 = MulAdd(ar, b0, c50); c51 = MulAdd(ar, b1, c51);
            ar = Vector512.Create(a[o6]); c60 = MulAdd(ar, b0, c60); c61 = MulAdd(ar, b1, c61);
            ar = Vector512.Create(a[o7]); c70 = MulAdd(ar, b0, c70); c71 = MulAdd(ar, b1, c71);
            ar = Vector512.Create(a[o8]); c80 = MulAdd(ar, b0, c80); c81 = MulAdd(ar, b1, c81);
            ar = Vector512.Create(a[o9]); c90 = MulAdd(ar, b0, c90); c91 = MulAdd(ar, b1, c91);
            b += ldb;
        }
        Vector512<T> bias0 = default, bias1 = default;
        if (addBias) { bias0 = Vector512.Load(bias); bias1 = Vector512.Load(bias + w); }
        Store(c + 0 * ldc, w, c00, c01, load, addBias, bias0, bias1, relu);
        Store(c + 1 * ldc, w, c10, c11, load, addBias, bias0, bias1, relu);
        Store(c + 2 * ldc, w, c20, c21, load, addBias, bias0, bias1, relu);
        Store(c + 3 * ldc, w, c30, c31, load, addBias, bias0, bias1, relu);
        Store(c + 4 * ldc, w, c40, c41, load, addBias, bias0, bias1, relu);
        Store(c + 5 * ldc, w, c50, c51, load, addBias, bias0, bias1, relu);
        Store(c + 6 * ldc, w, c60, c61, load, addBias, bias0, bias1, relu);
        Store(c + 7 * ldc, w, c70, c71, load, addBias, bias0, bias1, relu);
        Store(c + 8 * ldc, w, c80, c81, load, addBias, bias0, bias1, relu);
        Store(c + 9 * ldc, w, c90, c91, load, addBias, bias0, bias1, relu);
    }

    // Up to 4 columns: against the half tile, float 1 of 257 +3 %, 4 of 100 +5–8 %, 8 of 200 −2…−3 %; double 4 of 100 +2 %,
    // 1 of 257 +1–3 % (measured in one process).
    public static int EdgeColumns => 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunColumns<TEpi>(int kc, T* a, nint lda, nint panelStride, int panels, T* b, nint ldb, int nr,
        T* c, nint ldc, T* bias, bool first, bool last)
        where TEpi : struct, IGemmEpilogue
    {
        if (typeof(T) == typeof(double))
        {
            RunColumnsDouble<TEpi>(kc, (double*)a, lda, panelStride, panels, (double*)b, ldb, nr, (double*)c, ldc, (double*)bias, first, last);
            return;
        }
        float* af = (float*)a, bf = (float*)b, cf = (float*)c, biasf = (float*)bias;
        // Lanes 0–9: the masked loads never touch A past a panel's last row.
        Vector512<float> rows = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0).AsSingle();
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        float* tmp = stackalloc float[16];
        // Four panels × up to four columns: 16 accumulators, each A vector loaded once per k step for all columns.
        for (int j0 = 0; j0 < nr; j0 += 4)
        {
            int cols = Math.Min(4, nr - j0);
            for (int g0 = 0; g0 < panels; g0 += 4)
            {
                int count = Math.Min(4, panels - g0);
                float* a0 = af + g0 * panelStride;
                Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
                Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
                Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
                Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
                for (int p = 0; p < kc; p++)
                {
                    float* ap = a0 + p * lda, bp = bf + p * ldb + j0;
                    Vector512<float> x0 = Avx512F.MaskLoad(ap, rows, Vector512<float>.Zero);
                    Vector512<float> x1 = count > 1 ? Avx512F.MaskLoad(ap + panelStride, rows, Vector512<float>.Zero) : default;
                    Vector512<float> x2 = count > 2 ? Avx512F.MaskLoad(ap + 2 * panelStride, rows, Vector512<float>.Zero) : default;
                    Vector512<float> x3 = count > 3 ? Avx512F.MaskLoad(ap + 3 * panelStride, rows, Vector512<float>.Zero) : default;
                    Vector512<float> y = Vector512.Create(bp[0]);
                    s00 = Vector512.FusedMultiplyAdd(x0, y, s00); s10 = Vector512.FusedMultiplyAdd(x1, y, s10);
                    s20 = Vector512.FusedMultiplyAdd(x2, y, s20); s30 = Vector512.FusedMultiplyAdd(x3, y, s30);
                    if (cols > 1)
                    {
                        y = Vector512.Create(bp[1]);
                        s01 = Vector512.FusedMultiplyAdd(x0, y, s01); s11 = Vector512.FusedMultiplyAdd(x1, y, s11);
                        s21 = Vector512.FusedMultiplyAdd(x2, y, s21); s31 = Vector512.FusedMultiplyAdd(x3, y, s31);
                    }
                    if (cols > 2)
                    {
                        y = Vector512.Create(bp[2]);
                        s02 = Vector512.FusedMultiplyAdd(x0, y, s02); s12 = Vector512.FusedMultiplyAdd(x1, y, s12);
                        s22 = Vector512.FusedMultiplyAdd(x2, y, s22); s32 = Vector512.FusedMultiplyAdd(x3, y, s32);
                    }
                    if (cols > 3)
                    {
                        y = Vector512.Create(bp[3]);
                        s03 = Vector512.FusedMultiplyAdd(x0, y, s03); s13 = Vector512.FusedMultiplyAdd(x1, y, s13);
                        s23 = Vector512.FusedMultiplyAdd(x2, y, s23); s33 = Vector512.FusedMultiplyAdd(x3, y, s33);
                    }
                }
                float* c0 = cf + (nint)g0 * 10 * ldc + j0, b0 = addBias ? biasf + j0 : null;
                nint panel = 10 * ldc;
                StorePanel(c0, ldc, tmp, cols, s00, s01, s02, s03, load, b0, relu);
                if (count > 1) StorePanel(c0 + panel, ldc, tmp, cols, s10, s11, s12, s13, load, b0, relu);
                if (count > 2) StorePanel(c0 + 2 * panel, ldc, tmp, cols, s20, s21, s22, s23, load, b0, relu);
                if (count > 3) StorePanel(c0 + 3 * panel, ldc, tmp, cols, s30, s31, s32, s33, load, b0, relu);
            }
        }
    }

    // The double column edge: ten rows are eight lanes plus two, so four panels' rows 0–7 take a vector each and their
    // rows 8–9 share a fifth (lanes 2g, 2g+1 for panel g): 5 FMAs per column and k step for four panels, against a half
    // tile's 40. Each lane is still fma(a, b, acc) in k order from zero, then StoreOne's sequence, as in Run.
    private static void RunColumnsDouble<TEpi>(int kc, double* a, nint lda, nint panelStride, int panels, double* b, nint ldb, int nr,
        double* c, nint ldc, double* bias, bool first, bool last)
        where TEpi : struct, IGemmEpilogue
    {
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        double* acc = stackalloc double[16];
        double* tmp = stackalloc double[16];
        for (int j0 = 0; j0 < nr; j0 += 4)
        {
            int cols = Math.Min(4, nr - j0);
            for (int g0 = 0; g0 < panels; g0 += 4)
            {
                int count = Math.Min(4, panels - g0);
                double* a0 = a + g0 * panelStride;
                Vector512<double> s00 = default, s01 = default, s02 = default, s03 = default;
                Vector512<double> s10 = default, s11 = default, s12 = default, s13 = default;
                Vector512<double> s20 = default, s21 = default, s22 = default, s23 = default;
                Vector512<double> s30 = default, s31 = default, s32 = default, s33 = default;
                Vector512<double> t0 = default, t1 = default, t2 = default, t3 = default;
                for (int p = 0; p < kc; p++)
                {
                    double* ap = a0 + p * lda, bp = b + p * ldb + j0;
                    Vector512<double> x0 = Vector512.Load(ap);
                    Vector512<double> x1 = count > 1 ? Vector512.Load(ap + panelStride) : default;
                    Vector512<double> x2 = count > 2 ? Vector512.Load(ap + 2 * panelStride) : default;
                    Vector512<double> x3 = count > 3 ? Vector512.Load(ap + 3 * panelStride) : default;
                    // Rows 8–9 of each panel; panels past count contribute zeros and are never stored.
                    Vector512<double> xt = Vector512.Create(
                        Vector256.Create(Vector128.Load(ap + 8), count > 1 ? Vector128.Load(ap + panelStride + 8) : default),
                        Vector256.Create(count > 2 ? Vector128.Load(ap + 2 * panelStride + 8) : default,
                            count > 3 ? Vector128.Load(ap + 3 * panelStride + 8) : default));
                    Vector512<double> y = Vector512.Create(bp[0]);
                    s00 = Vector512.FusedMultiplyAdd(x0, y, s00); s10 = Vector512.FusedMultiplyAdd(x1, y, s10);
                    s20 = Vector512.FusedMultiplyAdd(x2, y, s20); s30 = Vector512.FusedMultiplyAdd(x3, y, s30);
                    t0 = Vector512.FusedMultiplyAdd(xt, y, t0);
                    if (cols > 1)
                    {
                        y = Vector512.Create(bp[1]);
                        s01 = Vector512.FusedMultiplyAdd(x0, y, s01); s11 = Vector512.FusedMultiplyAdd(x1, y, s11);
                        s21 = Vector512.FusedMultiplyAdd(x2, y, s21); s31 = Vector512.FusedMultiplyAdd(x3, y, s31);
                        t1 = Vector512.FusedMultiplyAdd(xt, y, t1);
                    }
                    if (cols > 2)
                    {
                        y = Vector512.Create(bp[2]);
                        s02 = Vector512.FusedMultiplyAdd(x0, y, s02); s12 = Vector512.FusedMultiplyAdd(x1, y, s12);
                        s22 = Vector512.FusedMultiplyAdd(x2, y, s22); s32 = Vector512.FusedMultiplyAdd(x3, y, s32);
                        t2 = Vector512.FusedMultiplyAdd(xt, y, t2);
                    }
                    if (cols > 3)
                    {
                        y = Vector512.Create(bp[3]);
                        s03 = Vector512.FusedMultiplyAdd(x0, y, s03); s13 = Vector512.FusedMultiplyAdd(x1, y, s13);
                        s23 = Vector512.FusedMultiplyAdd(x2, y, s23); s33 = Vector512.FusedMultiplyAdd(x3, y, s33);
                        t3 = Vector512.FusedMultiplyAdd(xt, y, t3);
                    }
                }
                double* c0 = c + (nint)g0 * 10 * ldc + j0, b0 = addBias ? bias + j0 : null;
                nint panel = 10 * ldc;
                StorePanelDouble(c0, ldc, acc, tmp, cols, 0, s00, s01, s02, s03, t0, t1, t2, t3, load, b0, relu);
                if (count > 1) StorePanelDouble(c0 + panel, ldc, acc, tmp, cols, 1, s10, s11, s12, s13, t0, t1, t2, t3, load, b0, relu);
                if (count > 2) StorePanelDouble(c0 + 2 * panel, ldc, acc, tmp, cols, 2, s20, s21, s22, s23, t0, t1, t2, t3, load, b0, relu);
                if (count > 3) StorePanelDouble(c0 + 3 * panel, ldc, acc, tmp, cols, 3, s30, s31, s32, s33, t0, t1, t2, t3, load, b0, relu);
            }
        }
    }

    // The first cols columns of panel g's ten rows: rows 0–7 from x, rows 8–9 from lanes 2g, 2g+1 of the shared tail t.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePanelDouble(double* c, nint ldc, double* acc, double* tmp, int cols, int g,
        Vector512<double> x0, Vector512<double> x1, Vector512<double> x2, Vector512<double> x3,
        Vector512<double> t0, Vector512<double> t1, Vector512<double> t2, Vector512<double> t3, bool load, double* bias, bool relu)
    {
        StoreColumnDouble(c, ldc, acc, tmp, g, x0, t0, load, bias, relu);
        if (cols > 1) StoreColumnDouble(c + 1, ldc, acc, tmp, g, x1, t1, load, bias == null ? null : bias + 1, relu);
        if (cols > 2) StoreColumnDouble(c + 2, ldc, acc, tmp, g, x2, t2, load, bias == null ? null : bias + 2, relu);
        if (cols > 3) StoreColumnDouble(c + 3, ldc, acc, tmp, g, x3, t3, load, bias == null ? null : bias + 3, relu);
    }

    // Ten rows of one C column through StoreOne, the half tile's own store, as two vectors of eight (the second's last six lanes unused).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumnDouble(double* c, nint ldc, double* acc, double* tmp, int g, Vector512<double> x, Vector512<double> t,
        bool load, double* bias, bool relu)
    {
        t.Store(acc + 8);
        acc[8] = acc[8 + 2 * g];
        acc[9] = acc[9 + 2 * g];
        if (load)
        {
            for (int r = 0; r < 10; r++) tmp[r] = c[r * ldc];
        }
        Vector512<T> biasVector = bias == null ? default : Vector512.Create(*bias).As<double, T>();
        StoreOne((T*)tmp, x.As<double, T>(), load, bias != null, biasVector, relu);
        StoreOne((T*)tmp + 8, Vector512.Load(acc + 8).As<double, T>(), load, bias != null, biasVector, relu);
        for (int r = 0; r < 10; r++) c[r * ldc] = tmp[r];
    }

    // The first cols columns of one panel's ten rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePanel(float* c, nint ldc, float* tmp, int cols, Vector512<float> x0, Vector512<float> x1,
        Vector512<float> x2, Vector512<float> x3, bool load, float* bias, bool relu)
    {
        StoreColumn(c, ldc, tmp, x0, load, bias, relu);
        if (cols > 1) StoreColumn(c + 1, ldc, tmp, x1, load, bias == null ? null : bias + 1, relu);
        if (cols > 2) StoreColumn(c + 2, ldc, tmp, x2, load, bias == null ? null : bias + 2, relu);
        if (cols > 3) StoreColumn(c + 3, ldc, tmp, x3, load, bias == null ? null : bias + 3, relu);
    }

    // Ten rows of one C column, gathered into a row and through StoreOne, the half tile's own store, then scattered back.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(float* c, nint ldc, float* tmp, Vector512<float> x, bool load, float* bias, bool relu)
    {
        if (load)
        {
            for (int r = 0; r < 10; r++) tmp[r] = c[r * ldc];
        }
        StoreOne((T*)tmp, x.As<float, T>(), load, bias != null, bias == null ? default : Vector512.Create(*bias).As<float, T>(), relu);
        for (int r = 0; r < 10; r++) c[r * ldc] = tmp[r];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(T* c, Vector512<T> x, bool load, bool addBias, Vector512<T> bias, bool relu)
    {
        if (load) x += Vector512.Load(c);
        if (addBias) x += bias;
        if (relu) x = Vector512.Max(x, Vector512<T>.Zero);
        x.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(T* c, int w, Vector512<T> x0, Vector512<T> x1, bool load, bool addBias, Vector512<T> bias0, Vector512<T> bias1, bool relu)
    {
        if (load) { x0 += Vector512.Load(c); x1 += Vector512.Load(c + w); }
        if (addBias) { x0 += bias0; x1 += bias1; }
        // Vector512.Max propagates NaN (IEEE 754 maximum), as numpy's maximum does.
        if (relu) { x0 = Vector512.Max(x0, Vector512<T>.Zero); x1 = Vector512.Max(x1, Vector512<T>.Zero); }
        x0.Store(c);
        x1.Store(c + w);
    }

    // Vector512.FusedMultiplyAdd is one vfmadd231 on AVX-512F.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MulAdd(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }
}

/// <summary>AVX2+FMA tile 6×(2·8) float / 6×(2·4) double: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers.</summary>
internal readonly unsafe struct Avx2Kernel<T> : IMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TEpi, TSide>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last,
        byte** prefetch, int prefetchCount, T* bCopy)
        where TEpi : struct, IGemmEpilogue
        where TSide : struct, IGemmSideWork
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default;
        Vector256<T> c10 = default, c11 = default;
        Vector256<T> c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default;
        Vector256<T> c40 = default, c41 = default;
        Vector256<T> c50 = default, c51 = default;
        byte** prefetchEnd = prefetch + prefetchCount;
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b), b1 = Vector256.Load(b + w);
            if (TSide.CopiesB) { b0.Store(bCopy); b1.Store(bCopy + w); bCopy += 2 * w; }
            Vector256<T> ar;
            ar = Vector256.Create(a[0]); c00 = MulAdd(ar, b0, c00); c01 = MulAdd(ar, b1, c01);
            ar = Vector256.Create(a[1]); c10 = MulAdd(ar, b0, c10); c11 = MulAdd(ar, b1, c11);
            ar = Vector256.Create(a[2]); c20 = MulAdd(ar, b0, c20); c21 = MulAdd(ar, b1, c21);
            ar = Vector256.Create(a[3]); c30 = MulAdd(ar, b0, c30); c31 = MulAdd(ar, b1, c31);
            ar = Vector256.Create(a[4]); c40 = MulAdd(ar, b0, c40); c41 = MulAdd(ar, b1, c41);
            ar = Vector256.Create(a[5]); c50 = MulAdd(ar, b0, c50); c51 = MulAdd(ar, b1, c51);
            a += lda;
            b += ldb;
            if (TSide.Prefetches && Sse.IsSupported && (p & 1) == 0 && prefetch < prefetchEnd) Sse.Prefetch0(*prefetch++);
        }
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        Vector256<T> bias0 = default, bias1 = default;
        if (addBias) { bias0 = Vector256.Load(bias); bias1 = Vector256.Load(bias + w); }
        Store(c + 0 * ldc, w, c00, c01, load, addBias, bias0, bias1, relu);
        Store(c + 1 * ldc, w, c10, c11, load, addBias, bias0, bias1, relu);
        Store(c + 2 * ldc, w, c20, c21, load, addBias, bias0, bias1, relu);
        Store(c + 3 * ldc, w, c30, c31, load, addBias, bias0, bias1, relu);
        Store(c + 4 * ldc, w, c40, c41, load, addBias, bias0, bias1, relu);
        Store(c + 5 * ldc, w, c50, c51, load, addBias, bias0, bias1, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunHalf<TEpi>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last)
        where TEpi : struct, IGemmEpilogue
    {
        int w = Vector256<T>.Count;
        Vector256<T> c0 = default;
        Vector256<T> c1 = default;
        Vector256<T> c2 = default;
        Vector256<T> c3 = default;
        Vector256<T> c4 = default;
        Vector256<T> c5 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            c0 = MulAdd(Vector256.Create(a[0]), b0, c0);
            c1 = MulAdd(Vector256.Create(a[1]), b0, c1);
            c2 = MulAdd(Vector256.Create(a[2]), b0, c2);
            c3 = MulAdd(Vector256.Create(a[3]), b0, c3);
            c4 = MulAdd(Vector256.Create(a[4]), b0, c4);
            c5 = MulAdd(Vector256.Create(a[5]), b0, c5);
            a += lda;
            b += ldb;
        }
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        Vector256<T> bias0 = addBias ? Vector256.Load(bias) : default;
        StoreOne(c + 0 * ldc, c0, load, addBias, bias0, relu);
        StoreOne(c + 1 * ldc, c1, load, addBias, bias0, relu);
        StoreOne(c + 2 * ldc, c2, load, addBias, bias0, relu);
        StoreOne(c + 3 * ldc, c3, load, addBias, bias0, relu);
        StoreOne(c + 4 * ldc, c4, load, addBias, bias0, relu);
        StoreOne(c + 5 * ldc, c5, load, addBias, bias0, relu);
    }

    public static bool HasRowKernel => true;

    /// <summary>The tile with A read by rows in place (element p of tile row r at a + rowOffsets[r] + p), as the AVX-512 kernel's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRows<TEpi>(int kc, T* a, nint* rowOffsets, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last, bool half)
        where TEpi : struct, IGemmEpilogue
    {
        int w = Vector256<T>.Count;
        nint o0 = rowOffsets[0], o1 = rowOffsets[1], o2 = rowOffsets[2], o3 = rowOffsets[3], o4 = rowOffsets[4], o5 = rowOffsets[5];
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        T* end = a + kc;
        if (half)
        {
            Vector256<T> h0 = default, h1 = default, h2 = default, h3 = default, h4 = default, h5 = default;
            for (; a < end; a++)
            {
                Vector256<T> b0 = Vector256.Load(b);
                h0 = MulAdd(Vector256.Create(a[o0]), b0, h0);
                h1 = MulAdd(Vector256.Create(a[o1]), b0, h1);
                h2 = MulAdd(Vector256.Create(a[o2]), b0, h2);
                h3 = MulAdd(Vector256.Create(a[o3]), b0, h3);
                h4 = MulAdd(Vector256.Create(a[o4]), b0, h4);
                h5 = MulAdd(Vector256.Create(a[o5]), b0, h5);
                b += ldb;
            }
            Vector256<T> biasH = addBias ? Vector256.Load(bias) : default;
            StoreOne(c + 0 * ldc, h0, load, addBias, biasH, relu);
            StoreOne(c + 1 * ldc, h1, load, addBias, biasH, relu);
            StoreOne(c + 2 * ldc, h2, load, addBias, biasH, relu);
            StoreOne(c + 3 * ldc, h3, load, addBias, biasH, relu);
            StoreOne(c + 4 * ldc, h4, load, addBias, biasH, relu);
            StoreOne(c + 5 * ldc, h5, load, addBias, biasH, relu);
            return;
        }
        Vector256<T> c00 = default, c01 = default;
        Vector256<T> c10 = default, c11 = default;
        Vector256<T> c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default;
        Vector256<T> c40 = default, c41 = default;
        Vector256<T> c50 = default, c51 = default;
        for (; a < end; a++)
        {
            Vector256<T> b0 = Vector256.Load(b), b1 = Vector256.Load(b + w);
            Vector256<T> ar;
            ar = Vector256.Create(a[o0]); c00 = MulAdd(ar, b0, c00); c01 = MulAdd(ar, b1, c01);
            ar = Vector256.Create(a[o1]); c10 = MulAdd(ar, b0, c10); c11 = MulAdd(ar, b1, c11);
            ar = Vector256.Create(a[o2]); c20 = MulAdd(ar, b0, c20); c21 = MulAdd(ar, b1, c21);
            ar = Vector256.Create(a[o3]); c30 = MulAdd(ar, b0, c30); c31 = MulAdd(ar, b1, c31);
            ar = Vector256.Create(a[o4]); c40 = MulAdd(ar, b0, c40); c41 = MulAdd(ar, b1, c41);
            ar = Vector256.Create(a[o5]); c50 = MulAdd(ar, b0, c50); c51 = MulAdd(ar, b1, c51);
            b += ldb;
        }
        Vector256<T> bias0 = default, bias1 = default;
        if (addBias) { bias0 = Vector256.Load(bias); bias1 = Vector256.Load(bias + w); }
        Store(c + 0 * ldc, w, c00, c01, load, addBias, bias0, bias1, relu);
        Store(c + 1 * ldc, w, c10, c11, load, addBias, bias0, bias1, relu);
        Store(c + 2 * ldc, w, c20, c21, load, addBias, bias0, bias1, relu);
        Store(c + 3 * ldc, w, c30, c31, load, addBias, bias0, bias1, relu);
        Store(c + 4 * ldc, w, c40, c41, load, addBias, bias0, bias1, relu);
        Store(c + 5 * ldc, w, c50, c51, load, addBias, bias0, bias1, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(T* c, Vector256<T> x, bool load, bool addBias, Vector256<T> bias, bool relu)
    {
        if (load) x += Vector256.Load(c);
        if (addBias) x += bias;
        if (relu) x = Vector256.Max(x, Vector256<T>.Zero);
        x.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(T* c, int w, Vector256<T> x0, Vector256<T> x1, bool load, bool addBias, Vector256<T> bias0, Vector256<T> bias1, bool relu)
    {
        if (load) { x0 += Vector256.Load(c); x1 += Vector256.Load(c + w); }
        if (addBias) { x0 += bias0; x1 += bias1; }
        // Vector256.Max propagates NaN (IEEE 754 maximum), as numpy's maximum does.
        if (relu) { x0 = Vector256.Max(x0, Vector256<T>.Zero); x1 = Vector256.Max(x1, Vector256<T>.Zero); }
        x0.Store(c);
        x1.Store(c + w);
    }

    // Vector256.FusedMultiplyAdd is one vfmadd231 with FMA3.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MulAdd(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }
}

/// <summary>Portable 128-bit tile 4×(2·4) float / 4×(2·2) double: 8 accumulators + 3 fits the 16 registers of SSE (and NEON's 32).</summary>
internal readonly unsafe struct PortableKernel<T> : IMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 4;
    public static int NR => 2 * Vector128<T>.Count;
    public static bool IsSupported => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TEpi, TSide>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last,
        byte** prefetch, int prefetchCount, T* bCopy)
        where TEpi : struct, IGemmEpilogue
        where TSide : struct, IGemmSideWork
    {
        int w = Vector128<T>.Count;
        Vector128<T> c00 = default, c01 = default;
        Vector128<T> c10 = default, c11 = default;
        Vector128<T> c20 = default, c21 = default;
        Vector128<T> c30 = default, c31 = default;
        byte** prefetchEnd = prefetch + prefetchCount;
        for (int p = 0; p < kc; p++)
        {
            Vector128<T> b0 = Vector128.Load(b), b1 = Vector128.Load(b + w);
            if (TSide.CopiesB) { b0.Store(bCopy); b1.Store(bCopy + w); bCopy += 2 * w; }
            Vector128<T> ar;
            ar = Vector128.Create(a[0]); c00 = MulAdd(ar, b0, c00); c01 = MulAdd(ar, b1, c01);
            ar = Vector128.Create(a[1]); c10 = MulAdd(ar, b0, c10); c11 = MulAdd(ar, b1, c11);
            ar = Vector128.Create(a[2]); c20 = MulAdd(ar, b0, c20); c21 = MulAdd(ar, b1, c21);
            ar = Vector128.Create(a[3]); c30 = MulAdd(ar, b0, c30); c31 = MulAdd(ar, b1, c31);
            a += lda;
            b += ldb;
            if (TSide.Prefetches && Sse.IsSupported && (p & 1) == 0 && prefetch < prefetchEnd) Sse.Prefetch0(*prefetch++);
        }
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        Vector128<T> bias0 = default, bias1 = default;
        if (addBias) { bias0 = Vector128.Load(bias); bias1 = Vector128.Load(bias + w); }
        Store(c + 0 * ldc, w, c00, c01, load, addBias, bias0, bias1, relu);
        Store(c + 1 * ldc, w, c10, c11, load, addBias, bias0, bias1, relu);
        Store(c + 2 * ldc, w, c20, c21, load, addBias, bias0, bias1, relu);
        Store(c + 3 * ldc, w, c30, c31, load, addBias, bias0, bias1, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunHalf<TEpi>(int kc, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, T* bias, bool first, bool last)
        where TEpi : struct, IGemmEpilogue
    {
        int w = Vector128<T>.Count;
        Vector128<T> c0 = default;
        Vector128<T> c1 = default;
        Vector128<T> c2 = default;
        Vector128<T> c3 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector128<T> b0 = Vector128.Load(b);
            c0 = MulAdd(Vector128.Create(a[0]), b0, c0);
            c1 = MulAdd(Vector128.Create(a[1]), b0, c1);
            c2 = MulAdd(Vector128.Create(a[2]), b0, c2);
            c3 = MulAdd(Vector128.Create(a[3]), b0, c3);
            a += lda;
            b += ldb;
        }
        bool load = !first || TEpi.Accumulate;
        bool addBias = last && TEpi.AddBias, relu = last && TEpi.Relu;
        Vector128<T> bias0 = addBias ? Vector128.Load(bias) : default;
        StoreOne(c + 0 * ldc, c0, load, addBias, bias0, relu);
        StoreOne(c + 1 * ldc, c1, load, addBias, bias0, relu);
        StoreOne(c + 2 * ldc, c2, load, addBias, bias0, relu);
        StoreOne(c + 3 * ldc, c3, load, addBias, bias0, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(T* c, Vector128<T> x, bool load, bool addBias, Vector128<T> bias, bool relu)
    {
        if (load) x += Vector128.Load(c);
        if (addBias) x += bias;
        if (relu) x = Vector128.Max(x, Vector128<T>.Zero);
        x.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(T* c, int w, Vector128<T> x0, Vector128<T> x1, bool load, bool addBias, Vector128<T> bias0, Vector128<T> bias1, bool relu)
    {
        if (load) { x0 += Vector128.Load(c); x1 += Vector128.Load(c + w); }
        if (addBias) { x0 += bias0; x1 += bias1; }
        // Vector128.Max propagates NaN (IEEE 754 maximum), as numpy's maximum does.
        if (relu) { x0 = Vector128.Max(x0, Vector128<T>.Zero); x1 = Vector128.Max(x1, Vector128<T>.Zero); }
        x0.Store(c);
        x1.Store(c + w);
    }

    // MultiplyAddEstimate fuses where the CPU has FMA and falls back to multiply + add elsewhere.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> MulAdd(Vector128<T> x, Vector128<T> y, Vector128<T> acc)
    {
        if (typeof(T) == typeof(float)) return Vector128.MultiplyAddEstimate(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector128.MultiplyAddEstimate(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }
}
