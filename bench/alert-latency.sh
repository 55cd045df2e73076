#!/usr/bin/env bash
# Alert latency: from a message sent over TCP to the alert's email accepted by an SMTP server, through the release
# notilog-server (listener -> ingest queue -> store commit -> rule engine -> outbox -> delivery worker -> libcurl
# SMTP), idle and under a background load of syslog over TCP.
#
#   bench/alert-latency.sh                    both phases (what `make bench-alerts` runs; also part of `make bench`)
#   bench/alert-latency.sh idle               one phase: idle or loaded
#
# Knobs (environment; defaults in brackets):
#   BENCH_LATENCY_PROBES [200]        probe messages per phase, sent one at a time
#   BENCH_LATENCY_INTERVAL [0.25]     seconds between probes
#   BENCH_LATENCY_LOAD_RATE [50000]   messages/s the background loader offers in the loaded phase
#   BENCH_LATENCY_WAIT [60]           seconds to wait for the last mails after the last probe
#   BENCH_TIMEOUT [900]               seconds any other wait may take
#   BENCH_SERVER_BIN                  a notilog-server binary to use instead of building one
#   BENCH_KEEP=1                      keep this run's data directories, mails and logs (bench/.build/alert-latency)
#
# Each phase starts a fresh server (temporary data directory, default settings) with one email channel pointing at
# Tests/peers/smtp_sink.py (aiosmtpd, from the virtualenv scripts/setup makes) and one match rule,
# `app:latency "probe"` grouped by msgid: every probe has its own msgid, so each is its own alert and mail (no
# throttle). A probe's latency is the sink's record time of its mail (taken when the end of DATA arrives, just
# before the sink stores the mail and answers 250) minus the time just before the probe's frame was written to
# the socket; both are this machine's wall clock. Figures only: nothing fails on a slow result.
# What it measures and the latest figures: bench/README.md ("Alert latency").
set -euo pipefail
export LC_ALL=C

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/bench/.build/alert-latency"
server_scratch="$root/.build-bench-release"
timeout="${BENCH_TIMEOUT:-900}"
probes="${BENCH_LATENCY_PROBES:-200}"
interval="${BENCH_LATENCY_INTERVAL:-0.25}"
load_rate="${BENCH_LATENCY_LOAD_RATE:-50000}"
mail_wait="${BENCH_LATENCY_WAIT:-60}"
python="$root/.peers/python/bin/python"

phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(idle loaded)
for p in "${phases[@]}"; do
  case "$p" in idle | loaded) ;; *) echo "usage: bench/alert-latency.sh [idle] [loaded]" >&2; exit 2 ;; esac
done

mkdir -p "$work"
run_dir="$work/run.$$"
results="$work/last-run.txt"
mkdir -p "$run_dir"
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

if ! "$python" -c 'import aiosmtpd' 2>/dev/null; then
  say "no aiosmtpd in $python: running scripts/setup"
  "$root/scripts/setup" >&2 || fail "scripts/setup failed"
fi

# MARK: the probe driver and the background loader (Python, standard library)
cat >"$run_dir/probe.py" <<'PY'
# probe.py HOST PORT SINK_RECORD COUNT INTERVAL RUN_ID WAIT OUT: sends COUNT probes over one TCP connection, one
# every INTERVAL s; matches the sink's accepted mails to them (the probe's token, in the decoded mail); writes one
# line per probe to OUT ("N sent_time accept_time|- latency_ms|-") and prints the summary as KEY=value lines.
import datetime, email, email.policy, json, math, os, re, socket, sys, time

host, port, record, count, interval, run_id, wait, out = sys.argv[1:9]
port, count, interval, wait = int(port), int(count), float(interval), float(wait)
maildir = os.path.dirname(os.path.abspath(record)) + "/maildir"
token = re.compile(r"lp-%s-(\d{4})" % re.escape(run_id))
sent, accepted, duplicates, unmatched = {}, {}, 0, 0
offset = 0

def read_mails():
    global offset, duplicates, unmatched
    try:
        with open(record, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return
    end = data.rfind(b"\n") + 1
    offset += end
    for line in data[:end].splitlines():
        entry = json.loads(line)
        if not entry.get("accepted"):
            continue
        with open(os.path.join(maildir, entry["maildir_file"]), "rb") as f:
            mail = email.message_from_bytes(f.read(), policy=email.policy.default)
        body = mail.get_body(preferencelist=("plain",))
        text = str(mail.get("Subject", "")) + "\n" + (body.get_content() if body is not None else "")
        m = token.search(text)
        if not m:
            unmatched += 1
            continue
        n = int(m.group(1))
        if n in accepted:
            duplicates += 1
        else:
            accepted[n] = entry["time"]

sock = socket.create_connection((host, port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
start = time.monotonic()
for n in range(count):
    next_at = start + n * interval
    while True:
        read_mails()
        left = next_at - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(left, 0.01))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    msgid = "p%04d" % n
    message = "<13>1 %s latency-probe latency - %s - probe lp-%s-%04d" % (stamp, msgid, run_id, n)
    frame = ("%d %s" % (len(message), message)).encode()
    sent[n] = time.time()
    sock.sendall(frame)
deadline = time.monotonic() + wait
while len(accepted) < count and time.monotonic() < deadline:
    read_mails()
    time.sleep(0.02)
read_mails()
sock.close()

latencies = []
with open(out, "w") as f:
    for n in range(count):
        if n in accepted:
            ms = (accepted[n] - sent[n]) * 1000
            latencies.append(ms)
            f.write("%d %.6f %.6f %.1f\n" % (n, sent[n], accepted[n], ms))
        else:
            f.write("%d %.6f - -\n" % (n, sent[n]))
latencies.sort()
def rank(p):  # nearest rank
    return latencies[max(0, math.ceil(p * len(latencies)) - 1)] if latencies else float("nan")
print("probes=%d" % count)
print("received=%d" % len(latencies))
print("missing=%d" % (count - len(latencies)))
print("duplicates=%d" % duplicates)
print("unmatched=%d" % unmatched)
for name, p in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
    print("%s=%.0f" % (name, rank(p)))
print("min=%.0f" % (latencies[0] if latencies else float("nan")))
print("max=%.0f" % (latencies[-1] if latencies else float("nan")))
PY

cat >"$run_dir/loader.py" <<'PY'
# loader.py HOST PORT FILE RATE: writes the octet-counted frames of FILE (cycling) over one TCP connection at RATE
# frames/s, paced on 2 ms ticks (a tick behind sends what is due, at most 0.1 s worth per write), until SIGTERM;
# then prints sent, seconds and the rate achieved. A server that stops reading (back-pressure) slows it down.
import mmap, signal, socket, sys, time

host, port, path, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
with open(path, "rb") as f:
    data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
view = memoryview(data)
offsets = [0]
i, size = 0, len(data)
while i < size:
    space = data.find(b" ", i, i + 12)
    i = space + 1 + int(data[i:space])
    offsets.append(i)
frames = len(offsets) - 1
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
sock = socket.create_connection((host, port))
print("ready frames=%d" % frames, file=sys.stderr, flush=True)
sent, position, cap = 0, 0, max(1, int(rate / 10))
start = time.monotonic()
while not stop:
    due = int(rate * (time.monotonic() - start)) - sent
    if due <= 0:
        time.sleep(0.002)
        continue
    n = min(due, cap, frames - position)
    sock.sendall(view[offsets[position]:offsets[position + n]])
    sent += n
    position = (position + n) % frames
seconds = time.monotonic() - start
sock.close()
print("sent=%d" % sent)
print("seconds=%.3f" % seconds)
print("rate=%.0f" % (sent / seconds))
PY

# MARK: peers and server
sink_pid="" sink_dir=""
start_sink() {  # DIR: the SMTP sink, its Maildir and record in DIR; sets sink_pid, sink_port, sink_record
  sink_dir=$1
  mkdir -p "$sink_dir"
  sink_record="$sink_dir/smtp.jsonl"
  "$python" "$root/Tests/peers/smtp_sink.py" --maildir "$sink_dir/maildir" --record "$sink_record" \
    --port-file "$sink_dir/smtp.port" >"$sink_dir/smtp.log" 2>&1 &
  sink_pid=$!
  started+=("$sink_pid")
  local i
  for ((i = 0; i < 300; i++)); do
    [ -s "$sink_dir/smtp.port" ] && break
    kill -0 "$sink_pid" 2>/dev/null || { cat "$sink_dir/smtp.log" >&2; fail "smtp_sink exited at start"; }
    sleep 0.1
  done
  [ -s "$sink_dir/smtp.port" ] || fail "smtp_sink did not start in 30 s"
  sink_port=$(cat "$sink_dir/smtp.port")
}

write_config() {  # SMTP_PORT
  cat <<EOF
channels:
  latency-mail:
    type: email
    smtp_url: smtp://127.0.0.1:$1
    starttls: "off"
    from: notilog@bench.notilog.test
    to: [ops@bench.notilog.test]
rules:
  - name: latency-probe
    kind: match
    query: 'app:latency "probe"'
    group_by: [msgid]
    channels: [latency-mail]
EOF
}

committed_metric=notilog_ingest_committed_records_total
run_phase() {  # idle|loaded: sets row_PHASE
  local phase=$1 dir="$run_dir/$1" loader_pid="" c0 c1 t0 t1 offered="-" sent_rate="-" committed_rate="-" load_start load_end
  mkdir -p "$dir"
  start_sink "$dir"
  write_config "$sink_port" >"$dir/server.yaml"
  start_notilog "$dir/data" "$dir/server.yaml"
  if [ "$phase" = loaded ]; then
    local file
    file=$(messages_file 1000000)
    "$python" "$run_dir/loader.py" 127.0.0.1 "${nl_tcp#*:}" "$file" "$load_rate" >"$dir/loader.out" 2>"$dir/loader.err" &
    loader_pid=$!
    started+=("$loader_pid")
    say "$phase: background load $(group "$load_rate") msg/s over TCP; 5 s to settle"
    sleep 5
    kill -0 "$loader_pid" 2>/dev/null || { cat "$dir/loader.err" >&2; fail "the loader exited"; }
    offered=$load_rate
  fi
  load_start=$(load_line)
  c0=$(metric "$committed_metric")
  t0=$(now_ns)
  say "$phase: $probes probes, one every ${interval}s (about $(awk -v n="$probes" -v i="$interval" 'BEGIN { printf "%.0f", n * i }') s)"
  "$python" "$run_dir/probe.py" 127.0.0.1 "${nl_tcp#*:}" "$sink_record" "$probes" "$interval" "$$" "$mail_wait" \
    "$dir/probes.txt" >"$dir/probe.out"
  c1=$(metric "$committed_metric")
  t1=$(now_ns)
  load_end=$(load_line)
  if [ -n "$loader_pid" ]; then
    stop_pid "$loader_pid" 30
    sent_rate=$(kv rate "$dir/loader.out")
    committed_rate=$(awk -v c="$((c1 - c0))" -v ns="$((t1 - t0))" 'BEGIN { printf "%.0f", c / (ns / 1e9) }')
  fi
  stop_notilog
  stop_pid "$sink_pid" 10
  cp "$dir/probes.txt" "$work/probes-$phase.txt"
  local o="$dir/probe.out"
  printf -v "row_$phase" '%s' "$(kv probes "$o") $(kv received "$o") $(kv duplicates "$o") $(kv p50 "$o") $(kv p95 "$o") $(kv p99 "$o") $(kv max "$o") $offered $sent_rate $committed_rate ${load_start// /,} ${load_end// /,}"
  [ "$(kv unmatched "$o")" = 0 ] || say "$phase: $(kv unmatched "$o") accepted mails named no probe of this run"
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
}

{
  echo "bench: alert latency, $(machine_line)"
} | tee "$results" >&2
build_server
say "server: $server_bin"

for phase in "${phases[@]}"; do run_phase "$phase"; done

{
  echo
  echo "Alert latency: one probe over TCP every ${interval} s -> match rule -> outbox -> email accepted by the SMTP sink (ms)"
  printf '%-8s │ %6s %8s %4s │ %7s %7s %7s %7s │ %10s %8s %11s │ %s\n' phase probes received dups p50 p95 p99 max \
    "offered/s" "sent/s" "committed/s" "load avg (1 5 15 min) start -> end"
  echo "─────────┼─────────────────────────┼─────────────────────────────────┼──────────────────────────────────┼──────────────────"
  for phase in "${phases[@]}"; do
    row="row_$phase"
    read -r n got dups p50 p95 p99 max offered sent_rate committed_rate l0 l1 <<<"${!row}"
    g() { [ "$1" = - ] && echo - || group "$1"; }
    printf '%-8s │ %6s %8s %4s │ %7s %7s %7s %7s │ %10s %8s %11s │ %s -> %s\n' "$phase" "$n" "$got" "$dups" \
      "$(g "$p50")" "$(g "$p95")" "$(g "$p99")" "$(g "$max")" "$(g "$offered")" "$(g "$sent_rate")" "$(g "$committed_rate")" \
      "${l0//,/ }" "${l1//,/ }"
  done
  echo "Latency: the sink's record time of the probe's mail minus the time just before its frame was written (wall"
  echo "clock, same machine); percentiles by nearest rank over the mails received (a probe whose mail had not come"
  echo "${mail_wait} s after the last probe is not in received). loaded: the background loader (one TCP connection,"
  echo "bench/tools/genmsgs.c messages, paced on 2 ms ticks) ran from 5 s before the first probe to the last mail;"
  echo "sent/s is what it achieved, committed/s the server's committed records per second over the probes' span."
  echo "Per-probe figures: $work/probes-*.txt. Target: p99 < 1 s idle, < 2 s under 50,000 msg/s."
  echo "No peer comparison: no collector installed here turns a log line into an email in the same way."
} | tee -a "$results"
say "figures also in $results; load at the end $(load_line)"
