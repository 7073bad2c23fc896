#!/usr/bin/env bash
# Open time vs number of keys: for each size, swiftcask-bench fills a fresh store (16-byte keys,
# 100-byte values), closes it and times `Store(directory:)` twice: as the engine opens it (hint
# files for sealed segments) and after deleting the hint files (full scan + CRC check of every
# segment). Medians of RUNS runs per size; warm page cache (the files were just written). Usage: perf/startup-curve.sh [SIZES...]  (default 250000 500000 1000000 2000000 4000000)
# Environment: RUNS (default 3), BENCH_DIR (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp}
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(250000 500000 1000000 2000000 4000000)
(cd Benchmarks && swift build -c release --product swiftcask-bench 2>&1 | tail -1) >&2
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr); release build"
echo "# warm page cache, medians of $RUNS runs"
printf "%12s %14s %14s %16s %10s\n" keys "open (hints) s" "full scan s" "scan keys/s" "speed-up"
for keys in "${SIZES[@]}"; do
  csv=$(Benchmarks/.build/release/swiftcask-bench --csv --keys "$keys" --runs "$RUNS" --phases reopen --dir "$BENCH_DIR" 2>/dev/null)
  hinted=$(echo "$csv" | awk -F, '$2 == "median" && $3 == "reopen_seconds" { print $4 }')
  scanned=$(echo "$csv" | awk -F, '$2 == "median" && $3 == "reopen_scan_seconds" { print $4 }')
  awk -v k="$keys" -v h="$hinted" -v s="$scanned" 'BEGIN { printf "%12d %14.3f %14.3f %16.0f %9.1fx\n", k, h, s, k / s, s / h }'
done
