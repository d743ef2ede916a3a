# make demo | test | test-asan | bench — thin wrappers over scripts/setup, CMake and CTest.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all setup build demo test test-asan fuzz bench clean format screenshots

all: build

setup:
	@scripts/setup

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DHANGAR_SANITIZE=ON

test-asan: setup $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) --timeout 900

# Each fuzz target for FUZZ_SECONDS (default 60) under libFuzzer with ASan and UBSan, from its
# seed corpus (fuzz/corpus); the corpora also replay in `make test`.
fuzz:
	@scripts/fuzz

demo: build
	@scripts/demo $(BUILD)/src/hangar

bench: build
	cmake --build $(BUILD) --target fleet_bench metrics_bench alerting_bench push_bench collector_bench
	@bench/api/run.sh $(BUILD)/src/hangar
	@bench/fleet/run.sh $(BUILD)/src/hangar $(BUILD)/bench/fleet_bench
	@bench/metrics/run.sh $(BUILD)/src/hangar $(BUILD)/bench/metrics_bench
	@bench/alerting/run.sh $(BUILD)/src/hangar $(BUILD)/bench/alerting_bench $(BUILD)/bench/metrics_bench
	@bench/push/run.sh $(BUILD)/src/hangar $(BUILD)/bench/push_bench
	@bench/collector/run.sh $(BUILD)/src/hangar $(BUILD)/bench/collector_bench

# Re-take the README's dashboard screenshots (the browser test saves one per view).
screenshots: build
	cd $(BUILD) && ctest -R dashboard_browser --output-on-failure
	mkdir -p docs/screenshots && cp $(BUILD)/screenshots/*.png docs/screenshots/

format:
	find src tests bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
