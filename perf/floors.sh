#!/usr/bin/env bash
# Hardware floors under two MISSION targets, measured with plain C on this machine:
#   random gets on one thread >= 3.0M/s   (two dependent cache misses per get)
#   serial durable batches of 100 >= 800k keys/s   (one pwrite + fdatasync per batch)
# Builds perf/tools/memory-latency.c and perf/tools/fsync-latency.c with cc -O2 into
# Benchmarks/.build/floors/, prints the machine, runs both tools and derives the ceilings.
# Not a timed test: it reports, it does not gate. Runtime well under a minute.
#
# Environment:
#   DIR=/tmp                  where the test files go (the filesystem the fsyncs measure)
#   INDEX_MIB=64 DATA_MIB=320 memory sizes (the 2M-key workload: index and segment data)
#   FSYNC_RUNS=3              fsync-latency runs; ceilings use the median of their p50s
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${DIR:-/tmp}
INDEX_MIB=${INDEX_MIB:-64}
DATA_MIB=${DATA_MIB:-320}
FSYNC_RUNS=${FSYNC_RUNS:-3}
CC=${CC:-cc}
OUT=Benchmarks/.build/floors
GET_TARGET_PER_S=3000000
DURABLE_TARGET_KEYS_PER_S=800000
KEYS_PER_BATCH=100
BATCH_BYTES=13600               # 100 records x 136 bytes (20-byte header + 16 key + 100 value)

[ -d "$DIR" ] || { echo "floors: $DIR is not a directory" >&2; exit 1; }
mkdir -p "$OUT"
"$CC" -O2 -Wall -o "$OUT/memory-latency" perf/tools/memory-latency.c
"$CC" -O2 -Wall -pthread -o "$OUT/fsync-latency" perf/tools/fsync-latency.c

WORK=$(mktemp -d /tmp/floors.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "# floors $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "# transparent hugepages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)"
echo "# data dir $DIR:"
df -T "$DIR" | sed 's/^/#   /'
echo

echo "## memory-latency --index-mib $INDEX_MIB --data-mib $DATA_MIB (dependent loads, median of 5 passes)"
"$OUT/memory-latency" --index-mib "$INDEX_MIB" --data-mib "$DATA_MIB" --dir "$DIR" --csv >"$WORK/memory.csv"
column -t -s, "$WORK/memory.csv"
echo

echo "## fsync-latency --dir $DIR ($FSYNC_RUNS runs; pwrite into a zero-filled synced file + fdatasync)"
for run in $(seq "$FSYNC_RUNS"); do
    "$OUT/fsync-latency" --dir "$DIR" --chunks "4096,$BATCH_BYTES" --threads 2,4 --csv |
        awk -v run="$run" 'NR == 1 { if (run == 1) print "run," $0; next } { print run "," $0 }'
done >"$WORK/fsync.csv"
column -t -s, "$WORK/fsync.csv"
echo

median_ns() { awk -F, -v c="$1" '$1 == c { print $3 }' "$WORK/memory.csv"; }
HUGE_NS=$(median_ns anon-huge)
FILE_NS=$(median_ns file-map-huge)
FILE_SMALL_NS=$(median_ns file-map)
GET_NS=$(median_ns get-shaped)
GET4_NS=$(median_ns get-shaped-x4)
# Median over runs of the serial 13,600-byte rows: p50 latency and rounds/s.
median_of() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
BATCH_P50_US=$(awk -F, -v b="$BATCH_BYTES" '$2 == "serial" && $3 == b { print $6 }' "$WORK/fsync.csv" | median_of)
BATCH_RATE=$(awk -F, -v b="$BATCH_BYTES" '$2 == "serial" && $3 == b { print $9 }' "$WORK/fsync.csv" | median_of)

verdict() { awk -v c="$1" -v t="$2" 'BEGIN { printf "%.2fx the target: %s", c / t, (c >= t ? "the hardware allows it" : "BELOW the target on this machine") }'; }

echo "## ceilings"
awk -v h="$HUGE_NS" -v f="$FILE_NS" 'BEGIN { printf "(i) one-thread random gets, 2 dependent misses: 1e9 / (%.1f ns anon-huge + %.1f ns file-map-huge) = %.2fM gets/s\n", h, f, 1e9 / (h + f) / 1e6 }'
awk -v h="$HUGE_NS" -v f="$FILE_SMALL_NS" 'BEGIN { printf "    (segments written in always mode keep 4 KiB pages: %.1f ns file-map, %.2fM gets/s)\n", f, 1e9 / (h + f) / 1e6 }'
echo "    vs ${GET_TARGET_PER_S} gets/s: $(verdict "$(awk -v h="$HUGE_NS" -v f="$FILE_NS" 'BEGIN { print 1e9 / (h + f) }')" "$GET_TARGET_PER_S")"
awk -v g="$GET_NS" -v g4="$GET4_NS" 'BEGIN {
    printf "    measured together (get-shaped): %.1f ns/get = %.2fM gets/s, one get at a time\n", g, 1e9 / g / 1e6
    printf "    4 independent gets interleaved (get-shaped-x4): %.1f ns/get = %.2fM gets/s: the floor holds only while each get waits for the last\n", g4, 1e9 / g4 / 1e6 }'
awk -F, '$1 ~ /^get-sequence-w/ { sub("get-sequence-w", "", $1); w[++n] = $1; t[n] = $3 }
    END { printf "    independent keys, one get after another (get-sequence-wN: N instructions of other work per get):"
          for (i = 1; i <= n; i++) printf " w%s %.1f ns (%.2fM/s)", w[i], t[i], 1e3 / t[i]
          printf "\n    the CPU overlaps consecutive gets only while a get stays far shorter than a verified Swiftcask get (~430 instructions)\n" }' "$WORK/memory.csv"
awk -v p="$BATCH_P50_US" -v k="$KEYS_PER_BATCH" -v b="$BATCH_BYTES" 'BEGIN { printf "(ii) serial durable batches of %d keys: %d / p50(pwrite %d B + fdatasync) = %d / %.1f us = %.0fk keys/s\n", k, k, b, k, p, k / p * 1e6 / 1e3 }'
echo "    vs ${DURABLE_TARGET_KEYS_PER_S} keys/s: $(verdict "$(awk -v p="$BATCH_P50_US" -v k="$KEYS_PER_BATCH" 'BEGIN { print k / p * 1e6 }')" "$DURABLE_TARGET_KEYS_PER_S")"
awk -v r="$BATCH_RATE" -v k="$KEYS_PER_BATCH" 'BEGIN { printf "    from the mean instead (rounds/s x %d, slow fsyncs included): %.0fk keys/s\n", k, r * k / 1e3 }'
