using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cifar.Simd.Kernels;

/// <summary>Vectorised packing helpers for the hot layouts.</summary>
internal static unsafe class GemmPack
{
    /// <summary>
    /// Transposes 8 rows of a row-major float matrix (stride <paramref name="lda"/>) into a panel:
    /// column p of the 8 rows lands at dst + ldd·p (ldd = MR for A panels, NR for transposed B).
    /// An in-register 8×8 transpose turns eight strided scalar gathers into eight row loads and
    /// eight 8-wide stores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows8Float(float* src, nint lda, int kc, float* dst, nint ldd) =>
        PackRows8Float(src, src + lda, src + 2 * lda, src + 3 * lda, src + 4 * lda, src + 5 * lda, src + 6 * lda, src + 7 * lda, kc, dst, ldd);

    /// <summary>
    /// The same transpose of eight rows given by their addresses, for rows gathered from anywhere in a matrix.
    /// With <paramref name="copies"/> (eight row starts), each row is also stored untransposed, as loaded, into panels
    /// <c>1 &lt;&lt; <paramref name="panelShift"/></c> elements wide, <paramref name="panelStride"/> apart: element p of
    /// row i lands at copies[i] + (f &gt;&gt; panelShift)·panelStride + (f mod width) with f = <paramref name="f0"/> + p
    /// (f0 and the width multiples of 8, so no 8-element store straddles two panels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows8Float(float* s0, float* s1, float* s2, float* s3, float* s4, float* s5, float* s6, float* s7,
        int kc, float* dst, nint ldd, float** copies = null, int f0 = 0, int panelShift = 0, nint panelStride = 0)
    {
        int mask = (1 << panelShift) - 1;
        int p = 0;
        if (Avx.IsSupported)
        {
            for (; p + 8 <= kc; p += 8)
            {
                Vector256<float> r0 = Avx.LoadVector256(s0 + p), r1 = Avx.LoadVector256(s1 + p),
                    r2 = Avx.LoadVector256(s2 + p), r3 = Avx.LoadVector256(s3 + p),
                    r4 = Avx.LoadVector256(s4 + p), r5 = Avx.LoadVector256(s5 + p),
                    r6 = Avx.LoadVector256(s6 + p), r7 = Avx.LoadVector256(s7 + p);
                if (copies != null)
                {
                    int f = f0 + p;
                    nint off = (f >> panelShift) * panelStride + (f & mask);
                    Avx.Store(copies[0] + off, r0); Avx.Store(copies[1] + off, r1);
                    Avx.Store(copies[2] + off, r2); Avx.Store(copies[3] + off, r3);
                    Avx.Store(copies[4] + off, r4); Avx.Store(copies[5] + off, r5);
                    Avx.Store(copies[6] + off, r6); Avx.Store(copies[7] + off, r7);
                }
                Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1),
                    t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3),
                    t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5),
                    t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
                Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE),
                    u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE),
                    u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE),
                    u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
                float* d = dst + ldd * p;
                Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
                Avx.Store(d + 1 * ldd, Avx.Permute2x128(u1, u5, 0x20));
                Avx.Store(d + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
                Avx.Store(d + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
                Avx.Store(d + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
                Avx.Store(d + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
                Avx.Store(d + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
                Avx.Store(d + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
            }
        }
        for (; p < kc; p++)
        {
            float* d = dst + ldd * p;
            d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p];
            d[4] = s4[p]; d[5] = s5[p]; d[6] = s6[p]; d[7] = s7[p];
            if (copies != null)
            {
                int f = f0 + p;
                nint off = (f >> panelShift) * panelStride + (f & mask);
                copies[0][off] = s0[p]; copies[1][off] = s1[p]; copies[2][off] = s2[p]; copies[3][off] = s3[p];
                copies[4][off] = s4[p]; copies[5][off] = s5[p]; copies[6][off] = s6[p]; copies[7][off] = s7[p];
            }
        }
    }

    /// <summary>
    /// Interleaves two rows into a panel: column p of the pair lands at dst + ldd·p and dst + ldd·p + 1.
    /// The last two rows of a 10-row A panel, after <see cref="PackRows8Float(float*, float*, float*, float*, float*, float*, float*, float*, int, float*, nint, float**, int, int, nint)"/>
    /// has packed the first eight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows2Float(float* s0, float* s1, int kc, float* dst, nint ldd)
    {
        int p = 0;
        if (Sse2.IsSupported)
        {
            for (; p + 4 <= kc; p += 4)
            {
                Vector128<float> r0 = Sse.LoadVector128(s0 + p), r1 = Sse.LoadVector128(s1 + p);
                Vector128<double> lo = Sse.UnpackLow(r0, r1).AsDouble(), hi = Sse.UnpackHigh(r0, r1).AsDouble();
                float* d = dst + ldd * p;
                Sse2.StoreLow((double*)d, lo);
                Sse2.StoreHigh((double*)(d + ldd), lo);
                Sse2.StoreLow((double*)(d + 2 * ldd), hi);
                Sse2.StoreHigh((double*)(d + 3 * ldd), hi);
            }
        }
        for (; p < kc; p++)
        {
            float* d = dst + ldd * p;
            d[0] = s0[p];
            d[1] = s1[p];
        }
    }

    /// <summary>
    /// Transposes 4 rows of a double matrix given by their addresses into a panel: column p of the rows lands at
    /// dst + ldd·p .. dst + ldd·p + 3. Four 4×4 register transposes per 16 elements replace 16 strided scalar stores
    /// (the scalar pack took a third of a double X·W's time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows4Double(double* s0, double* s1, double* s2, double* s3, int kc, double* dst, nint ldd)
    {
        int p = 0;
        if (Avx.IsSupported)
        {
            for (; p + 4 <= kc; p += 4)
            {
                Vector256<double> r0 = Avx.LoadVector256(s0 + p), r1 = Avx.LoadVector256(s1 + p),
                    r2 = Avx.LoadVector256(s2 + p), r3 = Avx.LoadVector256(s3 + p);
                Vector256<double> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1),
                    t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
                double* d = dst + ldd * p;
                Avx.Store(d, Avx.Permute2x128(t0, t2, 0x20));
                Avx.Store(d + ldd, Avx.Permute2x128(t1, t3, 0x20));
                Avx.Store(d + 2 * ldd, Avx.Permute2x128(t0, t2, 0x31));
                Avx.Store(d + 3 * ldd, Avx.Permute2x128(t1, t3, 0x31));
            }
        }
        for (; p < kc; p++)
        {
            double* d = dst + ldd * p;
            d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p];
        }
    }

    /// <summary>Interleaves two double rows into a panel: column p of the pair lands at dst + ldd·p and dst + ldd·p + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows2Double(double* s0, double* s1, int kc, double* dst, nint ldd)
    {
        int p = 0;
        if (Sse2.IsSupported)
        {
            for (; p + 2 <= kc; p += 2)
            {
                Vector128<double> r0 = Sse2.LoadVector128(s0 + p), r1 = Sse2.LoadVector128(s1 + p);
                double* d = dst + ldd * p;
                Sse2.Store(d, Sse2.UnpackLow(r0, r1));
                Sse2.Store(d + ldd, Sse2.UnpackHigh(r0, r1));
            }
        }
        for (; p < kc; p++)
        {
            double* d = dst + ldd * p;
            d[0] = s0[p];
            d[1] = s1[p];
        }
    }

    /// <summary>
    /// Copies one panel row of <paramref name="bytes"/> bytes (an MR or NR run, 16 to a few hundred bytes) with
    /// the widest vector moves that fit, the last one overlapping: a call to memmove per 40-byte run cost more
    /// than the copy (packing W1ᵀ for X·W1, 15,000 runs, took 42 µs that way).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyShort(byte* dst, byte* src, int bytes)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && bytes >= 64)
        {
            for (; i + 64 <= bytes; i += 64) Vector512.Store(Vector512.Load(src + i), dst + i);
            if (i < bytes) Vector512.Store(Vector512.Load(src + bytes - 64), dst + bytes - 64);
        }
        else if (Vector256.IsHardwareAccelerated && bytes >= 32)
        {
            for (; i + 32 <= bytes; i += 32) Vector256.Store(Vector256.Load(src + i), dst + i);
            if (i < bytes) Vector256.Store(Vector256.Load(src + bytes - 32), dst + bytes - 32);
        }
        else if (bytes >= 16)
        {
            for (; i + 16 <= bytes; i += 16) Vector128.Store(Vector128.Load(src + i), dst + i);
            if (i < bytes) Vector128.Store(Vector128.Load(src + bytes - 16), dst + bytes - 16);
        }
        else
        {
            Unsafe.CopyBlockUnaligned(dst, src, (uint)bytes);
        }
    }
}
