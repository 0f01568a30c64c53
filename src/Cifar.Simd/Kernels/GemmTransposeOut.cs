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
        if (typeof(T) == typeof(float) && Avx.IsSupported)
        {
            float* tile = stackalloc float[Strip * 8];
            for (; i + 8 <= i1; i += 8)
            {
                float* s0 = (float*)(s + i * lds);
                if (!TEpi.AddBias && !TEpi.Relu)
                {
                    GemmPack.PackRows8Float(s0 + j0, lds, j1 - j0, (float*)(c + j0 * ldc + i), ldc);
                    continue;
                }
                Vector256<float> b = TEpi.AddBias ? Avx.LoadVector256((float*)bias + i) : default;
                for (int j = j0; j < j1; j += Strip)
                {
                    int len = Math.Min(Strip, j1 - j);
                    GemmPack.PackRows8Float(s0 + j, lds, len, tile, 8);
                    for (int p = 0; p < len; p++)
                    {
                        Vector256<float> x = Avx.LoadVector256(tile + 8 * p);
                        if (TEpi.AddBias) x = Avx.Add(x, b);
                        // Vector256.Max propagates NaN like the microkernel's ReLU.
                        if (TEpi.Relu) x = Vector256.Max(x, Vector256<float>.Zero);
                        Avx.Store((float*)(c + (j + p) * ldc + i), x);
                    }
                }
            }
        }
        if (typeof(T) == typeof(double) && Avx.IsSupported)
        {
            double* tile = stackalloc double[Strip * 4];
            for (; i + 4 <= i1; i += 4)
            {
                double* s0 = (double*)(s + i * lds);
                if (!TEpi.AddBias && !TEpi.Relu)
                {
                    GemmPack.PackRows4Double(s0 + j0, s0 + lds + j0, s0 + 2 * lds + j0, s0 + 3 * lds + j0, j1 - j0,
                        (double*)(c + j0 * ldc + i), ldc);
                    continue;
                }
                Vector256<double> b = TEpi.AddBias ? Avx.LoadVector256((double*)bias + i) : default;
                for (int j = j0; j < j1; j += Strip)
                {
                    int len = Math.Min(Strip, j1 - j);
                    GemmPack.PackRows4Double(s0 + j, s0 + lds + j, s0 + 2 * lds + j, s0 + 3 * lds + j, len, tile, 4);
                    for (int p = 0; p < len; p++)
                    {
                        Vector256<double> x = Avx.LoadVector256(tile + 4 * p);
                        if (TEpi.AddBias) x = Avx.Add(x, b);
                        if (TEpi.Relu) x = Vector256.Max(x, Vector256<double>.Zero);
                        Avx.Store((double*)(c + (j + p) * ldc + i), x);
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
}
