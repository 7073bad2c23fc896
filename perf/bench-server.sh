#!/usr/bin/env bash
# swiftcask-server vs redis-server 7, side by side in one run, alternating per test.
# Prints requests/s, p50/p99 latency and server CPU µs per request (from /proc/PID/stat,
# reaped children included), with swiftcask/redis ratios. Not a timed test: it reports, it does not gate.
#
# Environment (defaults = the issue's full run; e.g. N=100000 for a quick one):
#   N=1000000 R=1000000 C=50 TESTS=set,get,incr,mset,ping PIPELINES="1 16"
#   MODES="everysec always no"  BIN=.build/release/swiftcask-server  REDIS=redis-server
#   SC_ARGS="..." extra swiftcask-server flags (e.g. "--fsync-on-event-loop yes")
#   CSV=FILE also writes every row to FILE (perf/compare-redis.sh charts it)
set -euo pipefail

N=${N:-1000000}
R=${R:-1000000}
C=${C:-50}
TESTS=${TESTS:-set,get,incr,mset,ping}
PIPELINES=${PIPELINES:-"1 16"}
MODES=${MODES:-"everysec always no"}
BIN=${BIN:-.build/release/swiftcask-server}
SC_ARGS=${SC_ARGS:-}
REDIS=${REDIS:-redis-server}
CSV=${CSV:-}
VALUE_BYTES=3

for tool in redis-benchmark redis-cli "$REDIS"; do
    command -v "$tool" >/dev/null || { echo "bench-server: $tool not found" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench-server: $BIN not built (make build)" >&2; exit 1; }
case "$BIN" in *debug*) echo "WARNING: $BIN looks like a debug build; numbers will be meaningless" >&2 ;; esac

WORK=$(mktemp -d /tmp/bench-server.XXXXXX)
SC_PID=""
REDIS_PID=""
cleanup() {
    [ -n "$SC_PID" ] && kill "$SC_PID" 2>/dev/null || true
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# free_port, wait_ready, READY_POLLS_MAX
source "$(dirname "$0")/loopback-servers.sh"

# CPU of a server in clock ticks: utime + stime (fields 14 and 15 of /proc/PID/stat) plus the
# reaped children's cutime + cstime (16 and 17). Redis rewrites its AOF in a forked child
# whose CPU only shows up there; Swiftcask merges on a thread of its own process. A child's
# CPU lands in the window in which Redis reaps it.
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
TICKS_PER_SECOND=$(getconf CLK_TCK)

# Background log rewrites (Redis's AOF rewrite, Swiftcask's merge) that a write test starts
# belong to that test: after each test we wait until the server reports neither a rewrite in
# progress nor one due (INFO persistence) on IDLE_POLLS polls in a row, 100 ms apart (Redis
# starts a due rewrite from its 10 Hz cron), then read its CPU. So a test's CPU includes the
# rewrite it caused, and the next test does not share the cores with it. At most
# IDLE_POLLS_MAX polls (5 minutes), then the script warns and goes on.
IDLE_POLLS=3
IDLE_POLLS_MAX=3000
wait_background_idle() {
    local port=$1 quiet=0 info
    for _ in $(seq "$IDLE_POLLS_MAX"); do
        if ! info=$(redis-cli -p "$port" INFO persistence 2>/dev/null); then
            echo "bench-server: the server on port $port does not answer INFO persistence" >&2
            return
        fi
        if printf '%s\n' "$info" | tr -d '\r' |
            awk -F: '/^aof_rewrite_(in_progress|scheduled):/ && $2 != 0 { busy = 1 } END { exit busy }'; then
            quiet=$((quiet + 1))
            [ "$quiet" -ge "$IDLE_POLLS" ] && return 0
        else
            quiet=0
        fi
        sleep 0.1
    done
    echo "bench-server: the server on port $port was still rewriting after $IDLE_POLLS_MAX polls" >&2
}

# Runs one redis-benchmark test; prints "rps p50 p99 cpu_us_per_request" (CPU until the
# server's background rewrites finished).
measure() {
    local port=$1 pid=$2 test=$3 pipeline=$4
    local before after csv
    before=$(cpu_ticks "$pid")
    csv=$(redis-benchmark -p "$port" -t "$test" -n "$N" -r "$R" -c "$C" -P "$pipeline" -d "$VALUE_BYTES" --csv 2>/dev/null | tail -1)
    wait_background_idle "$port"
    after=$(cpu_ticks "$pid")
    echo "$csv" | awk -F'","' -v ticks=$((after - before)) -v hz="$TICKS_PER_SECOND" -v n="$N" '{
        gsub(/"/, "", $0); split($0, f, ",");
        printf "%s %s %s %.2f\n", f[2], f[5], f[7], ticks / hz * 1e6 / n }'
}

echo "# swiftcask-server vs $("$REDIS" --version | awk '{print $1, $3}')"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "# redis-benchmark -n $N -r $R -c $C -d $VALUE_BYTES; binary $BIN ${SC_ARGS:+(flags: $SC_ARGS)}"
printf "%-9s %-3s %-5s | %12s %12s %6s | %7s %7s %7s %7s | %8s %8s %6s\n" \
    mode P test "sc req/s" "redis req/s" ratio "sc p50" "sc p99" "r p50" "r p99" "sc µs/rq" "r µs/rq" "cpu x"

[ -n "$CSV" ] && echo "mode,pipeline,test,swiftcask_rps,redis_rps,rps_ratio,swiftcask_p50_ms,swiftcask_p99_ms,redis_p50_ms,redis_p99_ms,swiftcask_cpu_us,redis_cpu_us,cpu_ratio" >"$CSV"
declare -A REDIS_EVERYSEC_RPS
for mode in $MODES; do
    SC_PORT=$(free_port)
    REDIS_PORT=$(free_port)
    rm -rf "$WORK/sc" "$WORK/redis"
    mkdir -p "$WORK/sc" "$WORK/redis"
    "$BIN" --port "$SC_PORT" --dir "$WORK/sc" --appendfsync "$mode" --loglevel warning $SC_ARGS >"$WORK/sc.log" 2>&1 &
    SC_PID=$!
    "$REDIS" --port "$REDIS_PORT" --dir "$WORK/redis" --save '' --appendonly yes --appendfsync "$mode" \
        --daemonize no --logfile "$WORK/redis.log" &
    REDIS_PID=$!
    wait_ready "$SC_PORT"
    wait_ready "$REDIS_PORT"
    for pipeline in $PIPELINES; do
        for test in ${TESTS//,/ }; do
            read -r sc_rps sc_p50 sc_p99 sc_cpu <<<"$(measure "$SC_PORT" "$SC_PID" "$test" "$pipeline")"
            read -r r_rps r_p50 r_p99 r_cpu <<<"$(measure "$REDIS_PORT" "$REDIS_PID" "$test" "$pipeline")"
            ratio=$(awk -v a="$sc_rps" -v b="$r_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
            cpu_ratio=$(awk -v a="$sc_cpu" -v b="$r_cpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
            printf "%-9s %-3s %-5s | %12s %12s %6s | %7s %7s %7s %7s | %8s %8s %6s\n" \
                "$mode" "$pipeline" "$test" "$sc_rps" "$r_rps" "$ratio" "$sc_p50" "$sc_p99" "$r_p50" "$r_p99" "$sc_cpu" "$r_cpu" "$cpu_ratio"
            [ -n "$CSV" ] && echo "$mode,$pipeline,$test,$sc_rps,$r_rps,$ratio,$sc_p50,$sc_p99,$r_p50,$r_p99,$sc_cpu,$r_cpu,$cpu_ratio" >>"$CSV"
            [ "$mode" = everysec ] && REDIS_EVERYSEC_RPS["$pipeline/$test"]=$r_rps
            if [ "$mode" = always ] && [ "$test" = set ] && [ -n "${REDIS_EVERYSEC_RPS[$pipeline/set]:-}" ]; then
                awk -v a="$sc_rps" -v b="${REDIS_EVERYSEC_RPS[$pipeline/set]}" -v p="$pipeline" \
                    'BEGIN { printf "          swiftcask always SET vs redis everysec SET at -P %s: %.2f (target >= 0.9)\n", p, a / b }'
            fi
        done
    done
    kill "$SC_PID" "$REDIS_PID"
    wait "$SC_PID" "$REDIS_PID" 2>/dev/null || true
    SC_PID=""
    REDIS_PID=""
done
echo "# targets: req/s ratio >= 1.0, cpu x <= 0.8, p99 <= redis"
