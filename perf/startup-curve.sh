#!/usr/bin/env bash
# Open time vs number of keys: for each size, swiftcask-bench fills a fresh store (16-byte keys,
# 100-byte values), closes it and times `Store(directory:)` twice: as the engine opens it (hint
# files for sealed segments) and with `ignoreHintFiles` (full scan + CRC check of every
# segment). Wall-clock and process CPU seconds (all threads), medians of RUNS runs per size;
# warm page cache (the files were just written). On a shared machine the CPU figures are the
# steadier ones; the wall figures are what a user waits.
# Usage: perf/startup-curve.sh [SIZES...]  (default 1000000 5000000 10000000)
# Environment: RUNS (default 3), BENCH_DIR (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp}
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000 5000000 10000000)
bash perf/build-bench.sh >&2
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM; release build"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg); warm page cache, medians of $RUNS runs"
printf "%10s %11s %11s %11s %11s %9s %9s\n" keys "hints s" "hints cpu" "scan s" "scan cpu" "speed-up" "(cpu)"
for keys in "${SIZES[@]}"; do
  csv=$(Benchmarks/.build/release/swiftcask-bench --csv --keys "$keys" --runs "$RUNS" --phases reopen --dir "$BENCH_DIR" 2>/dev/null)
  median() { echo "$csv" | awk -F, -v m="$1" '$2 == "median" && $3 == m { print $4 }'; }
  awk -v k="$keys" -v h="$(median reopen_seconds)" -v hc="$(median reopen_cpu_seconds)" \
      -v s="$(median reopen_scan_seconds)" -v sc="$(median reopen_scan_cpu_seconds)" \
      'BEGIN { printf "%10d %11.3f %11.3f %11.3f %11.3f %8.1fx %8.1fx\n", k, h, hc, s, sc, s / h, sc / hc }'
done
