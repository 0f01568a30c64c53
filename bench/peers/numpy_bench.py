#!/usr/bin/env python3
"""The cifar-simd bench workloads written plainly in numpy, as a CS231n student would.

Prints one JSON line per measurement (and a readable line on stderr):
  python3 numpy_bench.py --threads 1 --seconds 3 [--workload two-layer-step ...] [--hidden 100 500]

Thread count: --threads sets OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before numpy loads. Unset
OPENBLAS_CORETYPE first, or OpenBLAS runs the kernels of the core type it names.
"""

from common import (CLASSES, FC_DEPTH, FEATURES, blas_in_use, emit, fc_flops, gemm_shapes, hidden_sizes,
                    inference_flops, measure, parse_args, two_layer_flops, warn_if_reference_blas)

args = parse_args(__doc__.splitlines()[0])
import numpy as np  # noqa: E402  (after parse_args: the thread variables must be set first)

IMPL, VERSION = "numpy", np.__version__
DT = np.float32 if args.dtype == "float" else np.float64


def synthetic(rows, seed=0):
    """Uniform in [-128, 128): the range of mean-subtracted pixels; labels uniform in [0, 10)."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, FEATURES), dtype=DT)
    x *= 256
    x -= 128
    return x, rng.integers(0, CLASSES, rows)


def two_layer_step(x, y, h, batch, lr=1e-4, reg=0.25, std=1e-4):
    """CS231n assignment 1's TwoLayerNet.loss plus one SGD step of train()."""
    rs = np.random.RandomState(0)
    p = {"W1": (std * rs.randn(FEATURES, h)).astype(DT), "b1": np.zeros(h, DT),
         "W2": (std * rs.randn(h, CLASSES)).astype(DT), "b2": np.zeros(CLASSES, DT)}
    n, rows = batch, np.arange(batch)

    def step():
        idx = rs.choice(x.shape[0], batch)
        xb, yb = x[idx], y[idx]
        W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
        hidden = np.maximum(0, xb @ W1 + b1)
        scores = hidden @ W2 + b2
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[rows, yb]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs
        dscores[rows, yb] -= 1
        dscores /= n
        grads = {"W2": hidden.T @ dscores + 2 * reg * W2, "b2": dscores.sum(axis=0)}
        dhidden = dscores @ W2.T
        dhidden[hidden <= 0] = 0
        grads["W1"] = xb.T @ dhidden + 2 * reg * W1
        grads["b1"] = dhidden.sum(axis=0)
        for k in p:
            p[k] -= lr * grads[k]
        return loss

    return step


def fc_step(x, y, h, batch, keep=0.5, lr=1e-3, weight_scale=1e-2, eps=1e-5, momentum=0.9):
    """CS231n assignment 2's FullyConnectedNet (affine-batchnorm-relu-dropout x 5, affine, softmax) and Solver step with Adam."""
    rs = np.random.RandomState(0)
    dims = [FEATURES] + [h] * FC_DEPTH + [CLASSES]
    L = len(dims) - 1
    p = {}
    for l in range(L):
        p[f"W{l}"] = (weight_scale * rs.randn(dims[l], dims[l + 1])).astype(DT)
        p[f"b{l}"] = np.zeros(dims[l + 1], DT)
        if l < L - 1:
            p[f"gamma{l}"] = np.ones(dims[l + 1], DT)
            p[f"beta{l}"] = np.zeros(dims[l + 1], DT)
    running = {l: (np.zeros(dims[l + 1], DT), np.zeros(dims[l + 1], DT)) for l in range(L - 1)}
    adam = {k: {"m": np.zeros_like(v), "v": np.zeros_like(v), "t": 0} for k, v in p.items()}
    rows = np.arange(batch)

    def step():
        idx = rs.choice(x.shape[0], batch)
        out, yb = x[idx], y[idx]
        caches = []
        for l in range(L - 1):
            a = out @ p[f"W{l}"] + p[f"b{l}"]
            mu, var = a.mean(axis=0), a.var(axis=0)
            rm, rv = running[l]
            rm *= momentum
            rm += (1 - momentum) * mu
            rv *= momentum
            rv += (1 - momentum) * var
            inv_std = 1 / np.sqrt(var + eps)
            xhat = (a - mu) * inv_std
            r = np.maximum(0, p[f"gamma{l}"] * xhat + p[f"beta{l}"])
            mask = (rs.rand(*r.shape) < keep) / keep
            caches.append((out, xhat, inv_std, r, mask))
            out = r * mask
        scores = out @ p[f"W{L - 1}"] + p[f"b{L - 1}"]
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[rows, yb]).mean()
        dout = probs
        dout[rows, yb] -= 1
        dout /= batch
        grads = {f"W{L - 1}": out.T @ dout, f"b{L - 1}": dout.sum(axis=0)}
        dout = dout @ p[f"W{L - 1}"].T
        for l in reversed(range(L - 1)):
            inp, xhat, inv_std, r, mask = caches[l]
            dr = dout * mask
            dr[r <= 0] = 0
            grads[f"beta{l}"] = dr.sum(axis=0)
            grads[f"gamma{l}"] = (dr * xhat).sum(axis=0)
            dxhat = dr * p[f"gamma{l}"]
            da = (inv_std / batch) * (batch * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
            grads[f"W{l}"] = inp.T @ da
            grads[f"b{l}"] = da.sum(axis=0)
            if l > 0:  # no gradient with respect to the images, as in cifar-simd and autograd
                dout = da @ p[f"W{l}"].T
        for k, w in p.items():
            s, g = adam[k], grads[k]
            s["t"] += 1
            s["m"] = 0.9 * s["m"] + 0.1 * g
            s["v"] = 0.999 * s["v"] + 0.001 * (g * g)
            mt = s["m"] / (1 - 0.9 ** s["t"])
            vt = s["v"] / (1 - 0.999 ** s["t"])
            w -= lr * mt / (np.sqrt(vt) + 1e-8)
        return loss

    return step, dims


def inference(x, h, std=1e-4):
    rs = np.random.RandomState(0)
    W1, b1 = (std * rs.randn(FEATURES, h)).astype(DT), np.zeros(h, DT)
    W2, b2 = (std * rs.randn(h, CLASSES)).astype(DT), np.zeros(CLASSES, DT)
    return lambda: np.argmax(np.maximum(0, x @ W1 + b1) @ W2 + b2, axis=1)


def gemm(m, n, k, ta, tb):
    rng = np.random.default_rng(42)
    a = rng.random((k, m) if ta else (m, k), dtype=DT)
    b = rng.random((n, k) if tb else (k, n), dtype=DT)
    c = np.empty((m, n), DT)
    # Transposed views: numpy hands the transpose flags to BLAS rather than copying.
    av, bv = (a.T if ta else a), (b.T if tb else b)
    return lambda: np.matmul(av, bv, out=c)


def main():
    np.ones((64, 64), DT) @ np.ones((64, 64), DT)  # loads the BLAS, so the check below sees it
    warn_if_reference_blas(blas_in_use())
    train = None
    for workload in args.workload:
        if workload in ("two-layer-step", "fc-step"):
            if train is None:
                train = synthetic(args.train_rows)
            x, y = train
            batch = args.batch or (100 if workload == "fc-step" else 200)
            for h in hidden_sizes(args, 100):
                if workload == "two-layer-step":
                    step, flops = two_layer_step(x, y, h, batch), two_layer_flops(FEATURES, h, CLASSES, batch)
                    desc = f"two-layer {FEATURES}-{h}-{CLASSES}, batch {batch}, SGD"
                else:
                    step, dims = fc_step(x, y, h, batch)
                    flops = fc_flops(dims, batch)
                    desc = f"fc [{h}]×{FC_DEPTH} + batchnorm + dropout keep 0.5, batch {batch}, adam"
                emit(IMPL, VERSION, args, workload, desc, measure(step, args.seconds), flops, batch, hidden=h, batch=batch)
        elif workload == "inference":
            images = args.batch or 10_000
            x, _ = synthetic(images, seed=1)
            for h in hidden_sizes(args, 500):
                desc = f"predict {images:,} images, two-layer {FEATURES}-{h}-{CLASSES}"
                emit(IMPL, VERSION, args, workload, desc, measure(inference(x, h), args.seconds),
                     inference_flops(FEATURES, h, CLASSES, images), images, hidden=h, batch=images)
        else:
            for shape, label, m, n, k, ta, tb in gemm_shapes(args):
                emit(IMPL, VERSION, args, workload, f"{label} {m}×{n}×{k}", measure(gemm(m, n, k, ta, tb), args.seconds),
                     2.0 * m * n * k, 0, shape=shape, m=m, n=n, k=k)


main()
