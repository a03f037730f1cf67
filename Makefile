# The commands a newcomer types. `make run` and `make test` install what is missing, build and go.
# Build trees live in build/ (Release) and build-asan/ (ASan+UBSan); ccache keeps its cache outside
# the repository (its default, ~/.cache/ccache).

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
SHOALD_ARGS ?=
FUZZ_SECONDS ?= 600

.PHONY: all deps build run test test-unit test-sanitize fuzz bench format clean debug asan

all: build

deps:
	@tools/deps.sh build

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/bin/shoald $(SHOALD_ARGS)

# The CI suite: every ctest of the Release build, then the runtime tests again under ASan+UBSan.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	$(MAKE) --no-print-directory test-sanitize

test-sanitize: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHOAL_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target sanitize-tests
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L sanitize --timeout 600

# Every fuzz target for FUZZ_SECONDS each (tests/fuzz/README.md), one after another; what they
# learn stays in $(ASAN_BUILD)/fuzz-corpus, findings land in $(ASAN_BUILD)/fuzz-artifacts.
fuzz: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHOAL_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzz-targets
	@for f in $(ASAN_BUILD)/fuzz/*_fuzz; do \
	  echo "== $$(basename $$f) for $(FUZZ_SECONDS) s"; \
	  FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run_fuzzer.sh long $$f $$(basename $$f) || exit 1; \
	done

debug: deps
	cmake -S . -B build-debug $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-debug -j $(JOBS)

# Benchmarks: never part of CI. perf/README.md says what each prints.
bench: build
	@tools/deps.sh bench
	perf/run-benchmarks.sh $(BUILD)

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-debug
