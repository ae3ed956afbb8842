# Conformance harness — build, test, run.
#
#   make            build build/runner and the Check unit tests
#   make test       lint (pyflakes), Check unit tests, then the pytest self-tests (one real browser run included)
#   make smoke      install what is missing, build, run the headline cases on Chromium (the first minute)
#   make run        install what is missing, build, run the suite on CLIENTS, write reports
#   make run-all    make run with the cases tagged `slow` (measurements a minute long each)
#   make check-cases  runner check on every case file
#   make mutate     mutation testing: every check proven able to fail on the committed records (part of test)
#   make records    run the suite on RECORD_CLIENTS and keep their judged runs in records/ (needs the clients)
#   make asan       the whole self-test suite with an ASan+UBSan runner
#   make fuzz       libFuzzer targets (clang); FUZZ_SECONDS=N smoke-runs each for N seconds
#   make bench      benchmarks, printed side by side with their references
#
# Flags: CFLAGS are composed from WARN (always), OPT (default -O2 -g), SAN (sanitizers, set by
# `make asan`), and -Werror when WERROR=1 (CI sets it). V=1 prints the full commands.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
WERROR  ?= 0
SAN     ?=
PKGS    := libevent libevent_pthreads jansson libcrypto libssl zlib
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
           -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
# pkg-config runs when make parses this file. On a fresh machine the packages are not installed yet at that
# moment, so the entry points that install them (see ENTRY_POINTS) do their work in a sub-make parsed after
# the install; a plain `make` on a machine without them stops at `pkgcheck`, saying what to run.
CPPFLAGS += -D_GNU_SOURCE -Iharness $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS  := -std=c11 $(WARN) $(OPT) $(SAN) -MMD -MP
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

PY      ?= /usr/bin/python3
CLIENTS ?= chromium
# Known deviations of the engines on the reference machine (README, "Browsers: known results"): with them a
# run fails only on what is new. EXPECTATIONS= (empty) judges every result against the spec alone.
EXPECTATIONS ?= expectations/browsers.json
PYTEST  := $(PY) -m pytest -p no:cacheprovider
# Mutation testing (README, "Mutation testing"): the clients whose runs are kept in records/, and the checks
# that no mutant of them made fail, each with the reason.
RECORD_CLIENTS ?= chromium firefox webkit node:xhr2 node:xmlhttprequest-ssl node:eventsource node:ws node:builtin \
                  python:requests python:httpx python:aiohttp python:websockets curl
SURVIVORS ?= expectations/survivors.json

# harness/<layer>/*.c are the library; harness/<layer>/tests/check_*.c its Check tests, one binary each (names are
# unique across layers: build/tests/check_NAME).
LIB_SRC   := $(sort $(wildcard harness/*/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(sort $(wildcard harness/*/tests/check_*.c))
TEST_BIN  := $(addprefix $(BUILD)/tests/,$(basename $(notdir $(TEST_SRC))))
vpath check_%.c $(sort $(dir $(TEST_SRC)))
RUNNER    := $(BUILD)/runner

.PHONY: all test check-c check-cases check-node pytest run run-all smoke asan fuzz bench clean deps lint pkgcheck \
        mutate records bench-clients

all: $(RUNNER) $(TEST_BIN)

pkgcheck:
	$(Q)pkg-config --exists $(PKGS) check || { echo "missing build packages ($(PKGS) check): run" \
	   "'make deps' (scripts/install-deps.sh), or 'make run' / 'make test', which install them first" >&2; exit 1; }

$(BUILD)/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libharness.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(RUNNER): $(BUILD)/runner.o $(BUILD)/libharness.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: %.c $(BUILD)/libharness.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CHECK   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libharness.a $(LDLIBS) $(CHECK_LIBS)

# Check binaries first; each prints its own summary. CK_FORK stays on: a crash is one failed test.
check-c: $(TEST_BIN)
	$(Q)fail=0; for t in $(TEST_BIN); do $$t || fail=1; done; exit $$fail

# pytest self-tests: the harness tests itself with the real runner, real clients on loopback.
pytest: $(RUNNER)
	$(Q)RUNNER=$(abspath $(RUNNER)) $(PYTEST) tests/self -q -ra $(PYTEST_ARGS)

# Node unit tests of fixtures/client.js and the Node adapter. They take the vocabulary from `$(RUNNER) vocab
# --json` (fixtures/node/test/vocabulary.js). test/browser.test.js runs page.html, case.html and client.js in the
# browsers NODE_BROWSERS names (comma-separated; `none` skips them) against a mock of the control side; `make asan`
# skips it, as it tests no C.
NODE_BROWSERS ?= chromium
check-node: $(RUNNER)
	$(Q)cd fixtures/node && RUNNER=$(abspath $(RUNNER)) CH_BROWSERS=$(NODE_BROWSERS) npm test --silent

deps:
	$(Q)scripts/install-deps.sh

# libFuzzer targets: every fuzz/fuzz_*.c, linked against the harness sources compiled for fuzzing (clang,
# -fsanitize=fuzzer-no-link plus ASan and UBSan, FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION defined: a case file's
# string budget is lower, harness/case/script_int.h) into $(FUZZ_BUILD)/. With FUZZ_SECONDS=N, each runs for N
# seconds on a scratch corpus in $(FUZZ_BUILD)/corpus/<name>/, seeded from the committed fuzz/corpus/<name>/;
# a crash leaves its input in $(FUZZ_BUILD)/ and fails the target.
FUZZ_CC     ?= clang
FUZZ_BUILD  ?= build-fuzz
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 $(WARN) -O1 -g -fno-omit-frame-pointer -MMD -MP -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_SRC    := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN    := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_OBJ    := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/harness/%.o: harness/%.c | pkgcheck
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

$(FUZZ_BUILD)/libharness.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_BUILD)/libharness.a
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_BUILD)/libharness.a $(LDLIBS)

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(BUILD)/runner.d $(TEST_BIN:%=%.d) $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:%=%.d)

comma := ,
empty :=
space := $(empty) $(empty)

# ---- entry points ---------------------------------------------------------------------------------------------
# The commands a newcomer may type first install what is missing (scripts/install-deps.sh), then do their work in
# a sub-make, parsed after the install so that pkg-config finds the packages. CH_DEPS_DONE=1 on that sub-make's
# command line reaches every make below it, so the install runs once per command.
ENTRY_POINTS := run run-all smoke test asan check-cases bench fuzz mutate records lint
ifeq ($(CH_DEPS_DONE),)
$(ENTRY_POINTS): deps
	$(Q)$(MAKE) --no-print-directory CH_DEPS_DONE=1 $@
else
check-cases: $(RUNNER)
	$(Q)$(RUNNER) check cases

test: all lint check-c check-cases check-node mutate pytest

# pyflakes over every Python file (names unused, undefined or unbound: it found an exception lost in a callback of
# the blocking WebSocket adapter's example, fixtures/python/examples/). `=`, not `:=`: the tree is searched only
# when lint runs.
PY_SRC = conftest.py $(shell find bench fixtures/python harness reports scripts tests -name '*.py' -not -path '*/__pycache__/*')
lint:
	$(Q)$(PY) -m pyflakes $(PY_SRC)

# Every check of the case set judged on mutants of the committed records (runner mutate); fails on a check no
# mutant made fail that $(SURVIVORS) does not list with a reason. Records of a case changed since are reported.
mutate: $(RUNNER)
	$(Q)xz -dc records/*.jsonl.xz >$(BUILD)/records.jsonl
	$(Q)$(RUNNER) mutate --cases cases --survivors $(SURVIVORS) --json $(BUILD)/mutation.json $(BUILD)/records.jsonl

records: all
	$(Q)scripts/records.sh $(abspath $(RUNNER)) $(PY) $(RECORD_CLIENTS)

run: all
	$(Q)RUNNER=$(abspath $(RUNNER)) $(PYTEST) tests/conformance -q \
	   --client "$(subst $(space),$(comma),$(strip $(CLIENTS)))" --report $(or $(REPORT),reports/out) \
	   $(if $(EXPECTATIONS),--expectations $(EXPECTATIONS)) $(RUN_ARGS); \
	 rc=$$?; echo "reports: $(or $(REPORT),reports/out)/index.html"; exit $$rc

# The whole suite with the cases tagged `slow` (cors/cache/cap-measure: a minute of waiting, a measurement).
run-all:
	$(Q)$(MAKE) --no-print-directory run RUN_ARGS="--slow $(RUN_ARGS)"

# The first minute: the cases tagged `headline` on Chromium (README, "Smoke run").
smoke: all
	$(Q)RUNNER=$(abspath $(RUNNER)) $(PYTEST) tests/conformance -q -m headline --client chromium \
	   --report $(or $(REPORT),reports/smoke) $(if $(EXPECTATIONS),--expectations $(EXPECTATIONS)) $(RUN_ARGS); \
	 rc=$$?; echo "reports: $(or $(REPORT),reports/smoke)/index.html"; exit $$rc

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	   SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" NODE_BROWSERS=none test

fuzz: $(FUZZ_BIN)
ifneq ($(FUZZ_SECONDS),)
	$(Q)for b in $(FUZZ_BIN); do n=$$(basename $$b); mkdir -p $(FUZZ_BUILD)/corpus/$$n fuzz/corpus/$$n; \
	  echo "  FUZZ    $$n for $(FUZZ_SECONDS)s"; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	      -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/$$n fuzz/corpus/$$n || exit 1; done
endif

# Benchmarks: figures beside their references, printed, never asserted (bench/run.sh says how).
bench: $(RUNNER) bench-clients
	$(Q)RUNNER=$(RUNNER) bench/run.sh
endif

# The benchmarks' own load clients, bench/<name>.c -> build/bench/<name> (-O2, no sanitizer, whatever BUILD is):
# one rule for all: `make bench` and bench/run.sh build them all (`make bench-clients`), each bench/*.py script
# only its own (`make -s build/bench/<name>`).
BENCH_BIN := $(patsubst bench/%.c,build/bench/%,$(wildcard bench/*.c))
BENCH_LIBS_tls_handshakes := -lssl -lcrypto
bench-clients: $(BENCH_BIN)
build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $< $(BENCH_LIBS_$*)
