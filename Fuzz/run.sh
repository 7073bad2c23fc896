#!/usr/bin/env bash
# Builds the libFuzzer targets (Swift -sanitize=fuzzer plus AddressSanitizer) and runs each for
# a bounded time. Usage: Fuzz/run.sh [seconds-per-target] [target ...]
# The committed seed corpus (Fuzz/corpus/<name>) is read, never written: new inputs go to
# Fuzz/.work/<name>. A crash leaves its input in Fuzz/crashes/ and fails the script; turn it
# into a regression test (Tests/SwiftcaskTests/FuzzRegressionTests.swift or the server's
# RESPCommandDecoderTests) and keep the input in the corpus.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=(record hint resp); fi
SCRATCH="${FUZZ_SCRATCH:-.build}"

declare -A PRODUCT=([record]=FuzzRecordDecoder [hint]=FuzzHintFile [resp]=FuzzRESPDecoder)

# Debug build: the engine is compiled with testability so @testable import reaches its codecs.
# SwiftPM's --sanitize=fuzzer links libFuzzer's main but instruments only the fuzz targets
# themselves; -Xswiftc -sanitize=fuzzer puts coverage counters in every Swift module (the
# engine and server code under test included), -Xcc the same for the C shims.
FLAGS="--sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer -Xcc -fsanitize=fuzzer-no-link"
swift build --scratch-path "$SCRATCH" $FLAGS 2>&1 | grep -E "error|warning: unre|Compiling|Build" | tail -5
BIN="$(swift build --scratch-path "$SCRATCH" $FLAGS --show-bin-path)"

mkdir -p crashes
status=0
for target in "${TARGETS[@]}"; do
    product="${PRODUCT[$target]}"
    mkdir -p ".work/$target"
    log=".work/$target.log"
    set +e
    "$BIN/$product" ".work/$target" "corpus/$target" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="crashes/$target-" >"$log" 2>&1
    result=$?
    set -e
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
    corpus=$(ls ".work/$target" | wc -l)
    echo "fuzz $target ($product): ${SECONDS_PER_TARGET}s, executions=$executions, coverage_edges=$coverage, corpus=$corpus, exit=$result"
    if [ $result -ne 0 ]; then
        status=1
        echo "  CRASH: see $log and crashes/$target-*"
        grep -E "ERROR|Fatal error|Precondition|precondition" "$log" | head -5 | sed 's/^/  /'
    fi
done
exit $status
