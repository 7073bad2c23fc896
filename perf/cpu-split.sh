#!/usr/bin/env bash
# Where the server's CPU goes, user space vs kernel, for swiftcask-server and redis-server on
# the same redis-benchmark test: is the "server CPU <= 0.8x Redis" target reachable by making
# our own code faster, or does the kernel work of our syscalls alone already exceed it?
#
# Per server and round (servers alternate, both running, fresh temp data dirs, loopback):
#   clean run    redis-benchmark alone: requests/s, server CPU µs/request and the stime share
#                from /proc/PID/stat (utime + stime ticks)
#   perf record  -e cpu-clock -g -p PID (software clock: no hardware counters on this VM):
#                share of samples in the kernel ([k]) vs user space ([.])
#   perf stat    -e raw_syscalls:sys_enter -p PID: syscalls per request (falls back to
#                strace -c -f on a short window when the tracepoint is unavailable)
# Then kernel µs/request = CPU µs/request x kernel share, the medians over rounds, and our
# kernel µs/request against Redis's total CPU µs/request.
#
# Usage: perf/cpu-split.sh [TEST [PIPELINE]]     (default: ping_mbulk 1; needs `make build`)
# Environment: C=50 N=300000 WARMUP_N=30000 ROUNDS=3 BIN=.build/release/swiftcask-server
#              REDIS=redis-server STRACE_N=20000 (requests in the strace fallback window)
set -euo pipefail
cd "$(dirname "$0")/.."

TEST=${1:-ping_mbulk}
PIPELINE=${2:-1}
C=${C:-50}
N=${N:-300000}
WARMUP_N=${WARMUP_N:-30000}
ROUNDS=${ROUNDS:-3}
BIN=${BIN:-.build/release/swiftcask-server}
REDIS=${REDIS:-redis-server}
STRACE_N=${STRACE_N:-20000}
CPU_TARGET_RATIO=0.8          # MISSION: server CPU per request <= 0.8x Redis
KEYSPACE=100000               # -r for key-using tests
VALUE_BYTES=3
TOP_SYMBOLS=8

for tool in redis-benchmark redis-cli perf "$REDIS"; do
    command -v "$tool" >/dev/null || { echo "cpu-split: $tool not found" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "cpu-split: $BIN not built (make build)" >&2; exit 1; }
case "$BIN" in *debug*) echo "WARNING: $BIN looks like a debug build; numbers will be meaningless" >&2 ;; esac

WORK=$(mktemp -d /tmp/cpu-split.XXXXXX)
SC_PID=""
REDIS_PID=""
HELPER_PID=""
cleanup() {
    [ -n "$HELPER_PID" ] && kill "$HELPER_PID" 2>/dev/null || true
    [ -n "$SC_PID" ] && kill "$SC_PID" 2>/dev/null || true
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# free_port, wait_ready, READY_POLLS_MAX
source perf/loopback-servers.sh

# Runs the test once with $1 requests against port $2; prints requests/s.
bench() {
    redis-benchmark -p "$2" -t "$TEST" -n "$1" -r "$KEYSPACE" -c "$C" -P "$PIPELINE" -d "$VALUE_BYTES" --csv 2>/dev/null |
        tail -1 | awk -F'","' '{ print $2 }'
}

TICKS_PER_SECOND=$(getconf CLK_TCK)
user_system_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

# Clean run: prints "rps cpu_us_per_request stime_share".
clean_run() {
    local port=$1 pid=$2 u0 s0 u1 s1 rps
    read -r u0 s0 <<<"$(user_system_ticks "$pid")"
    rps=$(bench "$N" "$port")
    read -r u1 s1 <<<"$(user_system_ticks "$pid")"
    awk -v rps="$rps" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$TICKS_PER_SECOND" -v n="$N" \
        'BEGIN { printf "%s %.3f %.3f\n", rps, (u + s) / hz * 1e6 / n, (u + s > 0 ? s / (u + s) : 0) }'
}

# perf record run: prints the kernel share of cpu-clock samples; keeps the report for the top list.
record_run() {
    local port=$1 pid=$2 name=$3
    perf record -q -e cpu-clock -g -p "$pid" -o "$WORK/$name.data" 2>/dev/null &
    HELPER_PID=$!
    sleep 0.3   # let perf attach before the load starts
    bench "$N" "$port" >/dev/null
    kill -INT "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null || true
    HELPER_PID=""
    perf report -i "$WORK/$name.data" --stdio --no-children -g none --sort sym --percent-limit 0 2>/dev/null |
        grep -E '^ +[0-9.]+%' >"$WORK/$name.symbols" || true
    awk '{ p = $1; sub(/%/, "", p); if ($2 == "[k]") k += p; else if ($2 == "[.]") u += p }
         END { printf "%.3f\n", (k + u > 0 ? k / (k + u) : 0) }' "$WORK/$name.symbols"
}

TRACEPOINT=yes
# Per-syscall tracepoints counted beside the total, for the breakdown (those this kernel has).
BREAKDOWN_SYSCALLS="read write readv writev recvfrom sendto recvmsg sendmsg epoll_wait epoll_pwait epoll_pwait2
    epoll_ctl futex io_uring_enter pwrite64 fdatasync nanosleep clock_nanosleep madvise"
SYSCALL_EVENTS=raw_syscalls:sys_enter
for tracing in /sys/kernel/tracing /sys/kernel/debug/tracing; do
    [ -d "$tracing/events/syscalls" ] || continue
    for call in $BREAKDOWN_SYSCALLS; do
        [ -d "$tracing/events/syscalls/sys_enter_$call" ] && SYSCALL_EVENTS+=",syscalls:sys_enter_$call"
    done
    break
done

# Syscalls per request: prints "syscalls_per_request"; keeps the per-syscall counts.
syscall_run() {
    local port=$1 pid=$2 name=$3 count
    if [ "$TRACEPOINT" = yes ]; then
        perf stat -x, -e "$SYSCALL_EVENTS" -p "$pid" -o "$WORK/$name.stat" 2>/dev/null &
        HELPER_PID=$!
        sleep 0.3
        bench "$N" "$port" >/dev/null
        kill -INT "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null || true
        HELPER_PID=""
        count=$(awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$WORK/$name.stat")
        awk -v c="$count" -v n="$N" 'BEGIN { printf "%.3f\n", c / n }'
    else
        strace -c -f -p "$pid" -o "$WORK/$name.strace" 2>/dev/null &
        HELPER_PID=$!
        sleep 0.5
        bench "$STRACE_N" "$port" >/dev/null
        kill -INT "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null || true
        HELPER_PID=""
        count=$(awk '$NF == "total" { print $4 }' "$WORK/$name.strace")   # % time, seconds, usecs/call, calls
        awk -v c="$count" -v n="$STRACE_N" 'BEGIN { printf "%.3f\n", c / n }'
    fi
}

# Swift symbols read better demangled; without swift-demangle they stay mangled.
demangle() { if command -v swift-demangle >/dev/null; then swift-demangle --simplified --compact; else cat; fi; }

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

mkdir -p "$WORK/sc" "$WORK/redis"
SC_PORT=$(free_port)
"$BIN" --port "$SC_PORT" --dir "$WORK/sc" --appendfsync everysec --loglevel warning >"$WORK/sc.log" 2>&1 &
SC_PID=$!
REDIS_PORT=$(free_port)
"$REDIS" --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --save '' --appendonly yes --appendfsync everysec \
    --daemonize no --logfile "$WORK/redis.log" &
REDIS_PID=$!
wait_ready "$SC_PORT"
wait_ready "$REDIS_PORT"

if ! perf stat -e raw_syscalls:sys_enter -p "$SC_PID" -- sleep 0.1 >/dev/null 2>&1; then
    TRACEPOINT=no
    echo "# raw_syscalls:sys_enter unavailable: syscalls counted with strace -c -f over $STRACE_N requests (strace slows the server; the count is what matters)"
fi

echo "# cpu-split $(date -u '+%Y-%m-%d %H:%M UTC'): redis-benchmark -t $TEST -P $PIPELINE -c $C -n $N (+ $WARMUP_N warm-up), $ROUNDS alternating rounds"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "# swiftcask: $BIN --appendfsync everysec; redis: $("$REDIS" --version | awk '{print $3}') --appendonly yes --appendfsync everysec"

bench "$WARMUP_N" "$SC_PORT" >/dev/null
bench "$WARMUP_N" "$REDIS_PORT" >/dev/null

declare -A RPS CPU STIME KSHARE SYSCALLS
for round in $(seq "$ROUNDS"); do
    for server in swiftcask redis; do
        if [ "$server" = swiftcask ]; then port=$SC_PORT pid=$SC_PID; else port=$REDIS_PORT pid=$REDIS_PID; fi
        read -r rps cpu stime <<<"$(clean_run "$port" "$pid")"
        kshare=$(record_run "$port" "$pid" "$server")
        syscalls=$(syscall_run "$port" "$pid" "$server")
        RPS[$server]+="$rps " CPU[$server]+="$cpu " STIME[$server]+="$stime "
        KSHARE[$server]+="$kshare " SYSCALLS[$server]+="$syscalls "
        printf "# round %d %-9s %10s req/s  %7s us/req  stime %s  perf kernel %s  %s syscalls/req\n" \
            "$round" "$server" "$rps" "$cpu" "$stime" "$kshare" "$syscalls"
    done
done

echo
printf "%-9s | %10s | %8s | %12s | %12s | %10s | %11s | %12s | %14s\n" server "req/s" "cpu µs/rq" "kernel share" "stime share" "user share" "syscalls/rq" "kernel µs/rq" "kernel µs/call"
declare -A KERNEL_US TOTAL_US
for server in swiftcask redis; do
    rps=$(median <<<"${RPS[$server]}"); cpu=$(median <<<"${CPU[$server]}"); stime=$(median <<<"${STIME[$server]}")
    kshare=$(median <<<"${KSHARE[$server]}"); syscalls=$(median <<<"${SYSCALLS[$server]}")
    TOTAL_US[$server]=$cpu
    KERNEL_US[$server]=$(awk -v c="$cpu" -v k="$kshare" 'BEGIN { printf "%.3f", c * k }')
    awk -v s="$server" -v r="$rps" -v c="$cpu" -v k="$kshare" -v st="$stime" -v sc="$syscalls" -v ku="${KERNEL_US[$server]}" \
        'BEGIN { printf "%-9s | %10.0f | %9.2f | %11.1f%% | %11.1f%% | %9.1f%% | %11.2f | %12.2f | %14.2f\n", s, r, c, k * 100, st * 100, (1 - k) * 100, sc, ku, (sc > 0 ? ku / sc : 0) }'
done
echo "(medians of $ROUNDS rounds; kernel share = [k] samples / all samples of perf record; stime share from /proc as a cross-check)"

for server in swiftcask redis; do
    echo
    echo "top $TOP_SYMBOLS symbols, $server (last round, self share of cpu-clock samples):"
    head -"$TOP_SYMBOLS" "$WORK/$server.symbols" | sed 's/^ */  /' | demangle
done

if [ "$TRACEPOINT" = yes ]; then
    for server in swiftcask redis; do
        echo
        echo "syscalls per request by kind, $server (last round; kinds under 0.001 omitted; 'other' = total minus all counted kinds):"
        awk -F, -v n="$N" '$3 == "raw_syscalls:sys_enter" { total = $1; next }
            $3 ~ /^syscalls:sys_enter_/ && $1 + 0 > 0 { seen += $1 } $3 ~ /^syscalls:sys_enter_/ && $1 / n >= 0.001 { name = $3; sub(/^syscalls:sys_enter_/, "", name)
                printf "  %-16s %6.3f\n", name, $1 / n }
            END { printf "  %-16s %6.3f\n  %-16s %6.3f\n", "other", (total - seen) / n, "total", total / n }' \
            "$WORK/$server.stat" | sort -k2 -g -r
    done
fi

echo
awk -v k="${KERNEL_US[swiftcask]}" -v t="${TOTAL_US[redis]}" -v sct="${TOTAL_US[swiftcask]}" -v rk="${KERNEL_US[redis]}" \
    -v target="$CPU_TARGET_RATIO" 'BEGIN {
    ratio = k / t
    printf "swiftcask kernel µs/request / redis total CPU µs/request = %.2f / %.2f = %.3f (target for all our CPU: <= %.1f)\n", k, t, ratio, target
    printf "swiftcask total CPU / redis total CPU = %.2f / %.2f = %.2f\n", sct, t, sct / t
    printf "redis kernel µs/request / redis total = %.2f / %.2f = %.2f: a server with Redis'"'"'s kernel cost and no user time at all would be at %.2fx\n", rk, t, rk / t, rk / t
    if (ratio > target)
        printf "VERDICT: our kernel part alone is %.3fx Redis'"'"'s whole CPU per request, above %.1fx: the CPU target cannot be met by faster user-space code; it needs fewer syscalls (or cheaper ones) per request.\n", ratio, target
    else
        printf "VERDICT: our kernel part is %.3fx Redis'"'"'s whole CPU per request, within %.1fx: the target leaves %.2f µs/request for user space (we spend %.2f).\n", ratio, target, target * t - k, sct - k
}'
