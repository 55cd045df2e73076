# NotiLog — the two commands are `make run` and `make test`.
SWIFT ?= swift
FUZZ_SECONDS ?= 300

.PHONY: all setup build release agent run parse-sample test fuzz fuzz-smoke bench bench-ingest bench-search bench-rules bench-alerts bench-agent clean

all: build

setup:
	@scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# The agent for other hosts: one self-contained binary (the Swift runtime and Foundation linked in; it needs only
# libcurl and libsystemd from the host), in .build-agent-static/release/notilog-agent.
agent: setup
	$(SWIFT) build -c release --static-swift-stdlib --product notilog-agent --scratch-path .build-agent-static

# Starts the collector with safe defaults: syslog on udp+tcp 5514, data in ./data. Ctrl-C stops it gracefully.
run: release
	@echo "NotiLog: send syslog to udp/tcp port 5514, e.g.  logger -n 127.0.0.1 -P 5514 -T 'hello NotiLog'"
	@echo "NotiLog: search it with  .build/release/notilogctl search hello   (API: http://127.0.0.1:8514/api/v1, token in ./data/admin.token)"
	@echo "NotiLog: web UI at http://127.0.0.1:8514/ (user admin; its password is in ./data/admin.password after the first start)"
	@echo "NotiLog: data in ./data; see how lines are read with  .build/release/notilogctl parse FILE"
	.build/release/notilog-server --data-dir ./data

# Shows how NotiLog reads a sample of real-world syslog lines.
parse-sample: release
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

# Benchmarks (release builds); figures are documented in bench/README.md. First the parser/framer benchmarks,
# then the collector beside rsyslog: TCP ingest, UDP loss, search over stored messages; then the alert latency,
# message to email, idle and under 50,000 msg/s; then the agent, journald to server and tailing (20-25 minutes).
bench: setup
	bench/run.sh
	bench/ingest.sh
	bench/alert-latency.sh
	bench/agent.sh

# One part of the collector benchmarks: TCP ingest and UDP loss, or search over stored messages.
bench-ingest: setup
	bench/ingest.sh tcp udp

bench-search: setup
	bench/ingest.sh search

# The rule engine's cost on ingest: 0 and 200 rules, alternated (BENCH_RULES_ROUNDS rounds, median cost).
bench-rules: setup
	bench/ingest.sh rules

# Alert latency: syslog over TCP -> rule -> email accepted by the SMTP sink, idle and under background load.
bench-alerts: setup
	bench/alert-latency.sh

# The agent: journald -> agent -> server throughput, and its CPU and memory tailing 1,000 lines/s beside rsyslog.
bench-agent: setup
	bench/agent.sh

clean:
	rm -rf .build .build-* fuzz/bin
