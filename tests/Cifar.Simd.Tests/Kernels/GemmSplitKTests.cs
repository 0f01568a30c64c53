using System.Numerics;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplySplitK{T}(SimdPath, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, GemmEpilogue, ReadOnlySpan{T}, Span{T})"/>
/// on every path, plain and gathered, for 1–4 threads: bitwise (segment one + segment two) then the epilogue, each segment
/// a plain product of its K columns, and within the reference's tolerance of the exact product.
/// These tests change the process-wide thread count, so they run with the other global-state tests.
/// </summary>
[Collection(nameof(GemmThreadingCollection))]
public class GemmSplitKTests
{
    private static readonly SimdPath[] Paths = SimdPaths.Supported();

    // Few and many rows, narrow and CS231n-wide N (50 and 100 run transposed), short K and the first layer's long one.
    private static Arbitrary<GemmCase> Cases() =>
        (from m in Gen.Frequency((3, Gen.Choose(1, 70)), (1, Gen.Choose(180, 260)))
         from n in Gen.Frequency((3, Gen.Choose(1, 140)), (1, Gen.Elements(10, 50, 100, 500)))
         from k in Gen.Frequency((3, Gen.Choose(1, 90)), (1, Gen.Choose(400, 1100)))
         from epi in Gen.Elements(GemmEpilogue.None, GemmEpilogue.Bias, GemmEpilogue.BiasRelu)
         from seed in Gen.Choose(0, int.MaxValue)
         select new GemmCase(m, n, k, false, false, epi, seed)).ToArbitrary();

    [Property(MaxTest = 40)]
    public Property SplitKIsTheSumOfItsTwoSegments() => Prop.ForAll(Cases(), g =>
    {
        foreach (SimdPath path in Paths)
        {
            Check<float>(g, path, gathered: g.Seed % 2 == 0);
            Check<double>(g, path, gathered: g.Seed % 2 == 1);
        }
    });

    private static void Check<T>(GemmCase g, SimdPath path, bool gathered) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(g.Seed);
        int stored = gathered ? g.M + 7 : g.M;
        T[] a = GemmTestData.Random<T>(rng, stored * g.K), b = GemmTestData.Random<T>(rng, g.K * g.N), bias = GemmTestData.Random<T>(rng, g.N);
        int[] rows = gathered ? Enumerable.Range(0, g.M).Select(_ => rng.Next(stored)).ToArray() : [];
        // The batch the rows pick, and its two K segments as plain matrices.
        T[] x = new T[g.M * g.K];
        for (int i = 0; i < g.M; i++) a.AsSpan((gathered ? rows[i] : i) * g.K, g.K).CopyTo(x.AsSpan(i * g.K));
        int split = g.K < 2 ? g.K : Math.Max(1, g.K / 2 / 16 * 16);
        T[] expected = Expected(g, path, x, b, bias, split);

        var (exact, mag) = ReferenceGemm.Multiply<T>(false, false, g.M, g.N, g.K, x, b, new T[g.M * g.N], g.Epilogue, bias);
        double tol = Math.Max(1, g.K) * (typeof(T) == typeof(float) ? 2e-7 : 4e-16);
        for (int i = 0; i < exact.Length; i++)
            Assert.True(Math.Abs(double.CreateChecked(expected[i]) - exact[i]) <= tol * mag[i] + 1e-30, $"{g}: the segment sum is off the exact product at {i}.");

        var scratch = new T[Gemm.SplitKScratchLength<T>(g.M, g.N)];
        foreach (int threads in new[] { 1, 2, 3, 4 })
        {
            ThreadCounts.With(threads, () =>
            {
                T[] c = GemmTestData.Random<T>(rng, g.M * g.N);
                Gemm.MultiplySplitK<T>(path, g.M, g.N, g.K, a, rows, b, c, g.Epilogue, bias, scratch);
                Assert.True(GlobalSetting.Bitwise(expected, c), $"{g} on {path}, {threads} threads, gathered {gathered}: {typeof(T).Name} split-K C differs.");
            });
        }
    }

    // (A[:, :split]·B[:split] + A[:, split:]·B[split:]) + bias, then ReLU, each segment a plain product of contiguous copies.
    private static T[] Expected<T>(GemmCase g, SimdPath path, T[] x, T[] b, T[] bias, int split) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[g.M * g.N];
        if (split == g.K)
        {
            Gemm.Multiply<T>(path, false, false, g.M, g.N, g.K, x, b, result, g.Epilogue, bias);
            return result;
        }
        T[] first = Segment(g, path, x, b, 0, split), second = Segment(g, path, x, b, split, g.K);
        for (int i = 0; i < g.M; i++)
        {
            for (int j = 0; j < g.N; j++)
            {
                T v = first[i * g.N + j] + second[i * g.N + j];
                if (g.Epilogue != GemmEpilogue.None) v += bias[j];
                result[i * g.N + j] = g.Epilogue == GemmEpilogue.BiasRelu ? T.Max(v, T.Zero) : v;
            }
        }
        return result;
    }

    private static T[] Segment<T>(GemmCase g, SimdPath path, T[] x, T[] b, int k0, int k1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int kk = k1 - k0;
        T[] xs = new T[g.M * kk], c = new T[g.M * g.N];
        for (int i = 0; i < g.M; i++) x.AsSpan(i * g.K + k0, kk).CopyTo(xs.AsSpan(i * kk));
        ThreadCounts.With(1, () => Gemm.Multiply<T>(path, false, false, g.M, g.N, kk, xs, b.AsSpan(k0 * g.N, kk * g.N), c));
        return c;
    }

    [Fact]
    public void NaNPropagatesThroughTheReluOfATransposedCombine()
    {
        // N = 50 runs transposed: the two partials are Cᵀ, summed and written out 8×8 with bias and ReLU.
        const int m = 200, n = 50, k = 64;
        var rng = new System.Random(5);
        float[] a = GemmTestData.Random<float>(rng, m * k), b = GemmTestData.Random<float>(rng, k * n), bias = GemmTestData.Random<float>(rng, n);
        a[3 * k + 40] = float.NaN; // in the second K segment only
        var scratch = new float[Gemm.SplitKScratchLength<float>(m, n)];
        foreach (SimdPath path in Paths)
        {
            var c = new float[m * n];
            ThreadCounts.ForEach(_ => Gemm.MultiplySplitK<float>(path, m, n, k, a, [], b, c, GemmEpilogue.BiasRelu, bias, scratch));
            for (int j = 0; j < n; j++)
                Assert.True(float.IsNaN(c[3 * n + j]), $"{path}: C[3,{j}] = {c[3 * n + j]}, expected NaN.");
            Assert.All(c.Where((_, i) => i / n != 3), v => Assert.True(v >= 0, $"{path}: {v} is not ReLU's output."));
        }
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        var scratch = new float[Gemm.SplitKScratchLength<float>(4, 10)];
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplySplitK<float>(4, 10, 20, new float[80], [], new float[200], new float[40],
            GemmEpilogue.Accumulate, default, scratch));
        Assert.Equal("epilogue", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gemm.MultiplySplitK<float>(4, 10, 20, new float[80], [], new float[200], new float[40],
            GemmEpilogue.None, default, new float[scratch.Length - 1]));
        Assert.Equal("scratch", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gemm.MultiplySplitK<float>(4, 10, 20, new float[80], [0, 1, 9, 2], new float[200], new float[40],
            GemmEpilogue.None, default, scratch));
        Assert.Equal("aRows", e.ParamName);
        Assert.Contains("aRows[2] = 9", e.Message);
    }
}
