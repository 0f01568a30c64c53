using System.Numerics;
using Cifar.Simd.Kernels;

namespace Cifar.Simd.Tests.Kernels;

/// <summary>One random GEMM problem; the values come from <see cref="Seed"/>.</summary>
public sealed record GemmCase(int M, int N, int K, bool TransposeA, bool TransposeB, GemmEpilogue Epilogue, int Seed);

internal static class GemmTestData
{
    public static T[] Random<T>(System.Random rng, int length) where T : INumberBase<T>
    {
        var x = new T[length];
        for (int i = 0; i < length; i++) x[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Runs the case on <paramref name="path"/> and checks every element against the reference.</summary>
    public static void Check<T>(GemmCase g, SimdPath path, double relativeTolerancePerK, double floor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(g.Seed);
        T[] a = Random<T>(rng, g.M * g.K), b = Random<T>(rng, g.K * g.N), bias = Random<T>(rng, g.N);
        T[] c = Random<T>(rng, g.M * g.N);
        T[] c0 = (T[])c.Clone();
        Gemm.Multiply<T>(path, g.TransposeA, g.TransposeB, g.M, g.N, g.K, a, b, c, g.Epilogue, bias);
        var (expected, mag) = ReferenceGemm.Multiply<T>(g.TransposeA, g.TransposeB, g.M, g.N, g.K, a, b, c0, g.Epilogue, bias);
        double tol = Math.Max(1, g.K) * relativeTolerancePerK;
        for (int i = 0; i < expected.Length; i++)
        {
            double got = double.CreateChecked(c[i]);
            double err = Math.Abs(got - expected[i]);
            if (!(err <= tol * mag[i] + floor))
                Assert.Fail($"{g} on {path}: C[{i / g.N},{i % g.N}] = {got}, expected {expected[i]} (error {err:E3}, allowed {tol * mag[i] + floor:E3}).");
        }
    }
}
