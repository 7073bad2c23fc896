#!/usr/bin/env bash
# Embedded-engine comparison (issue 6): Swiftcask vs LMDB, LevelDB and RocksDB on one workload
# (KEYS keys, 16-byte keys, 100-byte values, one thread): fill without per-op sync, durable
# fill in batches of 100, random reads, reopen time, bytes on disk, peak RSS. Engines alternate
# (the starting engine rotates each repetition); medians of REPS repetitions and ratios are
# printed. Usage: perf/bench-peers.sh [KEYS] [REPS]   (defaults 2000000 3)
# Environment: BENCH_DIR (parent of the scratch directories, default /tmp), OUT (CSV file).
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${1:-${KEYS:-2000000}}
REPS=${2:-${REPS:-3}}
BENCH_DIR=${BENCH_DIR:-/tmp}
OUT=${OUT:-Benchmarks/.build/peers/results-$(date +%Y%m%d-%H%M%S).csv}
PEER_BUILD=Benchmarks/.build/peers
PACKAGES="liblmdb-dev libleveldb-dev librocksdb-dev"

missing=""
for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing:$missing" >&2
    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "missing packages:$missing -- run: sudo apt-get install$missing" >&2; exit 1
  fi
fi

mkdir -p "$PEER_BUILD"
CC=${CC:-cc}
$CC -O2 -Wall -o "$PEER_BUILD/peer-lmdb" Benchmarks/peers/peer_lmdb.c -llmdb
$CC -O2 -Wall -o "$PEER_BUILD/peer-leveldb" Benchmarks/peers/peer_leveldb.c -lleveldb
$CC -O2 -Wall -o "$PEER_BUILD/peer-rocksdb" Benchmarks/peers/peer_rocksdb.c -lrocksdb
bash perf/build-bench.sh >&2
SWIFTCASK_BENCH=Benchmarks/.build/release/swiftcask-bench

version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "# filesystem: $(df -T "$BENCH_DIR" | awk 'NR==2 {print $2}') at $BENCH_DIR"
echo "# build: swiftcask-bench release; peers cc -O2 against liblmdb $(version liblmdb-dev), libleveldb $(version libleveldb-dev), librocksdb $(version librocksdb-dev)"
echo "# workload: $KEYS keys x 16-byte keys, 100-byte values, 1 thread; durable batches of 100; $REPS repetitions, engines alternating"
echo "# swiftcask: fill durability no + one sync; durable: durability always, write(batch) returns after fdatasync;"
echo "#   zero-copy reads: withValueLocked (value lent from the map under the store lock, one byte read, like LMDB's"
echo "#   mdb_get in a renewed read transaction and RocksDB's get_pinned; what the server's GET uses); withValue (lent after"
echo "#   the lock is released, the segment retained) on its own row;"
echo "#   copied reads: get (a new array per read, like LevelDB's Get into a std::string)"

engines=(swiftcask lmdb leveldb rocksdb)
: > "$OUT"
for rep in $(seq 1 "$REPS"); do
  for offset in 0 1 2 3; do
    engine=${engines[$(( (rep - 1 + offset) % 4 ))]}
    dir=$(mktemp -d "$BENCH_DIR/peers-$engine.XXXXXX")
    echo "· repetition $rep: $engine" >&2
    if [ "$engine" = swiftcask ]; then
      "$SWIFTCASK_BENCH" --csv --runs 1 --keys "$KEYS" --phases fill,durable,gets,borrows,lends,reopen --dir "$dir" 2>/dev/null \
        | grep -v '^#' | grep ',1,' | sed "s/^swiftcask,1,/swiftcask,$rep,/" \
        | sed 's/,read_ops_per_sec,/,read_copy_ops_per_sec,/; s/,lend_ops_per_sec,/,read_ops_per_sec,/' >> "$OUT"
    else
      "$PEER_BUILD/peer-$engine" --keys "$KEYS" --dir "$dir" --run "$rep" > "$dir.out"
      grep '^#' "$dir.out" | sort -u >&2 || true
      if [ "$engine" = leveldb ]; then  # leveldb_get copies the value into a new allocation
        grep -v '^#' "$dir.out" | sed 's/,read_ops_per_sec,/,read_copy_ops_per_sec,/' >> "$OUT"
      else
        grep -v '^#' "$dir.out" >> "$OUT"
      fi
      rm -f "$dir.out"
    fi
    rm -rf "$dir"
  done
done

python3 - "$OUT" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.strip().split(",")
    if len(parts) == 4:
        rows[(parts[0], parts[2])].append(float(parts[3]))
engines = ["swiftcask", "lmdb", "leveldb", "rocksdb"]
metrics = [("fill_ops_per_sec", "fill, no per-op sync (ops/s)", True), ("durable_ops_per_sec", "durable, batches of 100 (ops/s)", True),
           ("read_ops_per_sec", "random reads, zero-copy (ops/s)", True), ("read_copy_ops_per_sec", "random reads, copied (ops/s)", True),
           ("borrow_ops_per_sec", "random reads, withValue (ops/s)", True),
           ("reopen_seconds", "reopen (s)", False),
           ("disk_bytes", "bytes on disk (MB)", False), ("peak_rss_bytes", "peak RSS (MB)", False)]
def med(engine, metric):
    values = rows.get((engine, metric))
    return statistics.median(values) if values else None
def fmt(metric, value):
    if value is None: return "-"
    if metric.endswith("_bytes"): return f"{value / 1e6:.1f}"
    if metric.endswith("seconds"): return f"{value:.3f}"
    return f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value / 1e3:.0f}k"
print()
print(f"{'median of repetitions':34}" + "".join(f"{e:>12}" for e in engines) + "   swiftcask vs " + " / ".join(engines[1:]))
for metric, label, higher in metrics:
    line = f"{label:34}" + "".join(f"{fmt(metric, med(e, metric)):>12}" for e in engines)
    ours = med("swiftcask", metric)
    ratios = []
    for peer in engines[1:]:
        theirs = med(peer, metric)
        ratios.append(f"{ours / theirs:.2f}x" if ours and theirs else "-")
    print(line + "   " + " / ".join(ratios))
print()
targets = [("fill_ops_per_sec", "leveldb", 4.0, "fill >= 4x LevelDB"), ("durable_ops_per_sec", "leveldb", 3.0, "durable batches >= 3x LevelDB"),
           ("read_ops_per_sec", "lmdb", 3.0, "random reads >= 3x LMDB (zero-copy)")]
for metric, peer, factor, text in targets:
    ours, theirs = med("swiftcask", metric), med(peer, metric)
    if ours and theirs:
        ratio = ours / theirs
        print(f"target {text:32} measured {ratio:5.2f}x  {'ok' if ratio >= factor else 'MISSED'}")
print(f"\nraw rows: {sys.argv[1]}")
PY
