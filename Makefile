# make demo | demo-stop | test | test-asan | lint | format | bench — thin wrappers over scripts/setup, CMake and CTest.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all setup build demo demo-stop test test-asan fuzz bench clean format lint screenshots

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

# Tears the sample fleet down and stops Hangar (`kill` of its pid stops only Hangar: instances
# keep running for the next start to adopt).
demo-stop:
	@scripts/demo-stop $(BUILD)/src/hangar

bench: build
	cmake --build $(BUILD) --target fleet_bench metrics_bench alerting_bench push_bench collector_bench
	@bench/api/run.sh $(BUILD)/src/hangar
	@bench/fleet/run.sh $(BUILD)/src/hangar $(BUILD)/bench/fleet_bench
	@bench/metrics/run.sh $(BUILD)/src/hangar $(BUILD)/bench/metrics_bench
	@bench/alerting/run.sh $(BUILD)/src/hangar $(BUILD)/bench/alerting_bench $(BUILD)/bench/metrics_bench
	@bench/push/run.sh $(BUILD)/src/hangar $(BUILD)/bench/push_bench
	@bench/collector/run.sh $(BUILD)/src/hangar $(BUILD)/bench/collector_bench
	@bench/metering/run.sh $(BUILD)/src/hangar
	@bench/marketplace/run.sh $(BUILD)/src/hangar

# Re-take the README's dashboard screenshots (the browser test saves one per view).
screenshots: build
	cd $(BUILD) && ctest -R dashboard_browser --output-on-failure
	mkdir -p docs/screenshots && cp $(BUILD)/screenshots/*.png docs/screenshots/

# Lays out every C++ file as .clang-format says (clang-format 14, STYLE.md).
format:
	git ls-files -- 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp' \
		'fuzz/*.cpp' 'fuzz/*.hpp' 'examples/*.cpp' 'examples/*.hpp' | xargs clang-format-14 -i

# The format check on every file and clang-tidy on the C++ sources changed since LINT_BASE
# (default HEAD~1); .ci/run runs it after the tests.
lint: setup $(BUILD)/build.ninja
	@BUILD=$(BUILD) scripts/lint

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
