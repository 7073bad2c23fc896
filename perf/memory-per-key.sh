#!/usr/bin/env bash
# Memory per key: Swiftcask's index bytes per key (StoreStatistics.indexBytes / keys, exact)
# and its process RSS after a reopen, beside redis-server's `used_memory` per key for the same
# number of keys (DEBUG POPULATE N key 100: keys "key:<n>", 100-byte values).
# Usage: perf/memory-per-key.sh [SIZES...]  (default 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000 10000000)
PORT=${PORT:-7398}
bash perf/build-bench.sh >&2
echo "# machine: $(nproc) cores, $(uname -sr); $(redis-server --version 2>/dev/null | awk '{print $1, $2, $3}')"
printf "%10s %20s %22s %22s\n" keys "swiftcask index B/key" "swiftcask peak RSS MB" "redis used_memory B/key"
for keys in "${SIZES[@]}"; do
  csv=$(Benchmarks/.build/release/swiftcask-bench --csv --keys "$keys" --runs 1 --no-warmup --phases reopen 2>/dev/null)
  index=$(echo "$csv" | awk -F, '$3 == "index_bytes_per_key" { print $4 }' | head -1)
  rss=$(echo "$csv" | awk -F, '$3 == "peak_rss_bytes" { printf "%.1f", $4 / 1e6 }' | head -1)
  redis="-"
  if command -v redis-server >/dev/null; then
    redis-server --port "$PORT" --save '' --appendonly no --daemonize no --enable-debug-command yes >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    before=$(redis-cli -p "$PORT" info memory | awk -F: '/^used_memory:/ { print $2 + 0 }')
    redis-cli -p "$PORT" debug populate "$keys" key 100 >/dev/null
    after=$(redis-cli -p "$PORT" info memory | awk -F: '/^used_memory:/ { print $2 + 0 }')
    redis=$(awk -v a="$after" -v b="$before" -v k="$keys" 'BEGIN { printf "%.1f", (a - b) / k }')
    kill "$server"; wait "$server" 2>/dev/null || true
  fi
  printf "%10d %20s %22s %22s\n" "$keys" "$index" "$rss" "$redis"
done
