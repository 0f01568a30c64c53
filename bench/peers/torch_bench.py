#!/usr/bin/env python3
"""The cifar-simd bench workloads written plainly in PyTorch (CPU, eager mode, autograd).

Prints one JSON line per measurement (and a readable line on stderr):
  python3 torch_bench.py --threads 1 --seconds 3 [--workload two-layer-step ...] [--hidden 100 500]

Thread count: --threads sets OMP_NUM_THREADS (and the BLAS variables) before torch loads, and
torch.set_num_threads.
"""

from common import (CLASSES, FC_DEPTH, FEATURES, blas_in_use, emit, fc_flops, gemm_shapes, hidden_sizes,
                    inference_flops, measure, parse_args, two_layer_flops, warn_if_reference_blas)

args = parse_args(__doc__.splitlines()[0])
import torch  # noqa: E402  (after parse_args: the thread variables must be set first)
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
IMPL, VERSION = "torch", torch.__version__
DT = torch.float32 if args.dtype == "float" else torch.float64


def synthetic(rows, seed=0):
    """Uniform in [-128, 128): the range of mean-subtracted pixels; labels uniform in [0, 10)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, FEATURES, generator=g, dtype=DT)
    x.mul_(256).sub_(128)
    return x, torch.randint(0, CLASSES, (rows,), generator=g)


def two_layer_step(x, y, h, batch, lr=1e-4, reg=0.25, std=1e-4):
    """Assignment 1's two-layer net: linear-relu-linear, cross-entropy plus reg*sum(W^2), one SGD step."""
    torch.manual_seed(0)
    w1 = (std * torch.randn(FEATURES, h, dtype=DT)).requires_grad_()
    b1 = torch.zeros(h, dtype=DT, requires_grad=True)
    w2 = (std * torch.randn(h, CLASSES, dtype=DT)).requires_grad_()
    b2 = torch.zeros(CLASSES, dtype=DT, requires_grad=True)
    opt = torch.optim.SGD([w1, b1, w2, b2], lr=lr)

    def step():
        idx = torch.randint(0, x.shape[0], (batch,))
        xb, yb = x[idx], y[idx]
        scores = torch.relu(xb @ w1 + b1) @ w2 + b2
        loss = F.cross_entropy(scores, yb) + reg * ((w1 * w1).sum() + (w2 * w2).sum())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def fc_step(x, y, h, batch, keep=0.5, lr=1e-3):
    """Assignment 2's FullyConnectedNet as nn modules: (Linear-BatchNorm1d-ReLU-Dropout) x 5, Linear; Adam."""
    torch.manual_seed(0)
    layers, d = [], FEATURES
    for _ in range(FC_DEPTH):
        layers += [torch.nn.Linear(d, h), torch.nn.BatchNorm1d(h), torch.nn.ReLU(), torch.nn.Dropout(1 - keep)]
        d = h
    model = torch.nn.Sequential(*layers, torch.nn.Linear(d, CLASSES)).to(DT).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step():
        idx = torch.randint(0, x.shape[0], (batch,))
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step, [FEATURES] + [h] * FC_DEPTH + [CLASSES]


def inference(x, h):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, h), torch.nn.ReLU(), torch.nn.Linear(h, CLASSES)).to(DT).eval()

    def step():
        with torch.inference_mode():
            return model(x).argmax(dim=1)

    return step


def gemm(m, n, k, ta, tb):
    g = torch.Generator().manual_seed(42)
    a = torch.rand((k, m) if ta else (m, k), generator=g, dtype=DT)
    b = torch.rand((n, k) if tb else (k, n), generator=g, dtype=DT)
    c = torch.empty(m, n, dtype=DT)
    av, bv = (a.t() if ta else a), (b.t() if tb else b)
    return lambda: torch.mm(av, bv, out=c)


def main():
    torch.ones(64, 64, dtype=DT) @ torch.ones(64, 64, dtype=DT)  # loads the BLAS, so the check below sees it
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
