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
    public static void PackRows8Float(float* src, nint lda, int kc, float* dst, nint ldd)
    {
        int p = 0;
        if (Avx.IsSupported)
        {
            for (; p + 8 <= kc; p += 8)
            {
                float* s = src + p;
                Vector256<float> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + lda),
                    r2 = Avx.LoadVector256(s + 2 * lda), r3 = Avx.LoadVector256(s + 3 * lda),
                    r4 = Avx.LoadVector256(s + 4 * lda), r5 = Avx.LoadVector256(s + 5 * lda),
                    r6 = Avx.LoadVector256(s + 6 * lda), r7 = Avx.LoadVector256(s + 7 * lda);
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
        for (int r = 0; r < 8; r++)
        {
            float* s = src + r * lda;
            for (int q = p; q < kc; q++) dst[ldd * q + r] = s[q];
        }
    }
}
