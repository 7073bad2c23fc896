#!/usr/bin/env bash
# Builds Benchmarks/'s swiftcask-bench (release) for the checkout at ROOT (default: this one).
# The Benchmarks package depends on the root package by path, and SwiftPM does not always
# re-plan it when the root package gains source files ("cannot find type ... in scope"):
# dropping the cached build plan first makes it re-plan (about a second), then builds.
set -euo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
rm -f "$ROOT/Benchmarks/.build/release.yaml" "$ROOT/Benchmarks/.build/build.db"
cd "$ROOT/Benchmarks" && swift build -c release --product swiftcask-bench 2>&1 | tail -1
