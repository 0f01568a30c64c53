using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Cifar.Simd.Kernels;

/// <summary>The operands of one GEMM call, as raw pointers into the caller's spans (pinned for the call).</summary>
internal unsafe struct GemmArgs
{
    public void* A, B, C, Bias;
    /// <summary>Rows of the stored A by index (gathered A), or null when stored row r is at A + r·lda.</summary>
    public int* ARows;
    /// <summary>Rows of the stored B by index (gathered B), or null when stored row r is at B + r·ldb.</summary>
    public int* BRows;
    /// <summary>
    /// Null, or the caller's C when this run computes its transpose (see <see cref="Gemm"/>'s choice of
    /// formulation): C is then a scratch M×N buffer the microkernels fill without epilogue, and each part
    /// writes its region of it transposed, with the epilogue, into Final (N×M, row stride M). Part 0 fills
    /// this scratch; the other parts fill their own thread's instead (see <c>RunPart</c>).
    /// </summary>
    public void* Final;
    /// <summary>
    /// Null, or all of op(B) packed once for every part of a row split: the K block starting at pc lies
    /// at SharedB + pc·roundup(N, NR), its NR panel at column j at + j·kc (see <c>PackShare</c>). Set on entry
    /// only by a caller's <see cref="PackedB{T}"/>; otherwise the parallel run sets it when its parts share B.
    /// </summary>
    public void* SharedB;
    /// <summary>
    /// Null, or where the pack of a B stored N×K (rows gathered or not) also copies the stored rows it reads, laid
    /// out as the shared packed B of a later product whose op(B) is that stored N×K matrix untransposed (K' = N rows,
    /// N' = K columns; see <c>SharedB</c>): the first layer's X[idx]ᵀ·dH, computed transposed, then reads the
    /// minibatch that its forward product X[idx]·W1 already gathered.
    /// </summary>
    public void* RowsOut;
    public int M, N, K;
    /// <summary>
    /// The reduction runs over op(A)'s columns [KBegin, KEnd) only (KEnd = 0 means K): a K segment whose
    /// partial product the caller adds to the others'. K stays the operands' full length (their row stride).
    /// </summary>
    public int KBegin, KEnd;
    /// <summary>Row stride of C: N, or N rounded up to a whole cache line for a transposed run's scratch.</summary>
    public int Ldc;
    public bool TransposeA, TransposeB;
    /// <summary>Parallel parts split C by rows (MR panels) when true, by columns (NR/2 half panels) when false.</summary>
    public bool SplitRows;
}

/// <summary>
/// Cache blocking for one (microkernel, element type) pair, derived from Zen 5's caches
/// (docs/kernels.md has the numbers per ISA):
/// KC: the KC×NR packed B micro-panel stays in half of the 48 KiB L1d while A panels stream past it;
/// MC: the MC×KC packed A block takes half of the 1 MiB L2, leaving room for B and C traffic;
/// NC: the KC×NC packed B block takes a 4 MiB share of the 32 MiB L3 (one eighth, one per core of a CCX);
/// KLong: a long reduction runs in K blocks of up to 512 (<see cref="LongestKBlock"/>), with MC and NC cut to match.
/// </summary>
internal readonly record struct GemmBlocking(int MR, int NR, int KC, int MC, int NC, int KLong)
{
    public const int L1d = 48 * 1024, L2 = 1024 * 1024, L3Share = 4 * 1024 * 1024;

    /// <summary>
    /// The K block length a long reduction may use (KLong is the longer of this and 1.25·KC): every K block re-reads and
    /// re-writes all of C, which for a C larger than L2 (1024² float is 4 MiB) comes from L3. At 512 rather than 240, 1024³ ran
    /// 9 % (float) and 12–16 % (double) faster, although the B̃ micro-panel then outgrows L1 and streams from L2 (two vectors per
    /// 10-cycle k step, well within its rate); X·W computed transposed, whose in-place A takes a cache line per k step, about 2 %
    /// slower. One length for every product: the blocks decide the order of the sums, which must not depend on the
    /// formulation, the thread count, or whether an operand is packed.
    /// </summary>
    public const int LongestKBlock = 512;

    /// <summary>
    /// Most rows of C a region may have and still read a row-major B in place, and most columns for a transposed A
    /// (tests set it to 0 to force packing).
    /// </summary>
    internal static int InPlaceMaxExtent = 256;

    /// <summary>
    /// Whether a row-major B that is packed is packed by the microkernel of each panel's first row tile, which reads it in place
    /// and stores each row it loads (tests set it to false to pack every block up front).
    /// </summary>
    internal static bool PackBInKernel = true;

    public static GemmBlocking For(int mr, int nr, int elementSize)
    {
        int kc = Math.Clamp(RoundDown(L1d / 2 / (nr * elementSize), 16), 64, 512);
        int mc = Math.Max(mr, RoundDown(L2 / 2 / (kc * elementSize), mr));
        int nc = Math.Max(nr, RoundDown(L3Share / (kc * elementSize), nr));
        return new GemmBlocking(mr, nr, kc, mc, nc, Math.Max(kc + kc / 4, LongestKBlock));
    }

    /// <summary>Rows of the Ã block for K blocks of <paramref name="kc"/>: MC, or fewer where a block longer than 1.25·KC must still fit half of L2.</summary>
    public int McFor(int kc, int elementSize) => kc <= KC + KC / 4 ? MC : Math.Max(MR, RoundDown(L2 / 2 / (kc * elementSize), MR));

    /// <summary>Columns of the B̃ block for K blocks of <paramref name="kc"/>: NC, or fewer where a block longer than 1.25·KC must still fit the L3 share.</summary>
    public int NcFor(int kc, int elementSize) => kc <= KC + KC / 4 ? NC : Math.Max(NR, RoundDown(L3Share / (kc * elementSize), NR));

    private static int RoundDown(int x, int multiple) => x / multiple * multiple;

    /// <summary>
    /// The K block length for a reduction of <paramref name="k"/>: K is cut into near-equal blocks of at most
    /// <see cref="KLong"/>, so a K just above a block (513 against 512) is two blocks of about half instead of leaving
    /// a thin last block that pays a full C-tile reload for a few steps. Where there are several, the length is
    /// rounded up to 16 elements (the last block is shorter): every block of a row then starts on a cache line,
    /// so packing a row's segment reads no line twice, and on an 8-element boundary, where the transposing pack
    /// can also store its rows untransposed 8 at a time (<c>GemmArgs.RowsOut</c>).
    /// </summary>
    public int KBlock(int k)
    {
        int longest = KLong;
        int blocks = Math.Max(1, (k + longest - 1) / longest);
        if (blocks == 1) return k;
        // (blocks − 1) rounded blocks stay under K: blocks − 1 blocks of `longest` already do.
        return Math.Min(RoundDown(longest, 16), RoundUp16((k + blocks - 1) / blocks));
    }

    private static int RoundUp16(int x) => (x + 15) / 16 * 16;
}

/// <summary>The BLIS five loops around packing and one microkernel, for one rectangle of C.</summary>
internal static unsafe class GemmDriver<T, TKernel, TEpi>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : struct, IMicroKernel<T>
    where TEpi : struct, IGemmEpilogue
{
    // Function pointers to this instantiation let the non-generic pool job call back without a delegate.
    public static readonly delegate*<in GemmArgs, int, int, void> RunPartPointer = &RunPart;

    public static readonly delegate*<in GemmArgs, int, int, void> PackSharePointer = &PackShare;

    /// <summary>Elements of the shared packed B for this product: all K rows of op(B), N rounded up to whole panels.</summary>
    public static long SharedBLength(in GemmArgs g) => (long)RoundUp(g.N, TKernel.NR) * g.K;

    /// <summary>
    /// Packs part <paramref name="part"/> of <paramref name="parts"/> of the shared B: a contiguous run of
    /// (K block, NR panel) units of a B stored N×K, or a share of every K block's rows of a row-major B.
    /// Row-split parts all need every panel, so packing it once together saves each thread from packing all of B itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackShare(in GemmArgs g, int part, int parts)
    {
        int NR = TKernel.NR, n = g.N, k = g.K;
        int kcb = Blocking.KBlock(k), nPad = RoundUp(n, NR);
        if (!g.TransposeB)
        {
            // Whole rows: a (block, panel) unit would read a panel's 32 columns from each of kc rows, a page apart at
            // N = 1024, where the hardware prefetcher does not follow; a row's full segment streams.
            for (int pc = 0; pc < k; pc += kcb)
            {
                int kc = Math.Min(kcb, k - pc);
                int r0 = kc * part / parts, r1 = kc * (part + 1) / parts;
                if (r1 > r0)
                    PackRowSegments((T*)g.B, g.BRows, n, pc + r0, r1 - r0, 0, n, (T*)g.SharedB + (nint)pc * nPad + (nint)r0 * NR, NR, kc);
            }
            return;
        }
        int panels = nPad / NR, blocks = (k + kcb - 1) / kcb;
        long units = (long)panels * blocks;
        int u0 = (int)(units * part / parts), u1 = (int)(units * (part + 1) / parts);
        T* b = (T*)g.B, shared = (T*)g.SharedB;
        for (int u = u0; u < u1; u++)
        {
            int pc = u / panels * kcb, jc = u % panels * NR;
            int kc = Math.Min(kcb, k - pc), nc = Math.Min(NR, n - jc);
            T* dst = shared + (nint)pc * nPad + (nint)jc * kc;
            PackBTransposed(b, g.BRows, k, pc, kc, jc, nc, dst, NR, null, 0);
        }
    }

    public static readonly GemmBlocking Blocking = GemmBlocking.For(TKernel.MR, TKernel.NR, sizeof(T));

    /// <summary>
    /// Number of independent output units along the split dimension: MR-row panels, or NR/2-column half
    /// panels, so that a column split of 200 columns into two parts is 96 + 104 rather than 128 + 72.
    /// </summary>
    public static int Units(in GemmArgs g) =>
        g.SplitRows ? (g.M + TKernel.MR - 1) / TKernel.MR : (g.N + ColumnUnit(g) - 1) / ColumnUnit(g);

    // A caller's packed B (the only SharedB a column split sees) is laid out in whole NR panels: its parts start on one.
    private static int ColumnUnit(in GemmArgs g) => g.SharedB != null ? TKernel.NR : TKernel.NR / 2;

    /// <summary>
    /// Computes part <paramref name="part"/> of <paramref name="parts"/>: a contiguous run of whole units; or, where
    /// <see cref="SplitsLastUnitByRows"/>, an even share of all units but the last and of the last one's row panels.
    /// </summary>
    public static void RunPart(in GemmArgs g, int part, int parts)
    {
        int i0 = 0, i1 = g.M, j0 = 0, j1 = g.N;
        if (parts > 1)
        {
            int units = Units(g);
            if (SplitsLastUnitByRows(g, units, parts))
            {
                int unit = ColumnUnit(g), rowPanels = (g.M + TKernel.MR - 1) / TKernel.MR, last = (units - 1) * unit;
                Compute(g, part != 0, 0, g.M, (units - 1) * part / parts * unit, (units - 1) * (part + 1) / parts * unit);
                // The parts' rows of the last unit lie in the caller's scratch: whole rows apart, so no line is shared.
                Compute(g, false, rowPanels * part / parts * TKernel.MR, Math.Min(g.M, rowPanels * (part + 1) / parts * TKernel.MR), last, g.N);
                return;
            }
            int u0 = (int)((long)units * part / parts), u1 = (int)((long)units * (part + 1) / parts);
            if (g.SplitRows) { i0 = u0 * TKernel.MR; i1 = Math.Min(g.M, u1 * TKernel.MR); }
            else { j0 = u0 * ColumnUnit(g); j1 = Math.Min(g.N, u1 * ColumnUnit(g)); }
        }
        Compute(g, part != 0, i0, i1, j0, j1);
    }

    /// <summary>
    /// Whether a column split of a product computed transposed, with A read in place, shares out its last unit by row panels:
    /// when the other units divide evenly among the parts. X·W at N = 200 is 13 half panels, and 6 + 7 left one part a half
    /// panel more (on two threads, 6–9 % slower than 6 + half a unit each, measured in one process).
    /// </summary>
    private static bool SplitsLastUnitByRows(in GemmArgs g, int units, int parts) =>
        !g.SplitRows && g.Final != null && g.TransposeA && g.ARows == null
        && units > parts && (units - 1) % parts == 0 && (g.M + TKernel.MR - 1) / TKernel.MR >= parts;

    /// <summary>
    /// Rows [i0, i1) × columns [j0, j1) of C; for a run that computes Cᵀ, through the caller's scratch, or with
    /// <paramref name="ownScratch"/> through this thread's: parts of a column split writing neighbouring lines of the same
    /// scratch rows kept taking those lines from each other's cache (Xᵀ·dout on 2 threads 8–15 % slower).
    /// </summary>
    private static void Compute(in GemmArgs g, bool ownScratch, int i0, int i1, int j0, int j1)
    {
        if (i0 >= i1 || j0 >= j1) return;
        if (g.Final == null)
        {
            Region<TEpi>(g, i0, i1, j0, j1);
            return;
        }
        GemmArgs s = g;
        if (ownScratch && g.SplitRows)
        {
            s.C = PackBuffers<T>.TransposedC((i1 - i0) * g.Ldc) - (nint)i0 * g.Ldc;
        }
        else if (ownScratch)
        {
            s.Ldc = RoundUp(j1 - j0, 64 / sizeof(T));
            s.C = PackBuffers<T>.TransposedC(g.M * s.Ldc) - j0;
        }
        Region<NoEpilogue>(s, i0, i1, j0, j1);
        GemmTransposeOut.Region<T, TEpi>(s, i0, i1, j0, j1);
    }

    // TKE is the epilogue the microkernels apply: TEpi itself, or none when the run fills a transposed scratch.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Region<TKE>(in GemmArgs g, int i0, int i1, int j0, int j1) where TKE : struct, IGemmEpilogue
    {
        int MR = TKernel.MR, NR = TKernel.NR;
        GemmBlocking bl = Blocking;
        int m = g.M, n = g.N, k = g.K, ldc = g.Ldc;
        T* a = (T*)g.A, b = (T*)g.B, c = (T*)g.C, bias = (T*)g.Bias;
        int* aRows = g.ARows, bRows = g.BRows;

        int kBegin = g.KBegin, kEnd = g.KEnd == 0 ? k : g.KEnd;
        // A shared packed B is laid out by K blocks of the whole K.
        Debug.Assert(g.SharedB == null || (kBegin == 0 && kEnd == k));
        int kcMax = bl.KBlock(kEnd - kBegin);
        int mcStep = bl.McFor(kcMax, sizeof(T)), mcMax = Math.Min(mcStep, RoundUp(i1 - i0, MR));
        // A gathered B block is packed row by row and read back at once: it should stay in L2, not L3.
        int ncStep = bRows == null ? bl.NcFor(kcMax, sizeof(T)) : Math.Max(NR, GemmBlocking.L2 / 2 / (kcMax * sizeof(T)) / NR * NR);
        int ncMax = Math.Min(ncStep, RoundUp(j1 - j0, NR));
        T* ap = PackBuffers<T>.A(mcMax * kcMax);
        T* shared = (T*)g.SharedB;
        T* bp = shared == null ? PackBuffers<T>.B(kcMax * ncMax) : null;
        int nPad = RoundUp(n, NR);
        T* tile = stackalloc T[MR * NR];
        T* tileBias = stackalloc T[NR];

        // A row-major B whose region has few rows of C is read in place: packing it would cost as much as
        // the product saves (a 3072×100 W1 against 200 rows), and its full NR panels need no padding.
        bool directB = shared == null && !g.TransposeB && bRows == null && ReadsInPlace(i1 - i0, n);
        // The mirror case: a transposed A (stored K×M, each k's MR values contiguous) against few columns of C,
        // such as W1ᵀ in X·W1 computed transposed, is read in place instead of packed by every thread.
        bool directA = g.TransposeA && aRows == null && ReadsInPlace(j1 - j0, m);
        // With B read in place too, and a B block small enough to stay in L2, a row-major A needs no packing either:
        // the microkernel reads its rows in place, each row panel once from memory and then from L1 against every B panel.
        bool rowsA = TKernel.HasRowKernel && !g.TransposeA && directB && RowsInPlaceFit(kcMax, Math.Min(ncStep, j1 - j0));
        // A row-major B that is packed is packed by the first row tile of each full panel, which reads the panel's rows in place
        // and stores each as it loads it: the pack then costs two stores per k step of one tile, not a pass of its own over B
        // (Xᵀ·dout computed transposed, whose B is X at a 4 KiB-multiple row stride, 5 % faster on one thread).
        bool copyB = GemmBlocking.PackBInKernel && shared == null && !g.TransposeB && bRows == null && !directB && i1 - i0 >= MR;

        // A minibatch gathered from a large training set comes from memory, not cache, and the B pack of a product
        // computed transposed (8 rows at a time) waits on it: so while the microkernels work on one block, they
        // prefetch the next block's lines. (Doing the same for a gathered A measured no faster.)
        bool prefetchB = bRows != null && g.TransposeB && shared == null;
        Prefetches prefetches = default;

        for (int jc = j0; jc < j1; jc += ncStep)
        {
            int nc = Math.Min(ncStep, j1 - jc);
            int ncFull = nc / NR * NR;
            for (int pc = kBegin; pc < kEnd; pc += kcMax)
            {
                int kc = Math.Min(kcMax, kEnd - pc);
                bool first = pc == kBegin, last = pc + kc == kEnd;
                if (shared != null) bp = shared + (nint)pc * nPad + (nint)jc * kc;
                else if (g.TransposeB) PackBTransposed(b, bRows, k, pc, kc, jc, nc, bp, NR, (T*)g.RowsOut, n);
                else if (!directB && !copyB) PackRowSegments(b, bRows, n, pc, kc, jc, nc, bp, NR);
                else if (ncFull < nc) PackRowSegments(b, null, n, pc, kc, jc + ncFull, nc - ncFull, bp + (nint)ncFull * kc, NR); // only the padded edge panel

                if (prefetchB)
                {
                    // The next B block: the next K block of these columns, or the first K block of the next columns.
                    int pcNext = pc + kc < kEnd ? pc + kc : kBegin, jcNext = pc + kc < kEnd ? jc : jc + ncStep;
                    int rowsNext = Math.Min(ncStep, j1 - jcNext);
                    prefetches = jcNext >= j1 ? default : Prefetches.Of((byte*)b, bRows, k * sizeof(T), jcNext, rowsNext, pcNext * sizeof(T),
                        Math.Min(kcMax, kEnd - pcNext) * sizeof(T), ((i1 - i0) / MR) * (ncFull / NR), kc);
                }

                for (int ic = i0; ic < i1; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, i1 - ic);
                    int mcFull = mc / MR * MR;
                    if (rowsA) { if (mcFull < mc) PackA(a, aRows, k, pc, kc, ic + mcFull, mc - mcFull, ap + (nint)mcFull * kc, MR); }
                    else if (!g.TransposeA) PackA(a, aRows, k, pc, kc, ic, mc, ap, MR);
                    else if (!directA) PackRowSegments(a, aRows, m, pc, kc, ic, mc, ap, MR);
                    else if (mcFull < mc) PackRowSegments(a, null, m, pc, kc, ic + mcFull, mc - mcFull, ap + (nint)mcFull * kc, MR); // only the padded edge panel

                    if (rowsA) RowTiles<TKE>(g, ic, mcFull, jc, nc, pc, kc, bp, first, last, tile, tileBias);
                    for (int jr = 0; jr < nc; jr += NR)
                    {
                        int nr = Math.Min(NR, nc - jr);
                        bool inPlace = directB && nr == NR;
                        T* bPanel = inPlace ? b + (nint)pc * n + jc + jr : bp + (nint)jr * kc;
                        nint ldb = inPlace ? n : NR;
                        T* biasRow = bias == null ? null : bias + jc + jr;
                        int irFrom = 0;
                        if (rowsA) irFrom = mcFull;
                        else if (nr <= TKernel.EdgeColumns && mcFull > 0)
                        {
                            // A narrow N edge (1 of 257 columns, 4 of 100) of all full row panels at once, a few FMAs per k step.
                            T* aFirst = directA ? a + (nint)pc * m + ic : ap;
                            TKernel.RunColumns<TKE>(kc, aFirst, directA ? m : MR, directA ? MR : (nint)MR * kc, mcFull / MR, bPanel, ldb, nr,
                                c + (nint)ic * ldc + jc + jr, ldc, biasRow, first, last);
                            irFrom = mcFull;
                        }
                        for (int ir = irFrom; ir < mc; ir += MR)
                        {
                            int mr = Math.Min(MR, mc - ir);
                            bool aInPlace = directA && mr == MR;
                            T* aPanel = aInPlace ? a + (nint)pc * m + ic + ir : ap + (nint)ir * kc;
                            nint lda = aInPlace ? m : MR;
                            T* cTile = c + (nint)(ic + ir) * ldc + jc + jr;
                            if (mr == MR && nr == NR)
                            {
                                int count = prefetches.Take(out byte** lines);
                                if (copyB && ic == i0 && ir == 0) // the block's first row tile packs this panel for the rest
                                    TKernel.Run<TKE, CopyB>(kc, aPanel, lda, b + (nint)pc * n + jc + jr, n, cTile, ldc, biasRow, first, last, null, 0, bPanel);
                                else if (count == 0) TKernel.Run<TKE, NoSideWork>(kc, aPanel, lda, bPanel, ldb, cTile, ldc, biasRow, first, last, null, 0, null);
                                else TKernel.Run<TKE, LinePrefetch>(kc, aPanel, lda, bPanel, ldb, cTile, ldc, biasRow, first, last, lines, count, null);
                            }
                            else
                                EdgeTile<TKE>(kc, aPanel, lda, bPanel, ldb, cTile, ldc, biasRow, first, last, mr, nr, tile, tileBias);
                        }
                    }
                }
            }
        }
    }

    // The full row panels ic..ic+mcFull of a K block with A read by rows and B in place (only B's padded edge panel is in bp),
    // row panel by row panel, so each is read from memory once and then from L1 against every B panel.
    // Kept out of Region: inline, it made the float step on two threads, which never reaches it, 2–3 % slower.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RowTiles<TKE>(in GemmArgs g, int ic, int mcFull, int jc, int nc, int pc, int kc, T* bp, bool first, bool last,
        T* tile, T* tileBias) where TKE : struct, IGemmEpilogue
    {
        int MR = TKernel.MR, NR = TKernel.NR, n = g.N, k = g.K, ldc = g.Ldc;
        T* a = (T*)g.A + pc, b = (T*)g.B, c = (T*)g.C, bias = (T*)g.Bias;
        int* aRows = g.ARows;
        nint* rowOffsets = stackalloc nint[MR];
        for (int ir = 0; ir < mcFull; ir += MR)
        {
            for (int r = 0; r < MR; r++) rowOffsets[r] = (nint)(RowOf(a, aRows, ic + ir + r, k) - a);
            for (int jr = 0; jr < nc; jr += NR)
            {
                int nr = Math.Min(NR, nc - jr);
                T* bPanel = nr == NR ? b + (nint)pc * n + jc + jr : bp + (nint)jr * kc;
                T* biasRow = bias == null ? null : bias + jc + jr;
                T* cRows = c + (nint)(ic + ir) * ldc + jc + jr;
                if (nr == NR) TKernel.RunRows<TKE>(kc, a, rowOffsets, bPanel, n, cRows, ldc, biasRow, first, last, false);
                else EdgeTileRows<TKE>(kc, a, rowOffsets, bPanel, NR, cRows, ldc, biasRow, first, last, nr, tile, tileBias);
            }
        }
    }

    /// <summary>
    /// Whether a row-major A is read in place (given B is): the <paramref name="kc"/>×<paramref name="nc"/> block of B
    /// that every row panel of A meets must fit half of L2, since each row panel runs against all of it in turn.
    /// </summary>
    public static bool RowsInPlaceFit(int kc, int nc) => (long)kc * nc * sizeof(T) <= GemmBlocking.L2 / 2;

    /// <summary>
    /// Whether an operand is read in place rather than packed, for a region whose other side has
    /// <paramref name="extent"/> elements (a row-major B against the region's rows of C, or a transposed A
    /// against its columns) and whose stored rows hold <paramref name="rowLength"/> elements:
    /// packing B costs about a fifth of a 200-row product (measured at N = 100–512, K = 3072) but under 5%
    /// of a 1024-row one; a row stride of a whole 4 KiB page maps every row of a panel to the same few
    /// cache sets, where packing wins (1024³: 86% of peak packed, 66% in place).
    /// </summary>
    public static bool ReadsInPlace(int extent, int rowLength) =>
        extent <= GemmBlocking.InPlaceMaxExtent && (long)rowLength * sizeof(T) % 4096 != 0;

    // Stored row r of A: rows are gathered by index when the caller passed row indices.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T* RowOf(T* a, int* rows, int r, int lda) => a + (nint)(rows == null ? r : rows[r]) * lda;

    // A partial tile runs the full microkernel on a padded copy, so neither C nor the bias is read or written out of bounds.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EdgeTile<TKE>(int kc, T* aPanel, nint lda, T* bPanel, nint ldb, T* cTile, int ldc, T* biasRow, bool first, bool last,
        int mr, int nr, T* tile, T* tileBias) where TKE : struct, IGemmEpilogue
    {
        int NR = TKernel.NR;
        T* biasArg = EdgeIn<TKE>(cTile, ldc, biasRow, first, last, mr, nr, tile, tileBias);
        if (nr <= NR / 2) TKernel.RunHalf<TKE>(kc, aPanel, lda, bPanel, ldb, tile, NR, biasArg, first, last);
        else TKernel.Run<TKE, NoSideWork>(kc, aPanel, lda, bPanel, ldb, tile, NR, biasArg, first, last, null, 0, null);
        EdgeOut(cTile, ldc, mr, nr, tile);
    }

    // An N-edge tile of a full row panel of A read by rows, the same way.
    private static void EdgeTileRows<TKE>(int kc, T* a, nint* rowOffsets, T* bPanel, nint ldb, T* cTile, int ldc, T* biasRow, bool first, bool last,
        int nr, T* tile, T* tileBias) where TKE : struct, IGemmEpilogue
    {
        T* biasArg = EdgeIn<TKE>(cTile, ldc, biasRow, first, last, TKernel.MR, nr, tile, tileBias);
        TKernel.RunRows<TKE>(kc, a, rowOffsets, bPanel, ldb, tile, TKernel.NR, biasArg, first, last, nr <= TKernel.NR / 2);
        EdgeOut(cTile, ldc, TKernel.MR, nr, tile);
    }

    // Copies what an edge tile's kernel reads (the C it accumulates onto, the bias) into the padded temporaries; returns its bias argument.
    private static T* EdgeIn<TKE>(T* cTile, int ldc, T* biasRow, bool first, bool last, int mr, int nr, T* tile, T* tileBias)
        where TKE : struct, IGemmEpilogue
    {
        int NR = TKernel.NR;
        if (!first || TKE.Accumulate)
        {
            for (int r = 0; r < mr; r++)
                Unsafe.CopyBlockUnaligned(tile + r * NR, cTile + (nint)r * ldc, (uint)(nr * sizeof(T)));
        }
        if (!(last && TKE.AddBias)) return null;
        new Span<T>(tileBias, NR).Clear();
        Unsafe.CopyBlockUnaligned(tileBias, biasRow, (uint)(nr * sizeof(T)));
        return tileBias;
    }

    private static void EdgeOut(T* cTile, int ldc, int mr, int nr, T* tile)
    {
        for (int r = 0; r < mr; r++)
            Unsafe.CopyBlockUnaligned(cTile + (nint)r * ldc, tile + r * TKernel.NR, (uint)(nr * sizeof(T)));
    }

    /// <summary>
    /// Packs op(B)[pc.., jc..] where B is stored N×K (op(B)[p, j] = stored row j, element p; rows optionally gathered),
    /// and copies each stored row's segment to <paramref name="rowsOut"/> too when it is not null (see <c>GemmArgs.RowsOut</c>;
    /// <paramref name="n"/> is the stored B's row count), while the segment is still in L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBTransposed(T* b, int* rows, int k, int pc, int kc, int jc, int nc, T* dst, int NR, T* rowsOut, int n)
    {
        for (int jp = 0; jp < nc; jp += NR)
        {
            int nr = Math.Min(NR, nc - jp);
            T* panel = dst + (nint)jp * kc;
            if (nr < NR) new Span<T>(panel, kc * NR).Clear();
            int jj = 0;
            if (typeof(T) == typeof(float) && NR % 8 == 0)
            {
                for (; jj + 8 <= nr; jj += 8)
                {
                    int r0 = jc + jp + jj;
                    if (rowsOut == null) PackRows8(b, rows, r0, k, pc, kc, panel + jj, NR);
                    else if (!PackRows8AndCopy(b, rows, r0, k, pc, kc, panel + jj, NR, rowsOut, n))
                    {
                        PackRows8(b, rows, r0, k, pc, kc, panel + jj, NR);
                        for (int r = r0; r < r0 + 8; r++) CopyRowOut(RowOf(b, rows, r, k) + pc, r, pc, kc, rowsOut, n, k);
                    }
                }
            }
            if (typeof(T) == typeof(double))
            {
                jj = PackRowsDouble(b, rows, jc + jp, nr, k, pc, kc, panel, NR);
                if (rowsOut != null)
                    for (int r = jc + jp; r < jc + jp + jj; r++) CopyRowOut(RowOf(b, rows, r, k) + pc, r, pc, kc, rowsOut, n, k);
            }
            for (; jj < nr; jj++)
            {
                T* src = RowOf(b, rows, jc + jp + jj, k) + pc;
                T* d = panel + jj;
                for (int p = 0; p < kc; p++) d[p * NR] = src[p];
                if (rowsOut != null) CopyRowOut(src, jc + jp + jj, pc, kc, rowsOut, n, k);
            }
        }
    }

    /// <summary>
    /// <see cref="PackRows8"/> of stored rows r0..r0+7 of B (n×k) that also stores each row into its packed-B layout at
    /// <paramref name="rowsOut"/> (see <see cref="CopyRowOut"/>) from the same loads; false, having done nothing, where the
    /// 8-element stores would straddle panels (pc not a multiple of 8) or the rows lie in two K blocks of that layout.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PackRows8AndCopy(T* b, int* rows, int r0, int k, int pc, int kc, T* dst, int NR, T* rowsOut, int n)
    {
        int kcb = Blocking.KBlock(n);
        if (pc % 8 != 0 || (r0 + 7) / kcb != r0 / kcb) return false;
        T* row = RowsOutRow(rowsOut, r0, n, k, out int kcx);
        float** copies = stackalloc float*[8];
        for (int i = 0; i < 8; i++) copies[i] = (float*)(row + (nint)i * NR);
        PackRows8(b, rows, r0, k, pc, kc, dst, NR, copies, (nint)NR * kcx);
        return true;
    }

    /// <summary>
    /// Copies elements [pc, pc + kc) of stored row <paramref name="r"/> (at <paramref name="src"/>) of an n×k matrix into
    /// its packed-B layout at <paramref name="rowsOut"/>: op(B) = the n×k matrix, K blocks of <c>KBlock(n)</c> rows, NR panels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRowOut(T* src, int r, int pc, int kc, T* rowsOut, int n, int k)
    {
        int NR = TKernel.NR;
        T* row = RowsOutRow(rowsOut, r, n, k, out int kcx);
        for (int f = pc, end = pc + kc; f < end;)
        {
            int j = f % NR, piece = Math.Min(NR - j, end - f);
            GemmPack.CopyShort((byte*)(row + (nint)(f - j) * kcx + j), (byte*)(src + (f - pc)), piece * sizeof(T));
            f += piece;
        }
    }

    // Where element 0 of row r of an n×k matrix lies in its packed-B layout (its K block's first panel), and that block's length.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T* RowsOutRow(T* rowsOut, int r, int n, int k, out int blockLength)
    {
        int kcb = Blocking.KBlock(n), pcb = r / kcb * kcb;
        blockLength = Math.Min(kcb, n - pcb);
        return rowsOut + (nint)pcb * RoundUp(k, TKernel.NR) + (nint)(r - pcb) * TKernel.NR;
    }

    /// <summary>
    /// Zeroes the padded columns of the last NR panel of every K block of an n×k matrix's packed-B layout at
    /// <paramref name="rowsOut"/>, which <see cref="CopyRowOut"/> never writes.
    /// </summary>
    public static void ClearRowsOutPadding(T* rowsOut, int n, int k)
    {
        int NR = TKernel.NR, kPad = RoundUp(k, NR);
        if (kPad == k) return;
        int kcb = Blocking.KBlock(n);
        for (int pcb = 0; pcb < n; pcb += kcb)
        {
            int kcx = Math.Min(kcb, n - pcb);
            T* panel = rowsOut + (nint)pcb * kPad + (nint)(kPad - NR) * kcx;
            for (int p = 0; p < kcx; p++) new Span<T>(panel + (nint)p * NR + (k - (kPad - NR)), kPad - k).Clear();
        }
    }

    /// <summary>Packs op(A)[ic.., pc..] (A stored M×K, rows optionally gathered) into MR-row panels, column p of a panel at p·MR, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(T* a, int* rows, int k, int pc, int kc, int ic, int mc, T* dst, int MR)
    {
        for (int ip = 0; ip < mc; ip += MR)
        {
            int mr = Math.Min(MR, mc - ip);
            T* panel = dst + (nint)ip * kc;
            if (typeof(T) == typeof(float) && MR is 8 or 10 && mr == MR)
            {
                int r0 = ic + ip;
                PackRows8(a, rows, r0, k, pc, kc, panel, MR);
                if (MR == 10)
                    GemmPack.PackRows2Float((float*)(RowOf(a, rows, r0 + 8, k) + pc), (float*)(RowOf(a, rows, r0 + 9, k) + pc),
                        kc, (float*)panel + 8, MR);
                continue;
            }
            if (mr < MR) new Span<T>(panel, kc * MR).Clear();
            int r = typeof(T) == typeof(double) ? PackRowsDouble(a, rows, ic + ip, mr, k, pc, kc, panel, MR) : 0;
            for (; r < mr; r++)
            {
                T* src = RowOf(a, rows, ic + ip + r, k) + pc;
                T* d = panel + r;
                for (int p = 0; p < kc; p++) d[p * MR] = src[p];
            }
        }
    }

    // Stored rows r0..r0+7 (gathered or not), elements pc..pc+kc, transposed into a panel at stride ldd (float only);
    // with copies, each row is also stored untransposed into panels ldd wide, panelStride apart (GemmPack.PackRows8Float).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackRows8(T* a, int* rows, int r0, int ld, int pc, int kc, T* dst, int ldd, float** copies = null, nint panelStride = 0) =>
        GemmPack.PackRows8Float(
            (float*)(RowOf(a, rows, r0, ld) + pc), (float*)(RowOf(a, rows, r0 + 1, ld) + pc),
            (float*)(RowOf(a, rows, r0 + 2, ld) + pc), (float*)(RowOf(a, rows, r0 + 3, ld) + pc),
            (float*)(RowOf(a, rows, r0 + 4, ld) + pc), (float*)(RowOf(a, rows, r0 + 5, ld) + pc),
            (float*)(RowOf(a, rows, r0 + 6, ld) + pc), (float*)(RowOf(a, rows, r0 + 7, ld) + pc),
            kc, (float*)dst, ldd, copies, pc, copies == null ? 0 : BitOperations.Log2((uint)ldd), panelStride);

    // Stored rows r0.. (gathered or not), elements pc..pc+kc, transposed into a panel at stride ldd (double only): four rows
    // at a time, then a pair; returns how many of the count rows it packed (all but an odd last one).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PackRowsDouble(T* a, int* rows, int r0, int count, int ld, int pc, int kc, T* dst, int ldd)
    {
        int r = 0;
        for (; r + 4 <= count; r += 4)
            GemmPack.PackRows4Double(
                (double*)(RowOf(a, rows, r0 + r, ld) + pc), (double*)(RowOf(a, rows, r0 + r + 1, ld) + pc),
                (double*)(RowOf(a, rows, r0 + r + 2, ld) + pc), (double*)(RowOf(a, rows, r0 + r + 3, ld) + pc),
                kc, (double*)(dst + r), ldd);
        if (r + 2 <= count)
        {
            GemmPack.PackRows2Double((double*)(RowOf(a, rows, r0 + r, ld) + pc), (double*)(RowOf(a, rows, r0 + r + 1, ld) + pc),
                kc, (double*)(dst + r), ldd);
            r += 2;
        }
        return r;
    }

    /// <summary>
    /// Packs segment [c0, c0 + len) of stored rows pc..pc+kc (row stride <paramref name="ld"/>, rows optionally
    /// gathered) into <paramref name="w"/>-wide panels, row p of a panel at p·w, zero-padded: op(A) of a
    /// transposed A into MR panels, or a row-major B into NR panels. Panels lie <paramref name="panelStride"/> elements
    /// apart (0: kc), so a part can pack a range of a K block's rows into that block's panels.
    /// </summary>
    /// <remarks>
    /// Row by row: each stored row's segment is read once, front to back, and scattered over the panels
    /// (which sit in L2). Panel by panel instead would walk kc rows at once for every few elements, more
    /// streams than the prefetcher follows, so every line of a gathered minibatch was a demand miss.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRowSegments(T* a, int* rows, int ld, int pc, int kc, int c0, int len, T* dst, int w, int panelStride = 0)
    {
        nint stride = panelStride == 0 ? kc : panelStride;
        int full = len / w * w;
        if (full < len) new Span<T>(dst + full * stride, kc * w).Clear();
        for (int p = 0; p < kc; p++)
        {
            T* src = RowOf(a, rows, pc + p, ld) + c0;
            if ((rows != null || len < ld) && p + PrefetchAhead < kc && Sse.IsSupported)
            {
                // Gathered rows, and segments of longer rows (340 of X's 3072 doubles), start on pages where the hardware
                // prefetcher starts cold: ask ahead (double Xᵀ·dout 11 % faster; whole contiguous rows need no help).
                byte* next = (byte*)(RowOf(a, rows, pc + p + PrefetchAhead, ld) + c0);
                for (nint off = 0; off < (nint)len * sizeof(T); off += 64) Sse.Prefetch0(next + off);
            }
            T* d = dst + (nint)p * w;
            for (int jp = 0; jp < full; jp += w)
                GemmPack.CopyShort((byte*)(d + jp * stride), (byte*)(src + jp), w * sizeof(T));
            if (full < len)
                Unsafe.CopyBlockUnaligned(d + full * stride, src + full, (uint)((len - full) * sizeof(T)));
        }
    }

    // Rows ahead of the one being packed whose segments are prefetched.
    private const int PrefetchAhead = 8;

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}

/// <summary>
/// Per-thread packing buffers: pinned, 64-byte aligned, allocated on first use and grown only when
/// a larger block is needed, so a warmed-up GEMM allocates nothing.
/// </summary>
internal static unsafe class PackBuffers<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? t_a;
    [ThreadStatic] private static T[]? t_b;
    [ThreadStatic] private static T[]? t_c;
    private static T[]? s_shared;

    public static T* A(int length) => Get(ref t_a, length);

    public static T* B(int length) => Get(ref t_b, length);

    /// <summary>The calling thread's scratch for a product computed transposed (its workers write into it too).</summary>
    public static T* TransposedC(int length) => Get(ref t_c, length);

    /// <summary>The packed B shared by the parts of one parallel region; only the thread holding the worker pool may call this.</summary>
    public static T* Shared(int length) => Get(ref s_shared, length);

    /// <summary>The 64-byte-aligned start of <paramref name="array"/>, grown first (pinned, uninitialized) when it holds fewer than <paramref name="length"/> elements past that point.</summary>
    public static T* Get(ref T[]? array, int length)
    {
        int pad = 64 / sizeof(T);
        if (array is null || array.Length < length + pad)
            array = GC.AllocateUninitializedArray<T>(length + pad, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (T*)((address + 63) & ~(nint)63);
    }
}
