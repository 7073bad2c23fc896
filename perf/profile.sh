#!/usr/bin/env bash
# CPU profile with software clocks (hardware counters are unavailable on our VMs):
# `perf record -e cpu-clock -g`, then a top-functions table (self and inclusive %) and a flame
# graph SVG (flamegraph.pl or inferno when installed, else Benchmarks/tools/flamegraph.py).
#   perf/profile.sh bench [swiftcask-bench args]     profile the embedded benchmark
#       e.g. perf/profile.sh bench --keys 2000000 --runs 1 --phases fill
#   perf/profile.sh server [redis-benchmark args]    profile .build/release/swiftcask-server
#       under redis-benchmark (default: -t set,get -n 1000000 -r 1000000 -c 50 -P 16 -q)
# Environment: WITHIN (regex: only samples whose stack has a matching frame, e.g. 'PhaseRunnerV4fill'),
# OUT (output directory, default Benchmarks/.build/profile), FREQ (sampling Hz, default 4000).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-bench}; shift || true
OUT=${OUT:-Benchmarks/.build/profile}
FREQ=${FREQ:-4000}
mkdir -p "$OUT"
command -v perf >/dev/null || { echo "perf not found: apt-get install linux-perf" >&2; exit 1; }
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr); perf $(perf --version | awk '{print $3}')"

case "$MODE" in
  bench)
    bash perf/build-bench.sh >&2
    echo "# build: release; command: swiftcask-bench $*"
    perf record -F "$FREQ" -e cpu-clock -g -o "$OUT/perf.data" Benchmarks/.build/release/swiftcask-bench "$@"
    ;;
  server)
    [ -x .build/release/swiftcask-server ] || { echo "build the server first: make build" >&2; exit 1; }
    PORT=${PORT:-7399}
    DATA=$(mktemp -d /tmp/swiftcask-profile.XXXXXX)
    .build/release/swiftcask-server --port "$PORT" --dir "$DATA" >/dev/null 2>&1 &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
    for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    ARGS=("$@"); [ ${#ARGS[@]} -eq 0 ] && ARGS=(-t set,get -n 1000000 -r 1000000 -c 50 -P 16 -q)
    echo "# build: release server; load: redis-benchmark -p $PORT ${ARGS[*]}"
    perf record -F "$FREQ" -e cpu-clock -g -p "$SERVER" -o "$OUT/perf.data" &
    PERF=$!
    sleep 0.5
    redis-benchmark -p "$PORT" "${ARGS[@]}"
    kill -INT $PERF; wait $PERF || true
    ;;
  *) echo "usage: perf/profile.sh bench|server [args]" >&2; exit 2 ;;
esac

perf script -i "$OUT/perf.data" 2>/dev/null > "$OUT/perf.script"
WITHIN_ARGS=(); [ -n "${WITHIN:-}" ] && WITHIN_ARGS=(--within "$WITHIN")
python3 Benchmarks/tools/perf-top.py "${WITHIN_ARGS[@]}" --top 30 --folded "$OUT/folded.txt" < "$OUT/perf.script" | tee "$OUT/top.txt"
if command -v flamegraph.pl >/dev/null; then flamegraph.pl "$OUT/folded.txt" > "$OUT/flame.svg"
elif command -v inferno-flamegraph >/dev/null; then inferno-flamegraph "$OUT/folded.txt" > "$OUT/flame.svg"
else python3 Benchmarks/tools/flamegraph.py "$OUT/folded.txt" > "$OUT/flame.svg"; fi
echo "top functions: $OUT/top.txt   flame graph: $OUT/flame.svg   raw: $OUT/perf.data"
