#!/usr/bin/env bash
# Runs cifar-simd, numpy and PyTorch on the same workloads, one after another on this machine, for
# each thread count; prints a Markdown table of ours against the best peer and plots two-layer
# throughput against the hidden size. A tool for people, not part of CI.
#
#   bench/peers/run_all.sh                      # 3 s per measurement, 1 and 2 threads
#   BENCH_SECONDS=5 BENCH_THREADS="1 2 4" bench/peers/run_all.sh
#
# Environment: BENCH_SECONDS (3), BENCH_THREADS ("1 2"), BENCH_HIDDEN (two-layer sizes,
# "50 100 200 500 1000"), BENCH_OUT (results folder, bench/peers/results/<time>), BENCH_PLOT
# (docs/images/throughput-vs-hidden.png; empty: no plot), BENCH_NO_INSTALL=1 (never run apt-get),
# PYTHON (/usr/bin/python3, where Debian's packages live).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS="$ROOT/bench/peers"
SECS=${BENCH_SECONDS:-3}
THREADS=${BENCH_THREADS:-"1 2"}
HIDDEN=${BENCH_HIDDEN:-"50 100 200 500 1000"}
OUT=${BENCH_OUT:-"$PEERS/results/$(date +%Y%m%d-%H%M%S)"}
PLOT=${BENCH_PLOT-"$ROOT/docs/images/throughput-vs-hidden.png"}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=$(command -v python3 || true)

note() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }

# OpenBLAS (libopenblas0-pthread) replaces Debian's reference BLAS behind numpy and PyTorch: without
# it both run their products 10-50x slower and the comparison would mean nothing.
install_packages() {
    local missing=() pkg
    command -v dpkg-query >/dev/null || { warn "not a Debian system: install numpy, PyTorch, OpenBLAS and matplotlib yourself"; return; }
    for pkg in python3-numpy python3-torch python3-matplotlib libopenblas0-pthread; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    local apt=()
    if [ "$(id -u)" -eq 0 ]; then apt=(apt-get)
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then apt=(sudo apt-get)
    else warn "cannot install ${missing[*]} (not root, no passwordless sudo); skipping what is missing"; return; fi
    note "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${apt[@]}" install -y "${missing[@]}" || { "${apt[@]}" update && "${apt[@]}" install -y "${missing[@]}"; } \
        || warn "apt-get could not install ${missing[*]}; skipping what is missing"
}

[ "${BENCH_NO_INSTALL:-0}" = 1 ] || install_packages
has() { [ -n "$PYTHON" ] && "$PYTHON" -c "import $1" 2>/dev/null; }
PEER_LIST=()
has numpy && PEER_LIST+=(numpy) || warn "numpy is not importable by $PYTHON: skipping it"
has torch && PEER_LIST+=(torch) || warn "torch is not importable by $PYTHON: skipping it"

# The environment forces OpenBLAS onto its Haswell (AVX2) kernels; a fair comparison lets it pick.
unset OPENBLAS_CORETYPE

note "building cifar-simd (Release)"
dotnet build "$ROOT/src/Cifar.Simd.Cli/Cifar.Simd.Cli.csproj" -c Release -v quiet -nologo >&2
DLL="$ROOT/src/Cifar.Simd.Cli/bin/Release/net10.0/cifar-simd.dll"

mkdir -p "$OUT"
{
    echo "CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') ($(nproc) logical cores)"
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); cifar-simd commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "Command: BENCH_SECONDS=$SECS BENCH_THREADS=\"$THREADS\" bench/peers/run_all.sh"
    [ -n "$PYTHON" ] && "$PYTHON" - <<'PY' 2>/dev/null || true
import importlib
versions = []
for name in ("numpy", "torch"):
    try:
        versions.append(f"{name} {importlib.import_module(name).__version__}")
    except ImportError:
        pass
print("Peers: " + (", ".join(versions) or "none"))
PY
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# One workload at a time, ours first, then each peer: each process measures alone.
run_workload() {
    local t=$1 workload=$2; shift 2
    note "== $workload, $t thread(s)"
    dotnet "$DLL" bench --workload "$workload" --threads "$t" --seconds "$SECS" --json "$OUT/cifar-simd-$workload-t$t.json" "$@"
    for peer in "${PEER_LIST[@]}"; do
        "$PYTHON" "$PEERS/${peer}_bench.py" --workload "$workload" --threads "$t" --seconds "$SECS" "$@" > "$OUT/$peer-$workload-t$t.jsonl"
    done
}

for t in $THREADS; do
    # shellcheck disable=SC2086  # the hidden sizes are separate arguments
    run_workload "$t" two-layer-step --hidden $HIDDEN
    run_workload "$t" fc-step
    run_workload "$t" inference
    run_workload "$t" gemm
done

note "results in $OUT"
if [ -n "$PYTHON" ]; then
    "$PYTHON" "$PEERS/compare.py" "$OUT" | tee "$OUT/summary.md"
    if [ -n "$PLOT" ]; then
        if has matplotlib; then "$PYTHON" "$PEERS/plot_throughput.py" "$OUT" --out "$PLOT"
        else warn "matplotlib is missing: no plot"; fi
    fi
fi
