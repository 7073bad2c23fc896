# Swiftcask: `make run` starts the server on ./data, `make test` runs every test.
# Both install what they need first (`make deps`).

SWIFT        ?= swift
PYTHON       ?= python3
DATA_DIR     ?= ./data
PORT         ?= 6379
RELEASE_DIR  := .build/release
APT_PACKAGES := liburing-dev redis-tools redis-server
PY_PACKAGES  := redis pytest

.PHONY: all deps deps-apt deps-python build build-debug test test-swift test-integration run bench bench-server clean

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
	$(SWIFT) build -c release

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
	cd Benchmarks && $(SWIFT) build -c release --product swiftcask-bench
	Benchmarks/.build/release/swiftcask-bench $(BENCH_ARGS)

## bench-server: redis-benchmark against swiftcask-server and redis-server side by side
bench-server: deps build
	bash perf/bench-server.sh

clean:
	rm -rf .build Benchmarks/.build
