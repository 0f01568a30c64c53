using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cifar.Simd.Kernels;

/// <summary>
/// The last step of a GEMM run in its transposed formulation: a region of the scratch product
/// S = Cᵀ (M×N, row stride <see cref="GemmArgs.Ldc"/>) goes into the caller's C (N×M, row stride M) as C[j, i] = epilogue(S[i, j]),
/// the bias indexed by i. The epilogue sees the finished sum, exactly as the microkernel's last K block
/// does, so both formulations give bitwise the same C.
/// </summary>
internal static unsafe class GemmTransposeOut
{
    // Columns of S transposed per strip when an epilogue must run between the transpose and the store.
    private const int Strip = 64;

    /// <summary>Writes rows [i0, i1) × columns [j0, j1) of the scratch S into C, transposed, with <typeparamref name="TEpi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Region<T, TEpi>(in GemmArgs g, int i0, int i1, int j0, int j1)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IGemmEpilogue
    {
        // C += product would need C's old values folded in before the K blocks, in their order; that run never comes here.
        Debug.Assert(!TEpi.Accumulate);
        T* s = (T*)g.C, c = (T*)g.Final, bias = (T*)g.Bias;
        nint lds = g.Ldc, ldc = g.M;
        int i = i0;
        if ((typeof(T) == typeof(float) || typeof(T) == typeof(double)) && Avx.IsSupported)
        {
            // W rows at a time (8 float, 4 double): one register transpose turns W rows of S into W-wide rows of C.
            int w = Vector256<T>.Count;
            T* tile = stackalloc T[Strip * 8];
            for (; i + w <= i1; i += w)
            {
                T* s0 = s + i * lds;
                if (!TEpi.AddBias && !TEpi.Relu)
                {
                    TransposeRows(s0 + j0, lds, j1 - j0, c + j0 * ldc + i, ldc);
                    continue;
                }
                Vector256<T> b = TEpi.AddBias ? Vector256.Load(bias + i) : default;
                for (int j = j0; j < j1; j += Strip)
                {
                    int len = Math.Min(Strip, j1 - j);
                    TransposeRows(s0 + j, lds, len, tile, w);
                    for (int p = 0; p < len; p++)
                    {
                        Vector256<T> x = Vector256.Load(tile + w * p);
                        if (TEpi.AddBias) x += b;
                        // Vector256.Max propagates NaN like the microkernel's ReLU.
                        if (TEpi.Relu) x = Vector256.Max(x, Vector256<T>.Zero);
                        x.Store(c + (j + p) * ldc + i);
                    }
                }
            }
        }
        for (; i < i1; i++)
        {
            T bi = TEpi.AddBias ? bias[i] : T.Zero;
            for (int j = j0; j < j1; j++)
            {
                T x = s[i * lds + j];
                if (TEpi.AddBias) x += bi;
                if (TEpi.Relu) x = T.Max(x, T.Zero);
                c[j * ldc + i] = x;
            }
        }
    }

    // Vector256<T>.Count rows of S (stride lds), len elements each, transposed into len rows of that many at stride ldd.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeRows<T>(T* s0, nint lds, int len, T* dst, nint ldd) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) GemmPack.PackRows8Float((float*)s0, lds, len, (float*)dst, ldd);
        else GemmPack.PackRows4Double((double*)s0, (double*)(s0 + lds), (double*)(s0 + 2 * lds), (double*)(s0 + 3 * lds), len, (double*)dst, ldd);
    }
}
