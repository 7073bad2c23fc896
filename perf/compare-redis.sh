#!/usr/bin/env bash
# The server comparison of perf/bench-server.sh (swiftcask-server vs redis-server, alternating,
# every durability mode at -P 1 and -P 16), written as CSV and charted as PNG.
# Usage: perf/compare-redis.sh [OUT_DIR]   (default Benchmarks/.build/compare-redis-DATE)
# The bench-server.sh environment (N, R, C, TESTS, PIPELINES, MODES, BIN, REDIS) applies.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-Benchmarks/.build/compare-redis-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"
python3 -c "import matplotlib" 2>/dev/null || python3 -m pip install -q matplotlib
CSV="$OUT_DIR/compare-redis.csv" bash perf/bench-server.sh | tee "$OUT_DIR/compare-redis.txt"
python3 Benchmarks/tools/plot-compare.py "$OUT_DIR/compare-redis.csv" "$OUT_DIR/compare-redis.png"
echo "# wrote $OUT_DIR/compare-redis.csv and $OUT_DIR/compare-redis.png"
