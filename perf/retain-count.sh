#!/usr/bin/env bash
# Swift reference-counting calls and syscalls per request of swiftcask-server, counted exactly:
# uprobes on swift_retain, swift_release and their `_n` forms (one atomic operation each) in
# libswiftCore plus the raw_syscalls tracepoint,
# read with `perf stat -p PID` over one redis-benchmark run. Counts repeat to the second decimal
# on a machine where timings of the same binary vary by half, so they show a hot-path change of
# a few percent that alternating timed runs cannot (BENCHMARKS.md, twelfth session).
#
# Per binary (in the order given) and test: a fresh temp data dir, a warm-up run, then the
# counted run, and one line `BIN TEST P: refcount calls/req (retains, releases, _n forms) syscalls/req`.
#
# Usage: perf/retain-count.sh [BIN...]     (default .build/release/swiftcask-server; needs
#                                          `make build`, root or perf_event_paranoid <= 1)
# Environment: TESTS="get set" P=1 N=100000 WARMUP_N=20000 C=50
set -euo pipefail
cd "$(dirname "$0")/.."
# free_port, wait_ready, READY_POLLS_MAX
source perf/loopback-servers.sh

TESTS=${TESTS:-get set}
P=${P:-1}
N=${N:-100000}
WARMUP_N=${WARMUP_N:-20000}
C=${C:-50}
KEYSPACE=1000000              # -r: random keys, as in the comparisons with Redis
[ $# -gt 0 ] || set -- .build/release/swiftcask-server

for tool in perf redis-benchmark redis-cli swift; do
    command -v "$tool" >/dev/null || { echo "retain-count: $tool not found" >&2; exit 1; }
done
RUNTIME=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib/swift/linux/libswiftCore.so
[ -f "$RUNTIME" ] || { echo "retain-count: libswiftCore.so not found at $RUNTIME" >&2; exit 1; }

# The uprobes persist until `perf probe -d`; add them once.
for symbol in swift_retain swift_release swift_retain_n swift_release_n; do
    perf probe -l 2>/dev/null | grep -q "probe_libswiftCore:$symbol " ||
        perf probe -q -x "$RUNTIME" "$symbol" || { echo "retain-count: cannot add a uprobe on $symbol (needs root)" >&2; exit 1; }
done
EVENTS=probe_libswiftCore:swift_retain,probe_libswiftCore:swift_release,probe_libswiftCore:swift_retain_n,probe_libswiftCore:swift_release_n,raw_syscalls:sys_enter

DATA=""
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
    [ -n "$DATA" ] && rm -rf "$DATA"
    return 0
}
trap cleanup EXIT

for BIN in "$@"; do
    [ -x "$BIN" ] || { echo "retain-count: $BIN not built (make build)" >&2; exit 1; }
    for TEST in $TESTS; do
        DATA=$(mktemp -d /tmp/swiftcask-retain-count.XXXXXX)
        PORT=$(free_port)
        "$BIN" --port "$PORT" --dir "$DATA" >/dev/null 2>&1 &
        SERVER=$!
        wait_ready "$PORT"
        redis-benchmark -p "$PORT" -t "$TEST" -n "$WARMUP_N" -r "$KEYSPACE" -c "$C" -P "$P" -q >/dev/null 2>&1
        COUNTS=$(mktemp /tmp/swiftcask-retain-count.XXXXXX.csv)
        perf stat -x, -e "$EVENTS" -p "$SERVER" -o "$COUNTS" &
        PERF=$!
        sleep 0.3    # perf attaches before the counted run starts
        redis-benchmark -p "$PORT" -t "$TEST" -n "$N" -r "$KEYSPACE" -c "$C" -P "$P" -q >/dev/null 2>&1
        kill -INT "$PERF"; wait "$PERF" 2>/dev/null || true
        awk -F, -v n="$N" -v label="$BIN $TEST P$P:" '
            /swift_retain_n/  { retainsN = $1 / n; next }
            /swift_release_n/ { releasesN = $1 / n; next }
            /swift_retain/    { retains = $1 / n }
            /swift_release/   { releases = $1 / n }
            /sys_enter/       { syscalls = $1 / n }
            END { printf "%s refcount calls/req %.2f (retain %.2f, release %.2f, _n %.2f)  syscalls/req %.2f\n",
                         label, retains + releases + retainsN + releasesN, retains, releases, retainsN + releasesN, syscalls }' "$COUNTS"
        rm -f "$COUNTS"
        redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
        rm -rf "$DATA"
        DATA=""
    done
done
