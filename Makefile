# The common commands. CMake does the building; this file only names the
# entry points a newcomer needs (see README.md).
#
#   make          build otap and the example service into build/
#   make check    every test, under AddressSanitizer and UBSan, with the fuzzers
#   make demo     the main job end to end on the example project
#   make asan     only the sanitizer build (what make check tests)

BUILD       ?= build
CHECK_BUILD ?= build-check
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 30

.PHONY: all build bootstrap check asan demo clean format

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@MAKEFLAGS=--no-print-directory cmake --build $(BUILD) -j $(JOBS)

asan: bootstrap
	@cmake -S . -B $(CHECK_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DOTAP_SANITIZE=ON -DOTAP_FUZZ=ON -DOTAP_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@MAKEFLAGS=--no-print-directory cmake --build $(CHECK_BUILD) -j $(JOBS)

check: asan
	@cd $(CHECK_BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)

format:
	@git ls-files -co --exclude-standard -- '*.c' '*.h' ':!tests/fixtures' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(CHECK_BUILD)
