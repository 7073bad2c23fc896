#!/usr/bin/env bash
# Runs the engine test suite (SwiftcaskTests) under a sanitizer.
# Usage: Tests/reliability/sanitize.sh thread|address
set -euo pipefail
cd "$(dirname "$0")/../.."
kind="${1:?usage: $0 thread|address}"
case "$kind" in
    thread)
        scratch=.build-tsan
        export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/Tests/reliability/tsan.supp ${TSAN_OPTIONS:-}" ;;
    address)
        scratch=.build-asan
        export ASAN_OPTIONS="detect_stack_use_after_return=1 ${ASAN_OPTIONS:-}"
        export LSAN_OPTIONS="suppressions=$PWD/Tests/reliability/lsan.supp ${LSAN_OPTIONS:-}" ;;
    *) echo "unknown sanitizer $kind (thread or address)" >&2; exit 2 ;;
esac
swift test --sanitize="$kind" --scratch-path "$scratch" --filter SwiftcaskTests
