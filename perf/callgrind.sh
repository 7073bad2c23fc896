#!/usr/bin/env bash
# Instructions per operation (valgrind callgrind: deterministic, so repeatable on a noisy
# machine) for Store.put, Store.get (copy), Store.withValue (borrow) and WriteBatch writes,
# on a small swiftcask-bench run. Collection is switched on only inside the measured function
# (--toggle-collect), so Ir / calls is the instructions one call costs, callees included.
#   perf/callgrind.sh                 the working tree
#   perf/callgrind.sh A B             two commits side by side (exported with `git archive`
#                                     into Benchmarks/.build/callgrind/<commit>; the working tree
#                                     is not touched)
# Environment: KEYS (default 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-20000}
command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install valgrind" >&2; exit 1; }
WORK=Benchmarks/.build/callgrind
mkdir -p "$WORK"

# name|phases|symbol patterns (comma-separated: a loop renamed between the commits compared)|operations per run
ZERO_COPY_LOOPS="\$s15swiftcask_bench11PhaseRunnerV7borrows_*,\$s15swiftcask_bench11PhaseRunnerV13zeroCopyReads__5count8keySpaceAA0C3RunV9Swiftcask5StoreC_AC04ZeroF4ReadOS2iSgtKF"
PROBES=(
  "put|fill|\$s9Swiftcask5StoreC3put3key5value15expiresAtMillis2in*|$KEYS"
  "get (copy)|gets|\$s9Swiftcask5StoreC3get3key2in*|$KEYS"
  # withValue and withValueLocked are inlined into the benchmark (cross-module optimization), so
  # these count the whole read loop: the loop's own work is a few instructions per read.
  "withValue (borrow), with loop|borrows|$ZERO_COPY_LOOPS|$KEYS"
  "withValueLocked (lend), with loop|lends|$ZERO_COPY_LOOPS|$KEYS"
  "write(batch of 100), per put|durable|\$s9Swiftcask5StoreC5writeyAA11WriteResultVAA0D5BatchVAA0B5ErrorVYKF|$KEYS"
)

measure() {  # $1 = root of a checkout with a Benchmarks package; prints "name value" lines
  local root=$1
  bash perf/build-bench.sh "$root" >&2
  # valgrind 3.19 cannot read Swift 6.3's DWARF ("possibly corrupted debuginfo"): profile a copy
  # without debug sections (the symbol table, which --toggle-collect needs, stays).
  local bench="$WORK/swiftcask-bench.nodebug.$$"
  objcopy --strip-debug "$root/Benchmarks/.build/release/swiftcask-bench" "$bench"
  for probe in "${PROBES[@]}"; do
    IFS='|' read -r name phases symbol operations <<< "$probe"
    local out="$WORK/callgrind.$$.out" patterns toggles=()
    IFS=',' read -ra patterns <<< "$symbol"
    for pattern in "${patterns[@]}"; do toggles+=("--toggle-collect=$pattern"); done
    valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no "${toggles[@]}" \
      "$bench" --keys "$KEYS" --runs 1 --no-warmup --phases "$phases" --durability no >/dev/null 2>&1 || true
    local ir
    ir=$(grep -m1 '^summary:' "$out" 2>/dev/null | awk '{print $2}' || true)
    rm -f "$out"
    # No instruction counted: the phase or the symbol does not exist in that build.
    if [ -n "$ir" ] && [ "$ir" != 0 ]; then awk -v n="$name" -v ir="$ir" -v ops="$operations" 'BEGIN { printf "%s|%.0f\n", n, ir / ops }'
    else echo "$name|-"; fi
  done
  rm -f "$bench"
}

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr); $(valgrind --version)"
echo "# workload: swiftcask-bench --keys $KEYS (16-byte keys, 100-byte values), durability no for writes; release build"
if [ $# -eq 2 ]; then
  results=()
  for commit in "$1" "$2"; do
    # Cached by hash, not by name: a name like HEAD moves.
    dir="$WORK/$(git rev-parse --short=12 "$commit^{commit}")"
    if [ ! -d "$dir" ]; then mkdir -p "$dir" && git archive "$commit" | tar -x -C "$dir"; fi
    results+=("$(measure "$dir")")
  done
  paste -d'|' <(echo "${results[0]}") <(echo "${results[1]}" | cut -d'|' -f2) \
    | awk -F'|' -v a="$1" -v b="$2" 'BEGIN { printf "%-32s %14s %14s %8s\n", "instructions per call", a, b, "change" }
      { c = ($2 > 0 && $3 > 0) ? sprintf("%+.1f%%", 100 * ($3 - $2) / $2) : "-"; printf "%-32s %14s %14s %8s\n", $1, $2, $3, c }'
else
  measure . | awk -F'|' 'BEGIN { printf "%-32s %14s\n", "instructions per call", "Ir" } { printf "%-32s %14s\n", $1, $2 }'
fi
