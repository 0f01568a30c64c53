using System.Numerics;
using Cifar.Simd.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cifar.Simd.Layers;

public static partial class Layer
{
    /// <summary>
    /// Softmax (cross-entropy) loss, CS231n's <c>softmax_loss</c>: with <c>p = softmax(x)</c> per row (max-subtracted),
    /// <c>loss = −(1/N)·Σ_i log p[i, y_i]</c> and <c>dx = (p − onehot(y)) / N</c>. x: (N, C) scores, y: (N,) labels in [0, C).
    /// NaN in a row gives a NaN loss and NaN gradients for that row.
    /// </summary>
    /// <exception cref="ArgumentException">x is not (N, C) with N ≥ 1, y's length is not N, or a label is outside [0, C).</exception>
    public static (T Loss, Tensor<T> Dx) SoftmaxLoss<T>(Tensor<T> x, ReadOnlySpan<int> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c) = CheckScores(x, y);
        var dx = Tensor<T>.Uninitialized(n, c); // (N, C)
        T loss = SoftmaxLoss<T>(x.AsReadOnlySpan(), y, dx.AsSpan(), n, c);
        return (loss, dx);
    }

    /// <summary>
    /// Softmax loss over spans: returns <c>−(1/N)·Σ_i log softmax(x)[i, y_i]</c> and writes <c>dx = (softmax(x) − onehot(y)) / N</c>.
    /// x: (N, C), y: (N,), dx: (N, C); dx may be the same memory as x (scores turned into dscores in place).
    /// </summary>
    /// <exception cref="ArgumentException">N is 0, a span is too short, or a label is outside [0, C).</exception>
    public static T SoftmaxLoss<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> y, Span<T> dx, int n, int c) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.CreateTruncating(SoftmaxLossSum(x, y, dx, n, c, T.CreateChecked(n)) / n);

    /// <summary>
    /// The softmax loss of rows that are part of a larger batch: returns <c>Σ_i −log softmax(x)[i, y_i]</c> over these
    /// n rows (not divided), and writes <c>dx = (softmax(x) − onehot(y)) / count</c>, count being the whole batch's size.
    /// </summary>
    internal static double SoftmaxLossSum<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> y, Span<T> dx, int n, int c, T count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLossSpans(x.Length, y, dx.Length, n, c);
        Span<T> corrects = stackalloc T[SoftmaxRows], sums = stackalloc T[SoftmaxRows];
        double loss = 0;
        // Rows go in blocks so that one Exp (and one Log) call covers a block: on CIFAR's 10 classes, per-row calls
        // cost more in call overhead than the arithmetic.
        for (int start = 0; start < n; start += SoftmaxRows)
        {
            int rows = Math.Min(SoftmaxRows, n - start);
            for (int r = 0; r < rows; r++)
            {
                int i = start + r;
                ReadOnlySpan<T> xi = x.Slice(i * c, c);
                Span<T> di = dx.Slice(i * c, c);
                T max = xi[0];
                // T.Max propagates NaN, so a NaN score makes its whole row NaN.
                for (int j = 1; j < c; j++) max = T.Max(max, xi[j]);
                corrects[r] = xi[y[i]] - max; // read before di overwrites it when in place
                for (int j = 0; j < c; j++) di[j] = xi[j] - max;
            }
            Span<T> block = dx.Slice(start * c, rows * c);
            TensorPrimitives.Exp(block, block);
            for (int r = 0; r < rows; r++)
            {
                Span<T> di = block.Slice(r * c, c);
                T sum = T.Zero;
                for (int j = 0; j < c; j++) sum += di[j];
                sums[r] = sum;
                int label = y[start + r];
                T p = di[label] / sum;
                DivideInPlace(di, sum, count);
                di[label] = (p - T.One) / count;
            }
            Span<T> logs = sums.Slice(0, rows);
            TensorPrimitives.Log(logs, logs);
            for (int r = 0; r < rows; r++) loss += double.CreateTruncating(logs[r] - corrects[r]);
        }
        return loss;
    }

    // Rows per Exp call in SoftmaxLoss: a block of CIFAR scores stays in L1 between the passes.
    private const int SoftmaxRows = 64;

    // v = (v / a) / b elementwise, two roundings as numpy's two divisions; no overlapping last vector (in place).
    private static void DivideInPlace<T>(Span<T> v, T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && v.Length >= Vector<T>.Count)
        {
            Vector<T> va = new(a), vb = new(b);
            for (; j <= v.Length - Vector<T>.Count; j += Vector<T>.Count)
                (new Vector<T>(v.Slice(j)) / va / vb).CopyTo(v.Slice(j));
        }
        for (; j < v.Length; j++) v[j] = v[j] / a / b;
    }

    /// <summary>
    /// Multiclass SVM (hinge) loss with margin 1, CS231n's <c>svm_loss</c>:
    /// <c>loss = (1/N)·Σ_i Σ_{j≠y_i} max(0, x[i, j] − x[i, y_i] + 1)</c>; <c>dx[i, j] = 1/N</c> where the margin is positive
    /// (j ≠ y_i), <c>dx[i, y_i] = −(count of positive margins)/N</c>. x: (N, C) scores, y: (N,) labels in [0, C).
    /// NaN scores give a NaN loss.
    /// </summary>
    /// <exception cref="ArgumentException">x is not (N, C) with N ≥ 1, y's length is not N, or a label is outside [0, C).</exception>
    public static (T Loss, Tensor<T> Dx) SvmLoss<T>(Tensor<T> x, ReadOnlySpan<int> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c) = CheckScores(x, y);
        var dx = Tensor<T>.Uninitialized(n, c); // (N, C)
        T loss = SvmLoss<T>(x.AsReadOnlySpan(), y, dx.AsSpan(), n, c);
        return (loss, dx);
    }

    /// <summary>
    /// SVM loss over spans: returns the mean hinge loss (margin 1) and writes its gradient into dx.
    /// x: (N, C), y: (N,), dx: (N, C); dx may be the same memory as x.
    /// </summary>
    /// <exception cref="ArgumentException">N is 0, a span is too short, or a label is outside [0, C).</exception>
    public static T SvmLoss<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> y, Span<T> dx, int n, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLossSpans(x.Length, y, dx.Length, n, c);
        T count = T.CreateChecked(n);
        T step = T.One / count;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            int label = y[i];
            T correct = x[i * c + label];
            int positive = 0;
            for (int j = 0; j < c; j++)
            {
                if (j == label) continue;
                T margin = x[i * c + j] - correct + T.One;
                // T.Max propagates NaN like np.maximum, so a NaN score makes the loss NaN.
                loss += double.CreateTruncating(T.Max(T.Zero, margin));
                bool active = margin > T.Zero;
                dx[i * c + j] = active ? step : T.Zero;
                if (active) positive++;
            }
            dx[i * c + label] = -T.CreateChecked(positive) / count;
        }
        return T.CreateTruncating(loss / n);
    }

    private static (int N, int C) CheckScores<T>(Tensor<T> x, ReadOnlySpan<int> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 2)
            ThrowHelper.Argument($"Scores x must be an (N, C) matrix; got shape {x.Shape}.", nameof(x));
        ThrowHelper.CheckNonEmptyBatch(x.Rows, nameof(x));
        if (y.Length != x.Rows)
            ThrowHelper.Argument($"Shape mismatch: y has shape ({y.Length},) but x has shape {x.Shape}; y needs one label per row ({x.Rows},).", nameof(y));
        return (x.Rows, x.RowLength);
    }

    private static void CheckLossSpans(int xLength, ReadOnlySpan<int> y, int dxLength, int n, int c)
    {
        ThrowHelper.CheckNonEmptyBatch(n, "x");
        if (c < 0)
            ThrowHelper.Argument($"The class count must be ≥ 0; got C = {c}.", nameof(c));
        ThrowHelper.CheckLength(xLength, (long)n * c, "x", $"({n}, {c}) scores");
        ThrowHelper.CheckLength(dxLength, (long)n * c, "dx", $"({n}, {c}) score gradients");
        ThrowHelper.CheckLength(y.Length, n, "y", $"N = {n} labels");
        // Every label is checked before any output is written, so a bad label leaves dx untouched.
        for (int i = 0; i < n; i++)
            ThrowHelper.CheckLabel(y[i], i, c, "y");
    }
}
