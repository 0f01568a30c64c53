"""Shared by numpy_bench.py and torch_bench.py: options, thread settings, timing and JSON lines.

The timing mirrors cifar-simd's Throughput.Measure so that the numbers compare like for like:
a warm-up of a quarter of the budget (0.25-2 s, at least 3 steps), then repetitions of a fixed
number of steps (about a tenth of the budget each) until the budget is spent and at least 3 are
done; the figure reported is the median seconds per step over repetitions.
"""

import argparse
import json
import os
import sys
import time

WORKLOADS = ["two-layer-step", "fc-step", "inference", "gemm"]
SHAPES = ["x-w", "xt-dout", "dout-wt", "square", "odd"]
FEATURES, CLASSES, TRAIN_ROWS = 3072, 10, 49_000
FC_DEPTH = 5


def parse_args(description):
    """Parses the options shared by both peers and sets the thread environment before numpy loads."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--workload", nargs="+", choices=WORKLOADS + ["all"], default=["all"])
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per measurement")
    p.add_argument("--threads", type=int, default=None,
                   help="threads (sets OMP/OPENBLAS/MKL_NUM_THREADS; default: those variables, else all cores)")
    p.add_argument("--hidden", type=int, nargs="+", default=None,
                   help="hidden sizes [two-layer-step, gemm, fc-step: 100; inference: 500]")
    p.add_argument("--batch", type=int, default=None,
                   help="batch [two-layer-step, gemm: 200; fc-step: 100]; inference: images [10000]")
    p.add_argument("--shape", nargs="+", choices=SHAPES, default=SHAPES)
    p.add_argument("--dtype", choices=["float", "double"], default="float")
    p.add_argument("--train-rows", type=int, default=TRAIN_ROWS)
    args = p.parse_args()
    if args.threads is not None:
        # Read by OpenBLAS and OpenMP when the library loads, so this must run before importing numpy.
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    else:
        env = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS")
        args.threads = int(env) if env else os.cpu_count()
    if "all" in args.workload:
        args.workload = WORKLOADS
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(f"warning: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} forces OpenBLAS's kernels for that core; "
              "unset it for a fair comparison", file=sys.stderr)
    return args


def hidden_sizes(args, default):
    return args.hidden if args.hidden else [default]


def measure(step, seconds):
    """Runs step() for a warm-up, then timed repetitions; returns (median, min, max, repetitions, steps)."""
    warmup = min(max(seconds / 4, 0.25), 2.0)
    start, n, last = time.perf_counter(), 0, 0.0
    while n < 3 or time.perf_counter() - start < warmup:
        t = time.perf_counter()
        step()
        last = time.perf_counter() - t
        n += 1
    per_rep = max(1, round(seconds / 10 / max(last, 1e-9)))
    per_step, steps = [], 0
    start = time.perf_counter()
    while len(per_step) < 3 or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        for _ in range(per_rep):
            step()
        per_step.append((time.perf_counter() - t) / per_rep)
        steps += per_rep
    per_step.sort()
    k = len(per_step)
    median = per_step[k // 2] if k % 2 else (per_step[k // 2 - 1] + per_step[k // 2]) / 2
    return median, per_step[0], per_step[-1], k, steps


def two_layer_flops(d, h, c, n):
    """Forward X.W1, H.W2; backward H^T.dS, dS.W2^T, X^T.dH (no dX): 2N(2DH + 3HC)."""
    return 2.0 * n * (2.0 * d * h + 3.0 * h * c)


def fc_flops(dims, n):
    """Per layer a forward and a weight-gradient product, and an input gradient for all but the first."""
    return sum((2.0 if l == 0 else 3.0) * 2.0 * n * dims[l] * dims[l + 1] for l in range(len(dims) - 1))


def inference_flops(d, h, c, n):
    return 2.0 * n * (d * h + h * c)


def gemm_shapes(args):
    """(shape, label, m, n, k, transpose_a, transpose_b) as cifar-simd bench defines them."""
    batch = args.batch or 200
    out = []
    for shape in args.shape:
        if shape in ("square", "odd"):
            out.append((shape, "square", 1024, 1024, 1024, False, False) if shape == "square"
                       else (shape, "odd", 509, 257, 1021, False, False))
            continue
        for h in hidden_sizes(args, 100):
            if shape == "x-w":
                out.append((shape, "X·W", batch, h, FEATURES, False, False))
            elif shape == "xt-dout":
                out.append((shape, "Xᵀ·dout", FEATURES, h, batch, True, False))
            else:
                out.append((shape, "dout·Wᵀ", batch, FEATURES, h, False, True))
    return out


def blas_in_use():
    """The BLAS libraries this process has loaded (call after the first product), from /proc/self/maps.

    On Debian, /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 is the unoptimised reference BLAS and
    .../openblas-pthread/libblas.so.3 is OpenBLAS; numpy and PyTorch use whichever the libblas.so.3
    alternative points to.
    """
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return None
    keys = ("blas", "mkl", "blis", "atlas")
    found = sorted(p for p in paths if "lapack" not in p and any(k in p.lower() for k in keys))
    return ", ".join(found) if found else None


def warn_if_reference_blas(blas):
    if blas and "/blas/libblas.so" in blas and "openblas" not in blas:
        print(f"warning: the reference BLAS is loaded ({blas}); products run 10-50x slower than with OpenBLAS. "
              "Install libopenblas0-pthread (run_all.sh does) for a meaningful comparison.", file=sys.stderr)


def emit(impl, version, args, workload, description, timing, flops, samples, **fields):
    median, lo, hi, reps, steps = timing
    row = {
        "impl": impl, "version": version, "workload": workload, "description": description, **fields,
        "dtype": args.dtype, "threads": args.threads,
        "samples_per_s": samples / median if samples else None,
        "gflops": flops / median / 1e9,
        "median_s": median, "min_s": lo, "max_s": hi, "repetitions": reps, "steps": steps,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "blas": blas_in_use(),
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    rate = f"{row['samples_per_s']:,.0f} samples/s" if samples else f"{row['gflops']:.1f} GFLOP/s"
    print(f"{impl} {description}, {args.threads} thread(s): {rate}", file=sys.stderr, flush=True)
