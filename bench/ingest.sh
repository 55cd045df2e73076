#!/usr/bin/env bash
# The collector benchmarks: notilog-server (release build) beside rsyslog, the same messages, the same run.
#
#   bench/ingest.sh                 all four parts (what `make bench` runs after bench/run.sh)
#   bench/ingest.sh tcp udp         sustained TCP ingest and UDP loss (`make bench-ingest`)
#   bench/ingest.sh search          search over stored messages (`make bench-search`)
#   bench/ingest.sh rules           TCP ingest without and with alert rules, alternated (`make bench-rules`)
#
# Sizes and knobs (environment; defaults in brackets):
#   BENCH_INGEST_MESSAGES [2000000]      messages per TCP ingest run
#   BENCH_INGEST_CONNECTIONS ["1 4"]     one TCP ingest run per connection count
#   BENCH_UDP_RATES ["50000 100000"]     offered datagrams per second, one run each
#   BENCH_UDP_SECONDS [10]               length of each UDP run
#   BENCH_SEARCH_MESSAGES [5000000]      messages stored before the searches
#   BENCH_SEARCH_RUNS [5]                timed runs per query (after one warm-up); the median is printed
#   BENCH_TIMEOUT [900]                  seconds any one wait may take before the run is declared stuck
#   BENCH_KEEP=1                         keep the data directories and logs of this run (under bench/.build/ingest)
#   RSYSLOGD [/usr/sbin/rsyslogd], RSYSLOG_MODULES (its -M directory, for an unpacked rsyslog)
#   BENCH_SERVER_BIN                     a notilog-server binary to use instead of building one
#   BENCH_RULES [0]                      active alert rules in the server (a mix of kinds over the stream's apps
#                                        and words, no channels) in the tcp and udp parts; the rules part compares
#                                        0 with this many [200]
#   BENCH_RULES_ROUNDS [3]               rounds of the rules part, each one run without rules and one with; the
#                                        median cost is the figure (this machine's speed drifts between runs)
#
# What each part measures and the latest figures: bench/README.md ("Collector benchmarks").
# Every process this script starts is stopped by its PID when it ends, also on Ctrl-C. Everything binds 127.0.0.1.
set -euo pipefail
export LC_ALL=C

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/bench/.build/ingest"
server_scratch="$root/.build-bench-release"
swift="${SWIFT:-swift}"
rsyslogd="${RSYSLOGD:-/usr/sbin/rsyslogd}"

ingest_messages="${BENCH_INGEST_MESSAGES:-2000000}"
ingest_connections="${BENCH_INGEST_CONNECTIONS:-1 4}"
udp_rates="${BENCH_UDP_RATES:-50000 100000}"
udp_seconds="${BENCH_UDP_SECONDS:-10}"
search_messages="${BENCH_SEARCH_MESSAGES:-5000000}"
search_runs="${BENCH_SEARCH_RUNS:-5}"
timeout="${BENCH_TIMEOUT:-900}"

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(tcp udp search rules)
for p in "${parts[@]}"; do
  case "$p" in tcp | udp | search | rules) ;; *) echo "usage: bench/ingest.sh [tcp] [udp] [search] [rules]" >&2; exit 2 ;; esac
done
wants() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

mkdir -p "$work"
run_dir="$work/run.$$"
results="$work/last-run.txt"
mkdir -p "$run_dir"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
rate() { awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }
us_per() {  # TICKS COUNT: CPU microseconds per message
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# MARK: tools and messages
gcc -O2 -Wall -pthread -o "$work/sender" "$root/bench/tools/sender.c"
sender="$work/sender"

# MARK: notilog-server
# N rules, a quarter of each kind (match, threshold, absence, new_value), over the apps and words genmsgs writes;
# some match often (`timeout` is in 30 % of messages), most rarely. No channels: nothing is sent.
write_rules() {  # N
  local n=$1 i app word
  local apps=(nginx sshd postfix kernel CRON systemd api-gateway worker haproxy postgres)
  local words=(timeout failed denied error restarting expired dropped throttled overflow killed)
  echo "rules:"
  for ((i = 0; i < n; i++)); do
    app=${apps[$((i % ${#apps[@]}))]} word=${words[$(((i / ${#apps[@]}) % ${#words[@]}))]}
    echo "  - name: bench-$i"
    case $((i % 4)) in
      0) printf '    kind: match\n    query: app:%s %s\n    group_by: [host]\n' "$app" "$word" ;;
      1) printf '    kind: threshold\n    query: app:%s %s\n    group_by: [host]\n    threshold: 50\n    window: 10s\n' "$app" "$word" ;;
      2) printf '    kind: absence\n    query: app:%s\n    group_by: [host]\n    window: 15m\n' "$app" ;;
      3) printf '    kind: new_value\n    query: app:%s %s\n    field: host\n    learn_for: 1m\n' "$app" "$word" ;;
    esac
  done
}

# The server, with BENCH_RULES rules when asked (lib.sh starts it).
start_bench_server() {  # DATA_DIR
  if [ "${BENCH_RULES:-0}" -gt 0 ]; then
    write_rules "${BENCH_RULES}" >"$1.config.yaml"
    start_notilog "$1" "$1.config.yaml"
  else
    start_notilog "$1"
  fi
}
json() {  # EXPR: reads JSON on stdin, prints the python expression over it (j)
  python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
committed_metric=notilog_ingest_committed_records_total
wait_committed() {  # TARGET STALL_S OUT
  "$sender" wait-metric "${nl_http%:*}" "${nl_http#*:}" "$nl_token" "$committed_metric" "$1" "$timeout" "$2" >"$3"
}

# MARK: rsyslog
rs_pid="" rs_port="" rs_out=""
start_rsyslog() {  # DIR
  local dir=$1 i
  mkdir -p "$dir"
  rs_port=$("$sender" freeport)
  rs_out="$dir/messages.log"
  # Plain file output; the line holds what the searches need (received time, host, severity) and the message.
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir")
module(load="imtcp")
module(load="imudp")
template(name="bench" type="string"
         string="%timegenerated:::date-utc,date-rfc3339% %HOSTNAME% %syslogseverity-text% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%\n")
ruleset(name="bench") {
  action(type="omfile" file="$rs_out" template="bench")
}
input(type="imtcp" address="127.0.0.1" port="$rs_port" ruleset="bench")
input(type="imudp" address="127.0.0.1" port="$rs_port" ruleset="bench")
EOF
  local modules=()
  [ -n "${RSYSLOG_MODULES:-}" ] && modules=(-M "$RSYSLOG_MODULES")
  "$rsyslogd" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" "${modules[@]}" >"$dir/rsyslogd.log" 2>&1 &
  rs_pid=$!
  started+=("$rs_pid")
  for ((i = 0; i < 300; i++)); do
    kill -0 "$rs_pid" 2>/dev/null || { cat "$dir/rsyslogd.log" >&2; fail "rsyslogd exited at start"; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$rs_port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  fail "rsyslogd did not listen on 127.0.0.1:$rs_port in 30 s"
}
stop_rsyslog() { stop_pid "$rs_pid" 30; }

# MARK: one timed TCP load: first byte sent -> all committed (NotiLog) / all lines in the file (rsyslog)
# The sender's connections stay open until then, as a forwarder's would (see bench/README.md for why that matters
# here). Sets load_ns, load_start_ns, load_end_ns.
tcp_load() {  # notilog|rsyslog FILE COUNT CONNECTIONS TAG
  local who=$1 file=$2 count=$3 conns=$4 tag=$5 waiter sender_pid rc=0 src=0 port
  if [ "$who" = notilog ]; then
    port=${nl_tcp#*:}
    wait_committed "$count" 60 "$run_dir/$tag.wait" &
  else
    port=$rs_port
    "$sender" wait-lines "$rs_out" "$count" "$timeout" 60 >"$run_dir/$tag.wait" &
  fi
  waiter=$!
  started+=("$waiter")
  sleep 0.2
  "$sender" tcp 127.0.0.1 "$port" "$file" "$conns" "$count" "$timeout" >"$run_dir/$tag.send" &
  sender_pid=$!
  started+=("$sender_pid")
  wait "$waiter" || rc=$?
  kill -TERM "$sender_pid" 2>/dev/null || true
  wait "$sender_pid" || src=$?
  [ "$src" = 0 ] || fail "$tag: the sender failed (exit $src)"
  [ "$rc" = 0 ] || fail "$tag: only $(kv value "$run_dir/$tag.wait") of $count arrived (waiter exit $rc; $(grep -c . "$run_dir/$tag.send") lines from the sender)"
  load_start_ns=$(kv start_ns "$run_dir/$tag.send")
  load_end_ns=$(kv reached_ns "$run_dir/$tag.wait")
  load_ns=$((load_end_ns - load_start_ns))
}

{
  echo "bench: $(machine_line)"
  echo "bench: $("$rsyslogd" -v | head -1)"
} | tee "$results" >&2
build_server
say "server: $server_bin (ingest settings: defaults$(env | grep -o '^NOTILOG_[A-Z_]*' | tr '\n' ' ' | sed 's/^./, environment: &/'))"

report() { tee -a "$results"; }

# MARK: 1. sustained TCP ingest
if wants tcp; then
  file=$(messages_file "$ingest_messages")
  rows=()
  for conns in $ingest_connections; do
    say "tcp: $(group "$ingest_messages") messages over $conns connection(s) into notilog-server"
    start_bench_server "$run_dir/nl-tcp-$conns"
    top_file="$work/top-tcp-$conns.txt"
    if command -v top >/dev/null; then
      (sleep 5 && top -b -n 1 -H -p "$nl_pid" >"$top_file" 2>&1) &
      started+=("$!")
    fi
    cpu0=$(cpu_ticks "$nl_pid")
    tcp_load notilog "$file" "$ingest_messages" "$conns" "nl-tcp-$conns"
    nl_ns=$load_ns
    nl_cpu=$(us_per $(($(cpu_ticks "$nl_pid") - cpu0)) "$ingest_messages")
    nl_rss=$(hwm_kib "$nl_pid")
    nl_indexed=$(api /api/v1/status | json 'j["store"]["indexed_up_to"]')
    nl_pauses=$(api /metrics | awk '/^notilog_listener_back_pressure_pauses_total/ { n += $NF } END { print n + 0 }')
    stop_notilog
    rm -rf "$run_dir/nl-tcp-$conns"

    say "tcp: the same into rsyslog"
    start_rsyslog "$run_dir/rs-tcp-$conns"
    cpu0=$(cpu_ticks "$rs_pid")
    tcp_load rsyslog "$file" "$ingest_messages" "$conns" "rs-tcp-$conns"
    rs_ns=$load_ns
    rs_cpu=$(us_per $(($(cpu_ticks "$rs_pid") - cpu0)) "$ingest_messages")
    rs_rss=$(hwm_kib "$rs_pid")
    stop_rsyslog
    rm -rf "$run_dir/rs-tcp-$conns"
    rows+=("$conns $nl_ns $nl_cpu $nl_rss $rs_ns $rs_cpu $rs_rss $nl_indexed $nl_pauses")
  done
  {
    echo
    echo "Sustained TCP ingest: $(group "$ingest_messages") RFC 5424 messages (octet-counted, mean $(($(stat -c %s "$file") / ingest_messages)) B a frame), first byte sent -> all committed"
    printf '%-6s │ %13s %8s %7s %8s │ %13s %8s %7s %8s │ %7s │ %11s %11s\n' conns "NotiLog msg/s" seconds "CPU us" "RSS MiB" \
      "rsyslog msg/s" seconds "CPU us" "RSS MiB" "NL/rsys" "NL indexed" "NL pauses"
    echo "───────┼──────────────────────────────────────────┼──────────────────────────────────────────┼─────────┼────────────────────────"
    for row in "${rows[@]}"; do
      read -r conns nl_ns nl_cpu nl_rss rs_ns rs_cpu rs_rss nl_indexed nl_pauses <<<"$row"
      nl_rate=$(rate "$ingest_messages" "$nl_ns")
      rs_rate=$(rate "$ingest_messages" "$rs_ns")
      printf '%-6s │ %13s %8.2f %7s %8s │ %13s %8.2f %7s %8s │ %7.3f │ %11s %11s\n' "$conns" "$(group "$nl_rate")" \
        "$(awk -v n="$nl_ns" 'BEGIN { print n / 1e9 }')" "$nl_cpu" "$(mib "$nl_rss")" "$(group "$rs_rate")" \
        "$(awk -v n="$rs_ns" 'BEGIN { print n / 1e9 }')" "$rs_cpu" "$(mib "$rs_rss")" \
        "$(awk -v a="$nl_rate" -v b="$rs_rate" 'BEGIN { print a / b }')" "$(group "$nl_indexed")" "$(group "$nl_pauses")"
    done
    echo "NotiLog: committed = notilog_ingest_committed_records_total (GET /metrics, polled every 50 ms) — stored and"
    echo "searchable; rsyslog: lines in its output file (imtcp -> omfile). CPU us: the server's user+system CPU time"
    echo "during the load, per message. RSS MiB: peak (VmHWM) of the server process. NL indexed: records in the full-text"
    echo "index when the last was committed (the rest are searched by scanning); NL pauses: times a connection stopped"
    echo "reading for a full ingest queue (notilog_listener_back_pressure_pauses_total). top -H snapshots 5 s into each"
    echo "NotiLog run: $work/top-tcp-*.txt"
    echo "Targets: >= 150,000 msg/s committed; peak RSS < 256 MiB."
  } | report
fi

# MARK: 2. UDP loss at a paced rate
udp_errors() {  # prints the kernel's Udp RcvbufErrors (datagrams dropped for a full socket buffer, all sockets)
  awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RcvbufErrors"] }' /proc/net/snmp
}
if wants udp; then
  max_rate=0
  for r in $udp_rates; do [ "$r" -gt "$max_rate" ] && max_rate=$r; done
  udp_needed=$((max_rate * udp_seconds))
  # The TCP runs' file when it is long enough (the sender reads only what it needs).
  file=$(messages_file "$((udp_needed > ingest_messages ? udp_needed : ingest_messages))")
  rows=()
  for r in $udp_rates; do
    say "udp: $(group "$r") datagrams/s for ${udp_seconds}s into notilog-server"
    start_bench_server "$run_dir/nl-udp-$r"
    e0=$(udp_errors)
    "$sender" udp 127.0.0.1 "${nl_udp#*:}" "$file" "$r" "$udp_seconds" >"$run_dir/nl-udp-$r.send"
    sent=$(kv sent "$run_dir/nl-udp-$r.send")
    wait_committed "$sent" 2 "$run_dir/nl-udp-$r.wait" || true
    nl_got=$(kv value "$run_dir/nl-udp-$r.wait")
    nl_kernel=$(($(udp_errors) - e0))
    nl_counted=$(api /api/v1/status | json 'j["ingest"]["dropped"]' || echo "?")
    nl_sent=$sent
    stop_notilog
    rm -rf "$run_dir/nl-udp-$r"

    say "udp: the same into rsyslog"
    start_rsyslog "$run_dir/rs-udp-$r"
    e0=$(udp_errors)
    "$sender" udp 127.0.0.1 "$rs_port" "$file" "$r" "$udp_seconds" >"$run_dir/rs-udp-$r.send"
    sent=$(kv sent "$run_dir/rs-udp-$r.send")
    "$sender" wait-lines "$rs_out" "$sent" "$timeout" 2 >"$run_dir/rs-udp-$r.wait" || true
    rs_got=$(kv value "$run_dir/rs-udp-$r.wait")
    rs_kernel=$(($(udp_errors) - e0))
    stop_rsyslog
    rm -rf "$run_dir/rs-udp-$r"
    rows+=("$r $nl_sent $nl_got $nl_counted $nl_kernel $sent $rs_got $rs_kernel")
  done
  {
    echo
    echo "UDP: paced datagrams (sendmmsg, 1 ms ticks) for ${udp_seconds} s; loss = 1 - committed/sent (NotiLog), 1 - lines/sent (rsyslog)"
    printf '%-10s │ %10s %10s %8s %9s %9s │ %10s %10s %8s %9s\n' "offered/s" sent committed loss "counted" "kernel" sent lines loss kernel
    echo "           │ NotiLog                                             │ rsyslog"
    echo "───────────┼─────────────────────────────────────────────────────┼───────────────────────────────────────────"
    for row in "${rows[@]}"; do
      read -r r nl_sent nl_got nl_counted nl_kernel rs_sent rs_got rs_kernel <<<"$row"
      printf '%-10s │ %10s %10s %7.3f%% %9s %9s │ %10s %10s %7.3f%% %9s\n' "$(group "$r")" "$(group "$nl_sent")" "$(group "$nl_got")" \
        "$(awk -v g="$nl_got" -v s="$nl_sent" 'BEGIN { print 100 * (1 - g / s) }')" "$nl_counted" "$nl_kernel" \
        "$(group "$rs_sent")" "$(group "$rs_got")" "$(awk -v g="$rs_got" -v s="$rs_sent" 'BEGIN { print 100 * (1 - g / s) }')" "$rs_kernel"
    done
    echo "counted: drops NotiLog reports itself (ingest.dropped of GET /api/v1/status: the queue was full); kernel: the"
    echo "rise of Udp RcvbufErrors in /proc/net/snmp during the run (datagrams dropped for a full socket buffer before"
    echo "the server read them; machine-wide). Target: loss < 0.1 % at 50,000/s."
  } | report
fi

# MARK: 3. search over stored messages
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
middle_fifth() {  # FIRST LAST (RFC 3339 received times) SUFFIX: prints "SINCE UNTIL", 40 % and 60 % of the way
  python3 - "$1" "$2" "$3" <<'PY'
import sys
from datetime import datetime, timedelta, timezone
first, last = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in sys.argv[1:3])
fmt = lambda t: t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + sys.argv[3]
print(fmt(first + (last - first) * 2 / 5), fmt(first + (last - first) * 3 / 5))
PY
}
time_api() {  # QUERY OUT: one first page (limit=100); prints milliseconds; the body goes to OUT
  local out
  out=$(curl -sS -m 120 -o "$2" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $(tr -d ' \t\r\n' <"$nl_token")" \
    --get --data-urlencode "q=$1" --data-urlencode limit=100 "http://$nl_http/api/v1/logs")
  [ "${out%% *}" = 200 ] || fail "GET /api/v1/logs?q=$1 answered ${out%% *}: $(head -c 300 "$2")"
  awk -v t="${out#* }" 'BEGIN { printf "%.2f", t * 1000 }'
}
time_queries() {  # TAG: times every query (1 warm-up + runs); sets ms_TAG_i, idx_TAG_i (indexed %) and page_i
  local i k t
  for i in "${!q_labels[@]}"; do
    printf -v "idx_$1_$i" '%s' "$(indexed_state | awk '{ printf "%.0f", $2 ? 100 * $1 / $2 : 0 }')"
    time_api "${q_nl[$i]}" "$run_dir/q.json" >/dev/null
    printf -v "page_$i" '%s' "$(json 'len(j["records"])' <"$run_dir/q.json")"
    for ((k = 0; k < search_runs; k++)); do time_api "${q_nl[$i]}" "$run_dir/q.json"; echo; done >"$run_dir/times"
    t=$(median <"$run_dir/times")
    printf -v "ms_$1_$i" '%s' "$t"
  done
}
time_scan() {  # prints the wall milliseconds of "$@" (output to a file: grep stops early into /dev/null)
  local t0 t1
  t0=$(now_ns)
  "$@" >"$run_dir/scan.out"
  t1=$(now_ns)
  awk -v n="$((t1 - t0))" 'BEGIN { printf "%.1f", n / 1e6 }'
}
ui_timing() {  # the search page's first results in headless Chromium (Tests/peers/ui_search_timing.py); sets ui_rows
  local py="$root/.peers/python/bin/python" i
  ui_rows=()
  if ! [ -x "$py" ] || ! [ -x /usr/bin/chromium ]; then
    say "search: no headless Chromium / Playwright (scripts/setup installs them): the search page is not timed"
    return 0
  fi
  local args=()
  for i in "${!q_labels[@]}"; do args+=(--query "${q_nl[$i]}"); done
  "$py" -B "$root/Tests/peers/ui_search_timing.py" --url "http://$nl_http" --syslog-tcp "${nl_tcp##*:}" \
    --password "$(cat "$nl_dir/admin.password")" --screenshots "$run_dir/ui-screenshots" --runs "$search_runs" \
    --label bench "${args[@]}" >"$run_dir/ui-timing.out" 2>&1 || { cat "$run_dir/ui-timing.out" >&2; fail "ui_search_timing.py failed"; }
  mapfile -t ui_rows < <(sed -n 's/^timing //p' "$run_dir/ui-timing.out" |
    python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    f = lambda v: "%.1f" % v if v is not None else "-"
    print("%s %s %s %s" % (f(r["open_ms"]), f(r["submit_ms"]), f(r["api_ms"]), r["rows"]))')
}
indexed_state() { api /api/v1/status | json '"%d %d" % (j["store"]["indexed_up_to"], j["ingest"]["committed"])'; }

if wants search; then
  file=$(messages_file "$search_messages")
  say "search: loading $(group "$search_messages") messages into a fresh notilog-server (4 connections)"
  start_bench_server "$run_dir/nl-search"
  tcp_load notilog "$file" "$search_messages" 4 nl-search
  nl_load_ns=$load_ns
  # The time window: the middle fifth of the received times of the stored records (first_seen/last_seen of hosts).
  read -r nl_since nl_until <<<"$(middle_fifth $(api /api/v1/hosts |
    json '"%s %s" % (min(h["first_seen"] for h in j["hosts"]), max(h["last_seen"] for h in j["hosts"]))') Z)"
  q_labels=("rare word (10 messages)" "common word (~30%)" "host+severity+time")
  q_nl=("zqxvulture" "timeout" "host:web-07 severity:<=err since:$nl_since until:$nl_until")
  read -r idx0 total <<<"$(indexed_state)"
  say "search: committed $(group "$total") in $(awk -v n="$nl_load_ns" 'BEGIN { printf "%.1f", n / 1e9 }') s; index at $idx0; timing with the tail not yet indexed"
  time_queries tail
  read -r idx1 _ <<<"$(indexed_state)"
  t0=$(now_ns)
  while :; do
    read -r idx _ <<<"$(indexed_state)"
    [ "$idx" -ge "$total" ] && break
    [ $(($(now_ns) - t0)) -lt $((timeout * 1000000000)) ] || fail "the full-text index did not catch up in ${timeout}s ($idx of $total)"
    sleep 0.5
  done
  index_total_ns=$(($(now_ns) - load_end_ns))
  say "search: index caught up ($(awk -v n="$index_total_ns" 'BEGIN { printf "%.1f", n / 1e9 }') s after the last commit); timing again"
  time_queries indexed
  say "search: timing the search page in headless Chromium"
  ui_timing
  for i in "${!q_labels[@]}"; do
    printf -v "nl_count_$i" '%s' "$(api /api/v1/stats --get --data-urlencode "q=${q_nl[$i]}" | json 'j["total"]' || echo "?")"
  done
  nl_rss=$(hwm_kib "$nl_pid")
  nl_bytes=$(du -sb "$run_dir/nl-search" | cut -f1)
  stop_notilog
  rm -rf "$run_dir/nl-search"

  say "search: loading the same into rsyslog"
  start_rsyslog "$run_dir/rs-search"
  tcp_load rsyslog "$file" "$search_messages" 4 rs-search
  rs_load_ns=$load_ns
  stop_rsyslog
  read -r rs_since rs_until <<<"$(middle_fifth "$(head -1 "$rs_out" | cut -d' ' -f1)" "$(tail -1 "$rs_out" | cut -d' ' -f1)" +00:00)"
  cat "$rs_out" >/dev/null  # warm the page cache
  for i in "${!q_labels[@]}"; do
    case $i in
      0) cmd=(grep -c -w -F zqxvulture "$rs_out") ;;
      1) cmd=(grep -c -w -F timeout "$rs_out") ;;
      # grep picks host and severity (the fast part), awk compares the received time of the few lines left.
      2) cmd=(bash -c 'grep -E "^[^ ]+ web-07 (emerg|alert|crit|err) " "$3" | awk -v a="$1" -v b="$2" '"'"'$1 >= a && $1 < b { n++ } END { print n + 0 }'"'"'' \
        - "$rs_since" "$rs_until" "$rs_out") ;;
    esac
    time_scan "${cmd[@]}" >/dev/null
    printf -v "rs_count_$i" '%s' "$(cat "$run_dir/scan.out")"
    for ((k = 0; k < search_runs; k++)); do time_scan "${cmd[@]}"; echo; done >"$run_dir/times"
    printf -v "rs_ms_$i" '%s' "$(median <"$run_dir/times")"
  done
  rs_bytes=$(stat -c %s "$rs_out")
  rm -rf "$run_dir/rs-search"

  {
    echo
    echo "Search over $(group "$search_messages") stored messages: NotiLog GET /api/v1/logs first page (limit=100, curl time_total),"
    echo "rsyslog's file scanned by grep -c / awk (warm cache); median of $search_runs runs after one warm-up"
    printf '%-24s │ %10s %9s %13s %5s %10s │ %10s %10s\n' query "NL tail ms" "(indexed)" "NL indexed ms" page matches "scan ms" matches
    echo "─────────────────────────┼──────────────────────────────────────────────────────┼──────────────────────"
    for i in "${!q_labels[@]}"; do
      tail_v="ms_tail_$i" share_v="idx_tail_$i" idx_v="ms_indexed_$i" page_v="page_$i" nc_v="nl_count_$i" rm_v="rs_ms_$i" rc_v="rs_count_$i"
      printf '%-24s │ %10s %9s %13s %5s %10s │ %10s %10s\n' "${q_labels[$i]}" "${!tail_v}" "(${!share_v} %)" "${!idx_v}" "${!page_v}" \
        "$(group "${!nc_v}")" "${!rm_v}" "$(group "${!rc_v}")"
    done
    echo "queries: NotiLog q=  ${q_nl[0]}  |  ${q_nl[1]}  |  ${q_nl[2]}"
    echo "         rsyslog     grep -c -w -F zqxvulture  |  grep -c -w -F timeout  |  grep -E '^[^ ]+ web-07 (emerg|alert|crit|err) ' | awk (time in [$rs_since, $rs_until))"
    echo "time windows: the middle fifth (40-60 %) of each server's span of received times; matches: NotiLog via"
    echo "GET /api/v1/stats total, rsyslog the scan's count."
    echo "NL tail: timed right after the last commit while the background indexer ran (index at $(group "$idx0") -> $(group "$idx1")"
    echo "of $(group "$total") records during those runs; (indexed): the share indexed when that query's runs began, the rest"
    echo "is scanned); NL indexed: after the index caught up, $(awk -v n="$index_total_ns" 'BEGIN { printf "%.1f", n / 1e9 }') s after the last commit."
    echo "Load: NotiLog $(group "$(rate "$search_messages" "$nl_load_ns")") msg/s committed (4 connections), data dir $(mib $((nl_bytes / 1024))) MiB, peak RSS $(mib "$nl_rss") MiB;"
    echo "      rsyslog $(group "$(rate "$search_messages" "$rs_load_ns")") msg/s, file $(mib $((rs_bytes / 1024))) MiB. Target: < 50 ms per query."
    if [ ${#ui_rows[@]} -gt 0 ]; then
      echo
      echo "The search page over the same $(group "$search_messages") records (indexed), headless Chromium, median of $search_runs runs:"
      echo "open = a link to /search?q=…&range=7d opened until the first results are painted; submit = the query typed"
      echo "and Enter pressed until painted; api = the browser's timing of GET /api/v1/logs. Target: first results < 300 ms."
      printf '%-24s │ %9s %9s %9s %5s\n' query "open ms" "submit ms" "api ms" rows
      echo "─────────────────────────┼────────────────────────────────────────"
      for i in "${!q_labels[@]}"; do
        read -r o s a r <<<"${ui_rows[$i]:-- - - 0}"
        printf '%-24s │ %9s %9s %9s %5s\n' "${q_labels[$i]}" "$o" "$s" "$a" "$r"
      done
    fi
  } | report
fi

# MARK: 4. the rule engine's cost on ingest
# The same TCP load over one connection into a server without rules and into one with BENCH_RULES (200) rules,
# alternated for BENCH_RULES_ROUNDS rounds: on a shared machine the speed drifts by more than the difference
# measured, so each round is a pair run minutes apart at most, and the median of the rounds is the figure.
if wants rules; then
  file=$(messages_file "$ingest_messages")
  n_rules=${BENCH_RULES:-0}
  [ "$n_rules" -gt 0 ] || n_rules=200
  rounds=${BENCH_RULES_ROUNDS:-3}
  rows=()
  costs=()
  for ((round = 1; round <= rounds; round++)); do
    row="$round"
    for n in 0 "$n_rules"; do
      say "rules: round $round of $rounds, $n rules, $(group "$ingest_messages") messages over 1 connection"
      BENCH_RULES=$n start_bench_server "$run_dir/nl-rules-$n"
      cpu0=$(cpu_ticks "$nl_pid")
      tcp_load notilog "$file" "$ingest_messages" 1 "nl-rules-$round-$n"
      row="$row $(rate "$ingest_messages" "$load_ns") $(us_per $(($(cpu_ticks "$nl_pid") - cpu0)) "$ingest_messages") $(hwm_kib "$nl_pid")"
      stop_notilog
      rm -rf "$run_dir/nl-rules-$n" "$run_dir/nl-rules-$n.config.yaml"
    done
    read -r _ base_rate _ _ with_rate _ _ <<<"$row"
    cost=$(awk -v a="$base_rate" -v b="$with_rate" 'BEGIN { printf "%.1f", (a - b) / a * 100 }')
    rows+=("$row $cost")
    costs+=("$cost")
  done
  median_cost=$(printf '%s\n' "${costs[@]}" | median)
  {
    echo
    echo "Alert rules on ingest: $(group "$ingest_messages") messages over 1 TCP connection, without rules and with $n_rules"
    echo "(a quarter each of match, threshold, absence and new_value over the stream's apps and words), alternated"
    printf '%-6s │ %13s %7s %8s │ %19s %7s %8s │ %7s\n' round "0 rules msg/s" "CPU us" "RSS MiB" "$n_rules rules msg/s" "CPU us" "RSS MiB" cost
    echo "───────┼────────────────────────────────┼──────────────────────────────────────┼────────"
    for row in "${rows[@]}"; do
      read -r round base_rate base_cpu base_rss with_rate with_cpu with_rss cost <<<"$row"
      printf '%-6s │ %13s %7s %8s │ %19s %7s %8s │ %6s%%\n' "$round" "$(group "$base_rate")" "$base_cpu" "$(mib "$base_rss")" \
        "$(group "$with_rate")" "$with_cpu" "$(mib "$with_rss")" "$cost"
    done
    echo "cost: how much lower the throughput with rules is than without, in the same round; median of the rounds: $median_cost %"
    echo "Target: $n_rules rules cost < 20 % of throughput: $(awk -v c="$median_cost" 'BEGIN { print (c < 20 ? "met" : "MISSED") }')"
  } | report
fi

echo >&2
say "figures also in $results; load at the end $(load_line)"
