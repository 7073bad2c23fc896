# Swiftcask: `make run` starts the server on ./data, `make test` runs every test.
# Both install what they need first (`make deps`).

SWIFT        ?= swift
PYTHON       ?= python3
DATA_DIR     ?= ./data
PORT         ?= 6379
RELEASE_DIR  := .build/release
# Release builds drop runtime exclusivity checks in the dependencies too (SwiftNIO): our own
# targets already build without them (Package.swift), but only -Xswiftc reaches a dependency.
# NIO's checks cost ~4 % of the server's CPU at redis-benchmark -P 1 (perf: swift_beginAccess,
# AccessSet::insert and their thread-local lookups); they are diagnostics, not semantics.
RELEASE_FLAGS := -c release -Xswiftc -enforce-exclusivity=unchecked
APT_PACKAGES := liburing-dev redis-tools redis-server
PY_PACKAGES  := redis pytest

.PHONY: all deps deps-apt deps-python build build-debug test run bench bench-check bench-server compare-redis bench-peers \
        profile callgrind startup-curve memory-per-key retain-count floors cpu-split clean

all: build

## deps: install system and Python packages (apt-get when root, else prints what to install)
deps: deps-apt deps-python

deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing packages:$$missing -- run: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

deps-python:
	@$(PYTHON) -c "import redis, pytest" 2>/dev/null || $(PYTHON) -m pip install -q $(PY_PACKAGES)

## build: release build of the library, server and CLI into .build/release
build: deps-apt
	$(SWIFT) build $(RELEASE_FLAGS)

build-debug: deps-apt
	$(SWIFT) build

## test: unit tests (debug), then integration tests against the release binaries
test: deps build
	$(SWIFT) test
	@if [ -d Tests/integration ] && ls Tests/integration/test_*.py >/dev/null 2>&1; then \
	  SWIFTCASK_SERVER_BIN=$(RELEASE_DIR)/swiftcask-server SWIFTCASK_CLI_BIN=$(RELEASE_DIR)/swiftcask \
	  $(PYTHON) -m pytest -q Tests/integration; \
	fi

## run: the server on $(PORT) with data in $(DATA_DIR)
run: deps build
	$(RELEASE_DIR)/swiftcask-server --port $(PORT) --dir $(DATA_DIR)

## bench: embedded engine benchmark (2M keys, 16-byte keys, 100-byte values)
bench: deps-apt
	bash perf/build-bench.sh
	Benchmarks/.build/release/swiftcask-bench $(BENCH_ARGS)

## bench-check: malloc counts per operation against their budgets: swiftcask-bench probes and the
## package-benchmark suite against Benchmarks/Thresholds (fails on a regression)
bench-check: deps-apt
	bash perf/build-bench.sh
	Benchmarks/.build/release/swiftcask-bench --keys 200000 --runs 1 --phases mallocs --check-mallocs
	cd Benchmarks && $(SWIFT) package benchmark thresholds check --metric mallocCountTotal --no-progress

## bench-server: redis-benchmark against swiftcask-server and redis-server side by side
bench-server: deps build
	bash perf/bench-server.sh

## compare-redis: the bench-server comparison written as CSV and a PNG chart
compare-redis: deps build
	bash perf/compare-redis.sh

## bench-peers: the embedded workload on Swiftcask, LMDB, LevelDB and RocksDB, alternating
bench-peers: deps-apt
	bash perf/bench-peers.sh

## profile: perf record (cpu-clock) of the engine benchmark, top functions and a flame graph
profile: deps-apt
	bash perf/profile.sh bench

## callgrind: instructions per put/get/borrow (repeatable on a noisy machine)
callgrind: deps-apt
	bash perf/callgrind.sh

## startup-curve: open time with hint files and with a full scan, by key count
startup-curve: deps-apt
	bash perf/startup-curve.sh

memory-per-key: deps build
	bash perf/memory-per-key.sh

## retain-count: Swift retain/release calls and syscalls per request of the server (exact, via uprobes)
retain-count: deps build
	bash perf/retain-count.sh

clean:
	rm -rf .build Benchmarks/.build

## test-crash / fuzz / test-tsan / test-asan: the reliability suite (docs/RELIABILITY.md)
test-crash: deps build
	bash Tests/reliability/crash.sh $(or $(CYCLES),200)
fuzz: deps-apt
	bash Fuzz/run.sh $(or $(FUZZ_SECONDS),60)
test-tsan: deps-apt
	bash Tests/reliability/sanitize.sh thread
test-asan: deps-apt
	bash Tests/reliability/sanitize.sh address

## floors: hardware floors (dependent-load latency, pwrite+fdatasync latency) and the ceilings they imply
floors: deps-apt
	bash perf/floors.sh

## cpu-split: user vs kernel CPU and syscalls per request, swiftcask-server vs redis-server (TEST=ping_mbulk P=1)
cpu-split: deps build
	bash perf/cpu-split.sh $(or $(TEST),ping_mbulk) $(or $(P),1)
