namespace Cifar.Simd.Tests.Support;

/// <summary>numpy functions the tests need to build CS231n's inputs exactly.</summary>
internal static class Numpy
{
    /// <summary><c>np.linspace(start, stop, num)</c> with numpy's arithmetic: <c>i·step + start</c>, last = stop.</summary>
    public static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        if (num == 0) return y;
        double step = num > 1 ? (stop - start) / (num - 1) : 0;
        for (int i = 0; i < num; i++) y[i] = i * step + start;
        if (num > 1) y[^1] = stop;
        return y;
    }

    /// <summary><c>np.linspace(start, stop, num).astype(np.float32)</c>.</summary>
    public static float[] LinspaceSingle(double start, double stop, int num) =>
        Array.ConvertAll(Linspace(start, stop, num), v => (float)v);
}
