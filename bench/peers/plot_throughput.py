#!/usr/bin/env python3
"""Plots two-layer train-step throughput against the hidden size for cifar-simd, numpy and PyTorch.

  python3 plot_throughput.py RESULTS_DIR [--out docs/images/throughput-vs-hidden.png]

Reads the same files as compare.py (the two-layer-step rows, every hidden size measured); one
panel per thread count. Needs matplotlib (Debian: python3-matplotlib).
"""

import argparse
import pathlib

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from compare import load  # noqa: E402

LABELS = {"cifar-simd": "cifar-simd", "numpy": "numpy", "torch": "PyTorch"}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results")
    p.add_argument("--out", default="docs/images/throughput-vs-hidden.png")
    a = p.parse_args()
    rows = [r for r in load(pathlib.Path(a.results)) if r["workload"] == "two-layer-step"]
    if not rows:
        raise SystemExit(f"no two-layer-step results in {a.results}")
    threads = sorted({r["threads"] for r in rows})
    fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.5), sharey=True, squeeze=False)
    for ax, t in zip(axes[0], threads):
        for impl in LABELS:
            pts = sorted((r["hidden"], r["samples_per_s"]) for r in rows if r["impl"] == impl and r["threads"] == t)
            if pts:
                ax.plot([h for h, _ in pts], [s for _, s in pts], marker="o", label=LABELS[impl])
        ax.set_xscale("log")
        ax.set_yscale("log")
        hs = sorted({r["hidden"] for r in rows})
        ax.set_xticks(hs)
        ax.set_xticklabels([str(h) for h in hs])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
        ax.set_xlabel("hidden units H (3072-H-10, batch 200, SGD, float32)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    axes[0][0].set_ylabel("training samples / s")
    fig.suptitle("Two-layer net train step: throughput against hidden size")
    fig.tight_layout()
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
