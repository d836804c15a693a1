# Thin wrapper over CMake presets. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
# As root the embedded cluster runs as the `postgres` OS user, which must be able to reach the data
# dir; a checkout under /root is not reachable, so root uses /var/lib/vaultterm-dev instead.
DATA_DIR ?= $(if $(filter 0,$(shell id -u)),/var/lib/vaultterm-dev,.vaultterm-dev)
JOBS ?= $(shell nproc)

.PHONY: all deps build debug asan release run test unit integration fuzz-smoke fuzz bench fmt clean

all: build

deps:
	@./scripts/deps.sh

build: debug

debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Builds and starts the server on the embedded PostgreSQL cluster in $(DATA_DIR).
run: debug
	./build/debug/vaultterm server --dev --data-dir $(DATA_DIR)

# Every test (unit + integration + checksrc + fuzz smoke) under ASan + UBSan.
test: asan
	@ctest --preset asan -j $(JOBS) --timeout 900

unit: asan
	@ctest --preset asan -j $(JOBS) -L unit

integration: asan
	@ctest --preset asan -j $(JOBS) -L integration

# libFuzzer harnesses (clang, preset fuzz, build/fuzz), ~15 s each on a copy of fuzz/corpus/.
# `make test` runs the same smoke as the ctest test fuzz/smoke.
fuzz-smoke: deps
	@JOBS=$(JOBS) ./scripts/fuzz-smoke build/fuzz

# Longer runs: FUZZ_SECONDS per harness (default 5 minutes).
fuzz: deps
	@JOBS=$(JOBS) FUZZ_SECONDS=$(or $(FUZZ_SECONDS),300) ./scripts/fuzz-smoke build/fuzz

bench: release
	@for b in bench/*.sh; do [ -x "$$b" ] && "$$b" ./build/release/vaultterm || exit 1; done

fmt:
	@clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c')

clean:
	rm -rf build
