#!/usr/bin/env bash
# The agent: journald -> notilog-agent -> notilog-server throughput, and what the agent costs a host that logs
# 1,000 lines a second (CPU and peak RSS), beside rsyslog doing the same job (imfile -> omfwd over TCP to the same
# server) in the same run.
#
#   bench/agent.sh                 both parts (what `make bench-agent` runs; also part of `make bench`)
#   bench/agent.sh journal         one part: journal (throughput) or tail (cost at 1,000 lines/s)
#
# Knobs (environment; defaults in brackets):
#   BENCH_AGENT_ENTRIES [300000]   journal entries to forward in the throughput part
#   BENCH_AGENT_RATE [1000]        lines per second written in the cost part
#   BENCH_AGENT_SECONDS [30]       how long the cost part writes
#   BENCH_TIMEOUT [900]            seconds any wait may take
#   BENCH_SERVER_BIN / BENCH_AGENT_BIN   binaries to use instead of building them (release)
#   BENCH_KEEP=1                   keep this run's directories (bench/.build/agent)
#
# Throughput: a journal of BENCH_AGENT_ENTRIES entries (written once by systemd-journal-remote from generated
# export text, cached) is read from its start by the release agent (`journald: {directory: …, from: start}`),
# batched and sent to the release server's acknowledged ingest; the figure is entries committed on the server per
# second, from the agent's start to the last commit. Beside it: `journalctl -D DIR -o export` reading the same
# journal to /dev/null, the floor any journald reader pays.
# Cost: a writer appends BENCH_AGENT_RATE lines a second to a file for BENCH_AGENT_SECONDS; the agent tails it
# to the server; its CPU (utime+stime over wall time, % of one core) and peak RSS (VmHWM) are read from /proc.
# Then rsyslog tails the same kind of file with imfile and forwards it over TCP to the same server, measured the
# same way. Figures only: nothing fails on a slow result. Latest figures: bench/README.md ("The agent").
set -euo pipefail
export LC_ALL=C

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/bench/.build/agent"
server_scratch="$root/.build-bench-release"
agent_scratch="$root/.build-agent-static"
timeout="${BENCH_TIMEOUT:-900}"
entries="${BENCH_AGENT_ENTRIES:-300000}"
rate="${BENCH_AGENT_RATE:-1000}"
seconds="${BENCH_AGENT_SECONDS:-30}"
rsyslogd="${RSYSLOGD:-/usr/sbin/rsyslogd}"
journal_remote=/lib/systemd/systemd-journal-remote

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(journal tail)
for p in "${parts[@]}"; do
  case "$p" in journal | tail) ;; *) echo "bench: unknown part '$p' (journal, tail)" >&2; exit 2 ;; esac
done
mkdir -p "$work"
run_dir=$(mktemp -d "$work/run.XXXXXX")
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

[ -x "$journal_remote" ] || fail "$journal_remote is missing (scripts/setup installs systemd-journal-remote)"
build_server
if [ -n "${BENCH_AGENT_BIN:-}" ]; then
  agent_bin=$BENCH_AGENT_BIN
else
  # The agent as installed on hosts (`make agent`): self-contained, the Swift runtime and Foundation linked in.
  say "building notilog-agent (release, --static-swift-stdlib, scratch $agent_scratch)"
  (cd "$root" && "$swift" build -c release --static-swift-stdlib --scratch-path "$agent_scratch" --product notilog-agent) \
    >"$work/agent-build.log" 2>&1 || { tail -40 "$work/agent-build.log" >&2; fail "the agent build failed"; }
  agent_bin="$(cd "$root" && "$swift" build -c release --static-swift-stdlib --scratch-path "$agent_scratch" --show-bin-path)/notilog-agent"
fi

committed() { metric notilog_ingest_committed_records_total; }

# An ingest token from the running server, in a file.
ingest_token() {  # FILE
  curl -sS -f -m 30 -H "Authorization: Bearer $(tr -d ' \t\r\n' <"$nl_token")" -H 'Content-Type: application/json' \
    -d '{"name":"bench-agent","scope":"ingest"}' "http://$nl_http/api/v1/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >"$1"
}

start_agent() {  # CONFIG: sets ag_pid
  : >"$1.log"   # there before the wait below reads it (the background job opens it later)
  "$agent_bin" --config "$1" >"$1.log" 2>&1 &
  ag_pid=$!
  started+=("$ag_pid")
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q "agent started" "$1.log" && return 0
    kill -0 "$ag_pid" 2>/dev/null || { cat "$1.log" >&2; fail "notilog-agent exited at start"; }
    sleep 0.1
  done
  fail "notilog-agent did not start"
}

wait_for_committed() {  # TARGET: waits until the server has committed TARGET records (or the timeout)
  local i
  for ((i = 0; i < timeout * 10; i++)); do
    [ "$(committed)" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "the server committed $(committed) of $1 records in ${timeout}s"
}

journal_part() {
  local jdir="$work/journal-$entries"
  if [ ! -s "$jdir/bench.journal" ]; then
    say "writing a journal of $(group "$entries") entries ($jdir)"
    rm -rf "$jdir" && mkdir -p "$jdir"
    python3 - "$entries" >"$jdir/bench.export" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
units = ["nginx.service", "postgresql.service", "sshd.service", "cron.service", "app.service"]
for i in range(n):
    u = units[i % 5]
    out.write(f"__REALTIME_TIMESTAMP={1764900000000000 + i * 1000}\n__MONOTONIC_TIMESTAMP={i + 1}\n"
              f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web-{i % 7}\nPRIORITY={3 + i % 5}\n"
              f"SYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER={u.split('.')[0]}\n_PID={1000 + i % 97}\n_SYSTEMD_UNIT={u}\n"
              f"_TRANSPORT=journal\nMESSAGE=request {i} served in {i % 500} ms for client 10.0.{i % 250}.{i % 199}\n\n")
PY
    "$journal_remote" -o "$jdir/bench.journal" - <"$jdir/bench.export" >/dev/null 2>&1
    rm -f "$jdir/bench.export"
  fi
  local t0 t1 floor_ms
  t0=$(now_ns)
  journalctl -D "$jdir" -o export >/dev/null 2>&1 || journalctl --file "$jdir/bench.journal" -o export >/dev/null
  t1=$(now_ns)
  floor_ms=$(((t1 - t0) / 1000000))

  start_notilog "$run_dir/journal-server"
  ingest_token "$run_dir/journal.token"
  cat >"$run_dir/journal-agent.yaml" <<YAML
agent_id: bench-journal
state_dir: $run_dir/journal-agent
output: {url: "http://$nl_http", token_file: "$run_dir/journal.token"}
batch: {max_records: 5000, max_bytes: 4MiB, max_delay: 200ms}
journald: {directory: "$jdir", from: start}
YAML
  local base start end ticks hwm
  base=$(committed)
  start=$(now_ns)
  start_agent "$run_dir/journal-agent.yaml"
  wait_for_committed $((base + entries))
  end=$(now_ns)
  ticks=$(cpu_ticks "$ag_pid")
  hwm=$(hwm_kib "$ag_pid")
  stop_pid "$ag_pid" 30
  stop_notilog
  local secs per_s floor_per_s
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
  per_s=$(awk -v n="$entries" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  floor_per_s=$(awk -v n="$entries" -v ms="$floor_ms" 'BEGIN { printf "%.0f", n / (ms / 1000) }')
  echo
  echo "journald -> agent -> server, $(group "$entries") entries ($(machine_line))"
  printf '  %-44s %12s entries/s  (%s s; agent CPU %s s, peak RSS %s MiB)\n' "notilog-agent -> notilog-server (committed)" \
    "$(group "$per_s")" "$secs" "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')" "$((hwm / 1024))"
  printf '  %-44s %12s entries/s  (reading only, to /dev/null)\n' "journalctl -o export (floor)" "$(group "$floor_per_s")"
}

# Appends RATE lines a second to FILE for SECONDS (one write a tenth of a second).
writer() {  # FILE
  python3 - "$1" "$rate" "$seconds" <<'PY'
import sys, time
path, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_tick = rate // 10
n = 0
start = time.monotonic()
with open(path, "a", buffering=1) as f:
    for tick in range(seconds * 10):
        f.write("".join(f"{time.time():.6f} app[42]: GET /api/items/{n + k} 200 {(n + k) % 97} ms\n" for k in range(per_tick)))
        f.flush()
        n += per_tick
        delay = start + (tick + 1) / 10 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
PY
}

measure_while_writing() {  # PID FILE: prints "CPU% RSS-MiB" for PID while the writer runs
  local pid=$1 t0 c0 t1 c1
  c0=$(cpu_ticks "$pid")
  t0=$(now_ns)
  writer "$2"
  sleep 2  # what was written last is read and sent
  c1=$(cpu_ticks "$pid")
  t1=$(now_ns)
  awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v ns="$((t1 - t0))" -v k="$(hwm_kib "$pid")" \
    'BEGIN { printf "%.2f %.1f", 100 * (c / hz) / (ns / 1e9), k / 1024 }'
}

tail_part() {
  local total=$((rate * seconds))
  start_notilog "$run_dir/tail-server"
  ingest_token "$run_dir/tail.token"
  mkdir -p "$run_dir/logs"
  : >"$run_dir/logs/app.log"
  cat >"$run_dir/tail-agent.yaml" <<YAML
agent_id: bench-tail
state_dir: $run_dir/tail-agent
output: {url: "http://$nl_http", token_file: "$run_dir/tail.token"}
files: [{paths: ["$run_dir/logs/app.log"], app: app}]
YAML
  start_agent "$run_dir/tail-agent.yaml"
  local base agent_figures
  base=$(committed)
  agent_figures=$(measure_while_writing "$ag_pid" "$run_dir/logs/app.log")
  wait_for_committed $((base + total))
  stop_pid "$ag_pid" 30

  # rsyslog: imfile -> omfwd (TCP, octet-counted RFC 5424) to the same server.
  local rs="$run_dir/rsyslog" tcp_port=${nl_tcp##*:} rs_figures
  mkdir -p "$rs"
  : >"$run_dir/logs/rs.log"
  cat >"$rs/rsyslog.conf" <<CONF
global(workDirectory="$rs")
module(load="imfile")
input(type="imfile" file="$run_dir/logs/rs.log" tag="app" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="$tcp_port" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
}
CONF
  "$rsyslogd" -n -f "$rs/rsyslog.conf" -i "$rs/rsyslogd.pid" >"$rs/rsyslogd.log" 2>&1 &
  local rs_pid=$!
  started+=("$rs_pid")
  sleep 1
  base=$(committed)
  rs_figures=$(measure_while_writing "$rs_pid" "$run_dir/logs/rs.log")
  wait_for_committed $((base + total))
  stop_pid "$rs_pid" 30
  stop_notilog
  echo
  echo "tailing a file at $(group "$rate") lines/s for ${seconds}s, to the server ($(machine_line))"
  printf '  %-44s CPU %6s %% of a core   peak RSS %6s MiB\n' "notilog-agent (acknowledged ingest)" ${agent_figures}
  printf '  %-44s CPU %6s %% of a core   peak RSS %6s MiB\n' "rsyslog imfile -> omfwd TCP" ${rs_figures}
}

for p in "${parts[@]}"; do
  case "$p" in
    journal) journal_part ;;
    tail) tail_part ;;
  esac
done
