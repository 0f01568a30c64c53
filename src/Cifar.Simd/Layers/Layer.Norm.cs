using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Cifar.Simd.Kernels;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Layers;

public static partial class Layer
{
    /// <summary>
    /// Batchnorm forward (CS231n's <c>batchnorm_forward</c>): <c>out = gamma·xhat + beta</c> with
    /// <c>xhat = (x − mean) / sqrt(var + eps)</c> per feature. Train mode uses the batch mean and biased
    /// variance and updates <c>running = momentum·running + (1 − momentum)·sample</c>; test mode uses the
    /// running statistics (created as zeros of D on first use). x: (N, D), gamma: (D,), beta: (D,); out: (N, D).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit, or train mode gets an empty batch.</exception>
    public static (Tensor<T> Out, BatchnormCache<T> Cache) BatchnormForward<T>(Tensor<T> x, Tensor<T> gamma, Tensor<T> beta, BatchnormParam<T> bnParam)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(bnParam);
        var (n, d) = CheckNorm(x, gamma, beta);
        bnParam.RunningMean ??= Tensor<T>.Zeros(d);
        bnParam.RunningVar ??= Tensor<T>.Zeros(d);
        ThrowHelper.CheckSameShape(new Shape(d), bnParam.RunningMean.Shape, "x's features", "running_mean");
        ThrowHelper.CheckSameShape(new Shape(d), bnParam.RunningVar.Shape, "x's features", "running_var");
        var output = Tensor<T>.Uninitialized(n, d); // (N, D)
        var xhat = Tensor<T>.Uninitialized(n, d);   // (N, D)
        var invStd = Tensor<T>.Uninitialized(d);    // (D,)
        if (bnParam.Mode == LayerMode.Train)
        {
            ThrowHelper.CheckNonEmptyBatch(n, nameof(x));
            var mean = Tensor<T>.Uninitialized(d); // (D,)
            var variance = Tensor<T>.Uninitialized(d); // (D,)
            BatchnormForwardTrain<T>(x.AsReadOnlySpan(), gamma.AsReadOnlySpan(), beta.AsReadOnlySpan(), output.AsSpan(),
                xhat.AsSpan(), mean.AsSpan(), variance.AsSpan(), invStd.AsSpan(), n, d, bnParam.Eps);
            UpdateRunning(bnParam.RunningMean.AsSpan(), mean.AsReadOnlySpan(), bnParam.Momentum);
            UpdateRunning(bnParam.RunningVar.AsSpan(), variance.AsReadOnlySpan(), bnParam.Momentum);
        }
        else
        {
            BatchnormForwardTest<T>(x.AsReadOnlySpan(), gamma.AsReadOnlySpan(), beta.AsReadOnlySpan(),
                bnParam.RunningMean.AsReadOnlySpan(), bnParam.RunningVar.AsReadOnlySpan(), output.AsSpan(), xhat.AsSpan(), invStd.AsSpan(), n, d, bnParam.Eps);
        }
        return (output, new BatchnormCache<T>(bnParam.Mode, xhat, invStd, gamma));
    }

    /// <summary>
    /// Batchnorm train-mode forward over spans. Writes the batch <c>mean</c> and biased <c>variance</c> (D,),
    /// <c>invStd = 1/sqrt(variance + eps)</c> (D,), <c>xhat = (x − mean)·invStd</c> (N, D) and
    /// <c>out = gamma·xhat + beta</c> (N, D). x: (N, D), gamma, beta: (D,). Does not touch running statistics.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative, N is 0, or a span is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps is not a finite number &gt; 0.</exception>
    public static void BatchnormForwardTrain<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> output,
        Span<T> xhat, Span<T> mean, Span<T> variance, Span<T> invStd, int n, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.CheckNonEmptyBatch(n, nameof(x));
        CheckEps(eps);
        CheckNormSpans(x.Length, output.Length, xhat.Length, gamma.Length, beta.Length, n, d);
        ThrowHelper.CheckLength(mean.Length, d, nameof(mean), $"D = {d} features");
        ThrowHelper.CheckLength(variance.Length, d, nameof(variance), $"D = {d} features");
        ThrowHelper.CheckLength(invStd.Length, d, nameof(invStd), $"D = {d} features");
        mean = mean.Slice(0, d);
        variance = variance.Slice(0, d);
        invStd = invStd.Slice(0, d);
        T count = T.CreateChecked(n);
        Reductions.ColumnSums(x, mean, n, d);
        TensorPrimitives.Divide(mean, count, mean);
        // Two passes (centre, then square) like np.var, so the variance does not cancel catastrophically.
        for (int i = 0; i < n; i++)
            TensorPrimitives.Subtract(x.Slice(i * d, d), mean, xhat.Slice(i * d, d));
        variance.Clear();
        Reductions.AddColumnDots<T>(xhat, xhat, variance, n, d);
        TensorPrimitives.Divide(variance, count, variance);
        TensorPrimitives.Add(variance, eps, invStd);
        TensorPrimitives.ReciprocalSqrt(invStd, invStd);
        for (int i = 0; i < n; i++)
        {
            Span<T> xh = xhat.Slice(i * d, d);
            TensorPrimitives.Multiply(xh, invStd, xh);
            TensorPrimitives.MultiplyAdd(xh, gamma.Slice(0, d), beta.Slice(0, d), output.Slice(i * d, d));
        }
    }

    /// <summary>
    /// Batchnorm test-mode forward over spans: <c>invStd = 1/sqrt(runningVar + eps)</c> (D,),
    /// <c>xhat = (x − runningMean)·invStd</c> (N, D), <c>out = gamma·xhat + beta</c> (N, D). x: (N, D); the rest (D,).
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps is not a finite number &gt; 0.</exception>
    public static void BatchnormForwardTest<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        ReadOnlySpan<T> runningMean, ReadOnlySpan<T> runningVar, Span<T> output, Span<T> xhat, Span<T> invStd, int n, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckEps(eps);
        CheckNormSpans(x.Length, output.Length, xhat.Length, gamma.Length, beta.Length, n, d);
        ThrowHelper.CheckLength(runningMean.Length, d, nameof(runningMean), $"D = {d} features");
        ThrowHelper.CheckLength(runningVar.Length, d, nameof(runningVar), $"D = {d} features");
        ThrowHelper.CheckLength(invStd.Length, d, nameof(invStd), $"D = {d} features");
        invStd = invStd.Slice(0, d);
        TensorPrimitives.Add(runningVar.Slice(0, d), eps, invStd);
        TensorPrimitives.ReciprocalSqrt(invStd, invStd);
        for (int i = 0; i < n; i++)
        {
            Span<T> xh = xhat.Slice(i * d, d);
            TensorPrimitives.Subtract(x.Slice(i * d, d), runningMean.Slice(0, d), xh);
            TensorPrimitives.Multiply(xh, invStd, xh);
            TensorPrimitives.MultiplyAdd(xh, gamma.Slice(0, d), beta.Slice(0, d), output.Slice(i * d, d));
        }
    }

    /// <summary>
    /// Batchnorm backward through the full computational graph (CS231n's <c>batchnorm_backward</c>): stage by
    /// stage through dxhat, the inverse std, the variance, the centred input and the mean. dout: (N, D);
    /// returns dx (N, D), dgamma (D,), dbeta (D,). A test-mode cache gives <c>dx = dout·gamma·invStd</c>.
    /// </summary>
    /// <exception cref="ArgumentException">dout's shape differs from the forward input's.</exception>
    public static NormGradients<T> BatchnormBackward<T>(Tensor<T> dout, BatchnormCache<T> cache) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (dx, dgamma, dbeta, n, d) = PrepareBatchnormBackward(dout, cache);
        var g = cache.Gamma.AsReadOnlySpan();
        var s = cache.InvStd.AsReadOnlySpan();
        var xh = cache.XHat.AsReadOnlySpan();
        var go = dout.AsReadOnlySpan();
        var dxs = dx.AsSpan();
        Reductions.ColumnSums(go, dbeta.AsSpan(), n, d);
        dgamma.Fill(T.Zero);
        Reductions.AddColumnDots(go, xh, dgamma.AsSpan(), n, d);
        if (cache.Mode == LayerMode.Test)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++)
                    dxs[i * d + j] = go[i * d + j] * g[j] * s[j];
            return new NormGradients<T>(dx, dgamma, dbeta);
        }
        T count = T.CreateChecked(n), two = T.CreateChecked(2), half = T.CreateChecked(0.5);
        var dvar = new T[d]; // (D,)
        var dmu = new T[d];  // (D,)
        for (int j = 0; j < d; j++)
        {
            // The centred input x − mean is rebuilt as xhat / invStd so the cache stays at xhat, invStd and gamma.
            T divar = T.Zero;
            for (int i = 0; i < n; i++)
                divar += go[i * d + j] * g[j] * (xh[i * d + j] / s[j]);
            T dsqrtvar = -(s[j] * s[j]) * divar;
            dvar[j] = half * s[j] * dsqrtvar;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                T dxmu1 = go[i * d + j] * g[j] * s[j];
                T dxmu2 = two * (xh[i * d + j] / s[j]) * (dvar[j] / count);
                T dx1 = dxmu1 + dxmu2;
                dxs[i * d + j] = dx1;
                dmu[j] -= dx1;
            }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
                dxs[i * d + j] += dmu[j] / count;
        return new NormGradients<T>(dx, dgamma, dbeta);
    }

    /// <summary>
    /// Batchnorm backward in closed form (CS231n's <c>batchnorm_backward_alt</c>):
    /// <c>dx = (gamma·invStd / N)·(N·dout − dbeta − xhat·dgamma)</c>, <c>dgamma = Σ_i dout·xhat</c>, <c>dbeta = Σ_i dout</c>.
    /// dout: (N, D); returns dx (N, D), dgamma (D,), dbeta (D,).
    /// </summary>
    /// <exception cref="ArgumentException">dout's shape differs from the forward input's.</exception>
    public static NormGradients<T> BatchnormBackwardAlt<T>(Tensor<T> dout, BatchnormCache<T> cache) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (dx, dgamma, dbeta, n, d) = PrepareBatchnormBackward(dout, cache);
        BatchnormBackwardAlt<T>(dout.AsReadOnlySpan(), cache.XHat.AsReadOnlySpan(), cache.InvStd.AsReadOnlySpan(), cache.Gamma.AsReadOnlySpan(),
            dx.AsSpan(), dgamma.AsSpan(), dbeta.AsSpan(), n, d, cache.Mode);
        return new NormGradients<T>(dx, dgamma, dbeta);
    }

    /// <summary>
    /// Batchnorm closed-form backward over spans: <c>dx = (gamma·invStd / N)·(N·dout − dbeta − xhat·dgamma)</c> in train
    /// mode, <c>dx = dout·gamma·invStd</c> in test mode. dout, xhat, dx: (N, D) (dx must not alias dout or xhat);
    /// invStd, gamma, dgamma, dbeta: (D,). Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void BatchnormBackwardAlt<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> xhat, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dgamma, Span<T> dbeta, int n, int d, LayerMode mode = LayerMode.Train)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormSpans(dout.Length, dx.Length, xhat.Length, gamma.Length, invStd.Length, n, d);
        ThrowHelper.CheckLength(dgamma.Length, d, nameof(dgamma), $"D = {d} features");
        ThrowHelper.CheckLength(dbeta.Length, d, nameof(dbeta), $"D = {d} features");
        dgamma = dgamma.Slice(0, d);
        dbeta = dbeta.Slice(0, d);
        gamma = gamma.Slice(0, d);
        invStd = invStd.Slice(0, d);
        Reductions.ColumnSums(dout, dbeta, n, d);
        dgamma.Clear();
        Reductions.AddColumnDots(dout, xhat, dgamma, n, d);
        T count = T.CreateChecked(n);
        // dgamma is negated for the row loop and restored after (negation is exact), so no scratch is needed.
        TensorPrimitives.Negate(dgamma, dgamma);
        for (int i = 0; i < n; i++)
        {
            Span<T> row = dx.Slice(i * d, d);
            if (mode == LayerMode.Train)
            {
                TensorPrimitives.Multiply(dout.Slice(i * d, d), count, row);
                TensorPrimitives.Subtract(row, dbeta, row);
                TensorPrimitives.MultiplyAdd(xhat.Slice(i * d, d), dgamma, row, row);
                TensorPrimitives.Multiply(row, gamma, row);
                TensorPrimitives.Multiply(row, invStd, row);
                TensorPrimitives.Divide(row, count, row);
            }
            else
            {
                TensorPrimitives.Multiply(dout.Slice(i * d, d), gamma, row);
                TensorPrimitives.Multiply(row, invStd, row);
            }
        }
        TensorPrimitives.Negate(dgamma, dgamma);
    }

    /// <summary>
    /// Layernorm forward (CS231n's <c>layernorm_forward</c>): each sample is normalized over its features,
    /// <c>xhat[i, :] = (x[i, :] − mean_i) / sqrt(var_i + eps)</c>, then <c>out = gamma·xhat + beta</c>. No running
    /// statistics and no train/test difference. x: (N, D), gamma, beta: (D,); out: (N, D).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps is not a finite number &gt; 0.</exception>
    public static (Tensor<T> Out, LayernormCache<T> Cache) LayernormForward<T>(Tensor<T> x, Tensor<T> gamma, Tensor<T> beta, double eps = 1e-5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, d) = CheckNorm(x, gamma, beta);
        if (!(eps > 0) || !double.IsFinite(eps))
            ThrowHelper.OutOfRange(nameof(eps), eps, $"Layernorm's eps is added to the variance and must be a finite number > 0; got {eps}.");
        var output = Tensor<T>.Uninitialized(n, d); // (N, D)
        var xhat = Tensor<T>.Uninitialized(n, d);   // (N, D)
        var invStd = Tensor<T>.Uninitialized(n);    // (N,)
        LayernormForward<T>(x.AsReadOnlySpan(), gamma.AsReadOnlySpan(), beta.AsReadOnlySpan(), output.AsSpan(), xhat.AsSpan(), invStd.AsSpan(),
            n, d, T.CreateChecked(eps));
        return (output, new LayernormCache<T>(xhat, invStd, gamma));
    }

    /// <summary>
    /// Layernorm forward over spans: per sample, <c>invStd_i = 1/sqrt(var_i + eps)</c> (N,),
    /// <c>xhat = (x − mean_i)·invStd_i</c> (N, D), <c>out = gamma·xhat + beta</c> (N, D). x: (N, D), gamma, beta: (D,).
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps is not a finite number &gt; 0.</exception>
    public static void LayernormForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> output,
        Span<T> xhat, Span<T> invStd, int n, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckEps(eps);
        CheckNormSpans(x.Length, output.Length, xhat.Length, gamma.Length, beta.Length, n, d);
        ThrowHelper.CheckLength(invStd.Length, n, nameof(invStd), $"N = {n} samples");
        T count = T.CreateChecked(d);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<T> xi = x.Slice(i * d, d);
            Span<T> xh = xhat.Slice(i * d, d);
            T mean = TensorPrimitives.Sum(xi) / count;
            TensorPrimitives.Subtract(xi, mean, xh);
            T inv = T.One / T.Sqrt(TensorPrimitives.SumOfSquares<T>(xh) / count + eps);
            invStd[i] = inv;
            TensorPrimitives.Multiply(xh, inv, xh);
            TensorPrimitives.MultiplyAdd(xh, gamma.Slice(0, d), beta.Slice(0, d), output.Slice(i * d, d));
        }
    }

    /// <summary>
    /// Layernorm backward: per sample, <c>dx[i, :] = (invStd_i / D)·(D·dxhat − Σ_j dxhat − xhat·Σ_j dxhat·xhat)</c>
    /// with <c>dxhat = dout·gamma</c>; <c>dgamma = Σ_i dout·xhat</c>, <c>dbeta = Σ_i dout</c>.
    /// dout: (N, D); returns dx (N, D), dgamma (D,), dbeta (D,).
    /// </summary>
    /// <exception cref="ArgumentException">dout's shape differs from the forward input's.</exception>
    public static NormGradients<T> LayernormBackward<T>(Tensor<T> dout, LayernormCache<T> cache) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(dout);
        ArgumentNullException.ThrowIfNull(cache);
        ThrowHelper.CheckSameShape(cache.XHat.Shape, dout.Shape, "x", nameof(dout));
        int n = dout.Rows, d = dout.RowLength;
        var dx = Tensor<T>.Uninitialized(n, d);
        var dgamma = Tensor<T>.Uninitialized(d);
        var dbeta = Tensor<T>.Uninitialized(d);
        LayernormBackward<T>(dout.AsReadOnlySpan(), cache.XHat.AsReadOnlySpan(), cache.InvStd.AsReadOnlySpan(), cache.Gamma.AsReadOnlySpan(),
            dx.AsSpan(), dgamma.AsSpan(), dbeta.AsSpan(), n, d);
        return new NormGradients<T>(dx, dgamma, dbeta);
    }

    /// <summary>
    /// Layernorm backward over spans. dout, xhat, dx: (N, D) (dx must not alias dout or xhat); invStd: (N,);
    /// gamma, dgamma, dbeta: (D,). Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short.</exception>
    public static void LayernormBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> xhat, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dgamma, Span<T> dbeta, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormSpans(dout.Length, dx.Length, xhat.Length, gamma.Length, dgamma.Length, n, d);
        ThrowHelper.CheckLength(dbeta.Length, d, nameof(dbeta), $"D = {d} features");
        ThrowHelper.CheckLength(invStd.Length, n, nameof(invStd), $"N = {n} samples");
        dgamma = dgamma.Slice(0, d);
        dbeta = dbeta.Slice(0, d);
        Reductions.ColumnSums(dout, dbeta, n, d);
        dgamma.Clear();
        Reductions.AddColumnDots(dout, xhat, dgamma, n, d);
        T count = T.CreateChecked(d);
        for (int i = 0; i < n; i++)
        {
            Span<T> row = dx.Slice(i * d, d);
            ReadOnlySpan<T> xh = xhat.Slice(i * d, d);
            TensorPrimitives.Multiply(dout.Slice(i * d, d), gamma.Slice(0, d), row); // dxhat
            T sum = TensorPrimitives.Sum<T>(row);
            T dot = TensorPrimitives.Dot<T>(row, xh);
            TensorPrimitives.Multiply(row, count, row);
            TensorPrimitives.Subtract(row, sum, row);
            TensorPrimitives.MultiplyAdd(xh, -dot, row, row);
            TensorPrimitives.Multiply(row, invStd[i] / count, row);
        }
    }

    private static (Tensor<T> Dx, Tensor<T> Dgamma, Tensor<T> Dbeta, int N, int D) PrepareBatchnormBackward<T>(Tensor<T> dout, BatchnormCache<T> cache)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(dout);
        ArgumentNullException.ThrowIfNull(cache);
        ThrowHelper.CheckSameShape(cache.XHat.Shape, dout.Shape, "x", nameof(dout));
        int n = dout.Rows, d = dout.RowLength;
        return (Tensor<T>.Zeros(n, d), Tensor<T>.Zeros(d), Tensor<T>.Zeros(d), n, d);
    }

    /// <summary>Throws unless eps, added to a variance before its square root, is finite and &gt; 0 (0 divides by zero on a constant feature).</summary>
    internal static void CheckEps<T>(T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(eps > T.Zero) || !T.IsFinite(eps))
            ThrowHelper.OutOfRange(nameof(eps), eps, $"eps is added to the variance and must be a finite number > 0; got {eps}.");
    }

    internal static void UpdateRunning<T>(Span<T> running, ReadOnlySpan<T> sample, T momentum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T rest = T.One - momentum;
        for (int j = 0; j < running.Length; j++)
            running[j] = momentum * running[j] + rest * sample[j];
    }

    private static (int N, int D) CheckNorm<T>(Tensor<T> x, Tensor<T> gamma, Tensor<T> beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gamma);
        ArgumentNullException.ThrowIfNull(beta);
        if (x.Rank != 2)
            ThrowHelper.Argument($"x must be an (N, D) matrix; got shape {x.Shape}.", nameof(x));
        int d = x.RowLength;
        ThrowHelper.CheckSameShape(new Shape(d), gamma.Shape, "x's features", nameof(gamma));
        ThrowHelper.CheckSameShape(new Shape(d), beta.Shape, "x's features", nameof(beta));
        return (x.Rows, d);
    }

    private static void CheckNormSpans(int xLength, int outLength, int xhatLength, int gammaLength, int betaLength, int n, int d)
    {
        Reductions.CheckMatrix(n, d);
        long nd = (long)n * d;
        ThrowHelper.CheckLength(xLength, nd, "x", $"an ({n}, {d}) input");
        ThrowHelper.CheckLength(outLength, nd, "out", $"an ({n}, {d}) output");
        ThrowHelper.CheckLength(xhatLength, nd, "xhat", $"an ({n}, {d}) buffer");
        ThrowHelper.CheckLength(gammaLength, d, "gamma", $"D = {d} features");
        ThrowHelper.CheckLength(betaLength, d, "beta", $"D = {d} features");
    }
}
