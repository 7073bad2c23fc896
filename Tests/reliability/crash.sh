#!/usr/bin/env bash
# Crash and power-cut torture. Usage: Tests/reliability/crash.sh [cycles]   (default 200)
# Power cuts and system-call faults (Swift tests), then kill -9 torture of the embedded API and
# of the server, and the server on a full disk (root only: it mounts a small tmpfs).
set -euo pipefail
cd "$(dirname "$0")/../.."
cycles="${1:-200}"
make build
swift test --filter 'PowerCutTests|SystemCallFaultTests'
SWIFTCASK_CRASH_CYCLES="$cycles" \
SWIFTCASK_TORTURE_BIN="${SWIFTCASK_TORTURE_BIN:-.build/release/swiftcask-torture}" \
SWIFTCASK_SERVER_BIN="${SWIFTCASK_SERVER_BIN:-.build/release/swiftcask-server}" \
    python3 -m pytest -q -s -rs Tests/integration/test_reliability.py -k 'crash_torture or disk_full'
