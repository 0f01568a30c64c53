#!/usr/bin/env python3
"""Reads one run_all.sh results folder and prints cifar-simd against numpy and PyTorch as Markdown.

  python3 compare.py RESULTS_DIR

Ours are the JSON documents written by `cifar-simd bench --json FILE` (*.json, a "results" array);
the peers' are the JSON lines of numpy_bench.py / torch_bench.py (*.jsonl). Training steps and
inference compare samples/s; GEMMs compare GFLOP/s. A ratio is ours / the best peer at the same
thread count; the last table compares ours at the most threads with each peer at its best setting.
"""

import json
import pathlib
import sys

OURS, PEERS = "cifar-simd", ["numpy", "torch"]


def load(folder):
    rows = []
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text())
        rows += [r for r in doc.get("results", []) if r.get("workload") != "peak"]
    for path in sorted(folder.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    return rows


SHAPES = ["x-w", "xt-dout", "dout-wt", "square", "odd"]


def key(row):
    """Identifies a measurement across implementations; sorts in the order of the issue's table."""
    if row["workload"] == "gemm":
        return ("gemm", SHAPES.index(row["shape"]) if row.get("shape") in SHAPES else 9, row["m"], row["n"], row["k"])
    return (row["workload"], row.get("hidden"), row.get("batch"))


def metric(row):
    return row["samples_per_s"] if row.get("samples_per_s") else row["gflops"]


ORDER = {"two-layer-step": 0, "fc-step": 1, "inference": 2, "gemm": 3}


def target(row, threads):
    """The issue's target for a row, as (text, minimum ratio) when it is a ratio to the best peer."""
    w, h = row["workload"], row.get("hidden")
    if w == "two-layer-step" and h == 100 and row.get("batch") == 200:
        return ("≥ 2× at 2 threads", 2.0) if threads == 2 else ("", None)
    if w == "two-layer-step" and h == 500 and row.get("batch") == 200:
        return ("≥ 1.5× at 2 threads", 1.5) if threads == 2 else ("", None)
    if w == "fc-step" and h == 100:
        return "≥ 4×", 4.0
    if w == "inference" and h == 500:
        return "≥ 1.2×", 1.2
    if w == "gemm":
        return ("≥ 85% of peak" if threads == 1 else "≥ 75% of peak"), None
    return "", None


def unit(row):
    return "GFLOP/s" if row["workload"] == "gemm" else "images/s" if row["workload"] == "inference" else "samples/s"


def fmt(v, gemm):
    return "–" if v is None else (f"{v:.1f}" if gemm else f"{v:,.0f}")


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    rows = load(folder)
    if not rows:
        sys.exit(f"no results in {folder}")
    table = {}
    for r in rows:
        table.setdefault((key(r), r["threads"]), {})[r["impl"]] = r
    machine = folder / "machine.txt"
    if machine.exists():
        print(machine.read_text().strip())
    for peer in PEERS:
        blas = sorted({r.get("blas") or "unknown" for r in rows if r["impl"] == peer})
        if blas:
            print(f"{peer} BLAS: {'; '.join(blas)}")
    print()
    print("| workload | unit | threads | cifar-simd | numpy | PyTorch | ours / best peer | % of peak (ours) | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (k, threads), impls in sorted(table.items(), key=lambda e: (ORDER.get(e[0][0][0], 9), e[0][0][1:], e[0][1])):
        any_row = next(iter(impls.values()))
        gemm = any_row["workload"] == "gemm"
        ours = impls.get(OURS)
        peers = [metric(impls[p]) for p in PEERS if p in impls]
        best = max(peers) if peers else None
        ratio = metric(ours) / best if ours and best else None
        text, need = target(any_row, threads)
        mark = "" if ratio is None or need is None else (" ✓" if ratio >= need else " ✗")
        pct = f"{ours['percent_of_peak']:.0f}%" if ours and ours.get("percent_of_peak") is not None else "–"
        print(f"| {(ours or any_row)['description']} | {unit(any_row)} | {threads} | "
              f"{fmt(metric(ours) if ours else None, gemm)} | {fmt(metric(impls['numpy']) if 'numpy' in impls else None, gemm)} | "
              f"{fmt(metric(impls['torch']) if 'torch' in impls else None, gemm)} | "
              f"{'–' if ratio is None else f'{ratio:.2f}×'}{mark} | {pct} | {text} |")

    # Each peer at its best thread setting, against ours at the most threads measured.
    print("\n| workload | cifar-simd (threads) | best numpy (threads) | best PyTorch (threads) | ours / best peer setting |")
    print("|---|---|---|---|---|")
    by_key = {}
    for (k, threads), impls in table.items():
        for impl, r in impls.items():
            by_key.setdefault(k, {}).setdefault(impl, []).append(r)
    for k, impls in sorted(by_key.items(), key=lambda e: (ORDER.get(e[0][0], 9), e[0][1:])):
        if OURS not in impls:
            continue
        ours = max(impls[OURS], key=lambda r: r["threads"])
        gemm = ours["workload"] == "gemm"
        cells, best = [], None
        for p in PEERS:
            if p in impls:
                r = max(impls[p], key=metric)
                cells.append(f"{fmt(metric(r), gemm)} ({r['threads']})")
                best = max(best or 0, metric(r))
            else:
                cells.append("–")
        ratio = f"{metric(ours) / best:.2f}×" if best else "–"
        print(f"| {ours['description']} | {fmt(metric(ours), gemm)} ({ours['threads']}) | {cells[0]} | {cells[1]} | {ratio} |")


if __name__ == "__main__":
    main()
