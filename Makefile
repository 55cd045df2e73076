# NotiLog — the two commands are `make run` and `make test`.
SWIFT ?= swift
FUZZ_SECONDS ?= 300

.PHONY: all setup build release run test fuzz fuzz-smoke bench clean

all: build

setup:
	@scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Until the server lands, `make run` shows how NotiLog reads a sample of real-world syslog lines.
run: release
	.build/release/notilogctl parse etc/samples/syslog-mix.log

# The whole suite: a short fuzzing run, then every test (unit and real-peer).
test: setup fuzz-smoke
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Fuzz the framer + parser for FUZZ_SECONDS (default 300).
fuzz: setup
	fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: setup
	fuzz/run.sh 60

# Benchmarks (release build); figures are documented in bench/README.md.
bench: setup
	bench/run.sh

clean:
	rm -rf .build .build-* fuzz/bin
