# Helpers for the collector benchmarks that start a release notilog-server (sourced, not run).
#
# The same conventions as bench/ingest.sh (which still carries its own copies): every process a script starts is
# added to `started` and stopped by its PID on exit or Ctrl-C; everything binds 127.0.0.1; the server is built
# once with `swift build -c release --scratch-path $server_scratch` unless BENCH_SERVER_BIN names one.
#
# Before sourcing, set: root (the package), work (a directory for tools, caches and results), run_dir (this run's
# temporary directory, removed at exit unless BENCH_KEEP=1), server_scratch, timeout (seconds).

swift="${SWIFT:-swift}"

# MARK: processes — every one started is listed, and stopped by PID on exit.
started=()
stop_pid() {  # PID [seconds to wait after SIGTERM]
  local pid=$1 wait_s=${2:-30} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < wait_s * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { { wait "$pid"; } 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "bench: process $pid did not stop within ${wait_s}s of SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  { wait "$pid"; } 2>/dev/null || true
}
bench_cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${started[@]}"; do stop_pid "$pid" 10; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "bench: kept $run_dir"
  else
    rm -rf "$run_dir"
  fi
  exit "$rc"
}
trap bench_cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

say() { echo "bench: $*" >&2; }
fail() { echo "bench: $*" >&2; exit 1; }
now_ns() { date +%s%N; }
group() { awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
kv() { sed -n "s/^$1=//p" "$2" | tail -1; }  # KEY FILE: the value of KEY=value in a tool's output
load_line() { cut -d' ' -f1-3 /proc/loadavg; }
hwm_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }  # PID: peak RSS in KiB
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }  # PID: utime + stime, in clock ticks
machine_line() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(load_line)"; }

# MARK: messages (bench/tools/genmsgs.c, cached in $work)
messages_file() {  # COUNT: prints the path of a cached file of COUNT octet-counted messages, generating it once
  local gen="$work/genmsgs" gen_id f
  [ -x "$gen" ] && [ "$gen" -nt "$root/bench/tools/genmsgs.c" ] || gcc -O2 -Wall -o "$gen" "$root/bench/tools/genmsgs.c"
  gen_id=$(cksum <"$root/bench/tools/genmsgs.c" | cut -d' ' -f1)
  f="$work/msgs-$1-$gen_id.oc"
  if [ ! -s "$f" ]; then
    say "generating $(group "$1") messages ($f)"
    find "$work" -maxdepth 1 -name "msgs-*.oc" ! -name "msgs-*-$gen_id.oc" -delete
    "$gen" "$1" >"$f.tmp"
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}

# MARK: notilog-server
build_server() {  # sets server_bin
  if [ -n "${BENCH_SERVER_BIN:-}" ]; then
    server_bin=$BENCH_SERVER_BIN
    say "using $server_bin (BENCH_SERVER_BIN; not built)"
    return
  fi
  say "building notilog-server (release, scratch $server_scratch)"
  (cd "$root" && "$swift" build -c release --scratch-path "$server_scratch" --product notilog-server) \
    >"$work/server-build.log" 2>&1 || { tail -40 "$work/server-build.log" >&2; fail "the server build failed"; }
  server_bin="$(cd "$root" && "$swift" build -c release --scratch-path "$server_scratch" --show-bin-path)/notilog-server"
}

nl_pid="" nl_tcp="" nl_udp="" nl_http="" nl_token="" nl_dir=""
start_notilog() {  # DATA_DIR [CONFIG_FILE]: starts the server on free loopback ports; sets nl_pid, nl_tcp, nl_http, ...
  nl_dir=$1
  mkdir -p "$nl_dir"
  : >"$nl_dir.log"
  local config=()
  [ -n "${2:-}" ] && config=(--config "$2")
  "$server_bin" "${config[@]}" --data-dir "$nl_dir" --tcp 127.0.0.1:0 --udp 127.0.0.1:0 --http 127.0.0.1:0 \
    >"$nl_dir.log" 2>&1 &
  nl_pid=$!
  started+=("$nl_pid")
  nl_tcp="" nl_udp="" nl_http=""
  local i line
  for ((i = 0; i < 600; i++)); do
    kill -0 "$nl_pid" 2>/dev/null || { tail -20 "$nl_dir.log" >&2; fail "notilog-server exited at start"; }
    while IFS= read -r line; do
      case "$line" in
        *"syslog listener ready"*)
          local address protocol
          address=$(sed -n 's/.*listener\.address=\([0-9.]*:[0-9]*\).*/\1/p' <<<"$line")
          protocol=$(sed -n 's/.*listener\.protocol=\([a-z]*\).*/\1/p' <<<"$line")
          [ "$protocol" = tcp ] && nl_tcp=$address
          [ "$protocol" = udp ] && nl_udp=$address
          ;;
        *"HTTP API ready"*) nl_http=$(sed -n 's/.*http\.address=\([0-9.]*:[0-9]*\).*/\1/p' <<<"$line") ;;
      esac
    done <"$nl_dir.log"
    if [ -n "$nl_tcp" ] && [ -n "$nl_udp" ] && [ -n "$nl_http" ] &&
      curl -sf -m 5 -o /dev/null "http://$nl_http/api/v1/healthz"; then
      break
    fi
    sleep 0.1
  done
  [ -n "$nl_tcp" ] && [ -n "$nl_udp" ] && [ -n "$nl_http" ] || { tail -20 "$nl_dir.log" >&2; fail "notilog-server did not get ready in 60 s"; }
  [ -s "$nl_dir/admin.token" ] || fail "no $nl_dir/admin.token"
  nl_token="$nl_dir/admin.token"
}
stop_notilog() { stop_pid "$nl_pid" 300; }
api() {  # PATH [curl args...]: GET with the admin token
  local path=$1
  shift
  curl -sS -f -m 60 -H "Authorization: Bearer $(tr -d ' \t\r\n' <"$nl_token")" "$@" "http://$nl_http$path"
}
metric() {  # NAME: the sum of a /metrics series (all its labels)
  api /metrics | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { n += $NF } END { printf "%.0f", n + 0 }'
}
