#!/usr/bin/env bash
# Fuzzes the syslog framer and parser with libFuzzer for SECONDS (default 300).
#
#   fuzz/run.sh [SECONDS [LIBFUZZER-FLAG...]]     e.g. fuzz/run.sh 600 -len_control=0
#
# Builds fuzz/ (release, -sanitize=fuzzer,address) into .build-fuzz/ when needed, then runs the target on
# fuzz/corpus/ (kept between runs, git-ignored) seeded from the committed fuzz/seeds/, with fuzz/syslog.dict.
# A crash or a broken invariant is written to fuzz/artifacts/; the script then prints the reproducer and exits 1.
# Replay one input:  fuzz/bin/syslog-fuzzer fuzz/artifacts/crash-...   (add -runs=0 DIR to replay a directory)
# Every crash becomes a fixture in Tests/NotiLogCoreTests/Fixtures/fuzz/ (see FuzzRegressionTests.swift).
set -euo pipefail

seconds="${1:-300}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS [LIBFUZZER-FLAG...]]" >&2; exit 2 ;;
esac
shift $(($# > 0 ? 1 : 0))

root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/fuzz"
scratch="$root/.build-fuzz"
swift="${SWIFT:-swift}"

# --sanitize makes SwiftPM link libFuzzer's main instead of the executable's; swiftc keeps only the last
# -sanitize= it is given, so the combined flag goes last to get coverage *and* ASan in every Swift module.
build_flags=(-c release --package-path "$fuzz" --scratch-path "$scratch" --product SyslogFuzzer
  --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address)

mkdir -p "$fuzz/bin" "$fuzz/corpus" "$fuzz/artifacts"
build_log="$fuzz/artifacts/build.log"
echo "fuzz: building the fuzz target (a first build takes a few minutes)"
if ! "$swift" build "${build_flags[@]}" >"$build_log" 2>&1; then
  grep -v "Cannot export local symbol" "$build_log" | tail -40 >&2
  echo "fuzz: build failed (full log: fuzz/artifacts/build.log)" >&2
  exit 1
fi
tail -1 "$build_log"
bin_dir="$("$swift" build "${build_flags[@]}" --show-bin-path)"
cp "$bin_dir/SyslogFuzzer" "$fuzz/bin/syslog-fuzzer"

marker="$fuzz/artifacts/.run-started"
touch "$marker"
log="$fuzz/artifacts/last-run.log"

echo "fuzz: running for ${seconds}s (corpus fuzz/corpus, seeds fuzz/seeds, log fuzz/artifacts/last-run.log)"
set +e
# The Swift runtime's backtracer would take the crash signal from ASan/libFuzzer; they report better here.
SWIFT_BACKTRACE=enable=no \
  "$fuzz/bin/syslog-fuzzer" \
  -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=2048 \
  -dict="$fuzz/syslog.dict" -artifact_prefix="$fuzz/artifacts/" -print_final_stats=1 "$@" \
  "$fuzz/corpus" "$fuzz/seeds" >"$log" 2>&1
status=$?
set -e

grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)|^#[0-9]+ +DONE" "$log" || true
found=$(find "$fuzz/artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -newer "$marker" | sort)
rm -f "$marker"

if [ "$status" -ne 0 ] || [ -n "$found" ]; then
  echo "fuzz: libFuzzer stopped with status $status; the report:" >&2
  grep -E -A 30 "SyslogFuzzer: invariant broken|ERROR: (AddressSanitizer|libFuzzer)|Fatal error|runtime error" "$log" | head -60 >&2 || tail -40 "$log" >&2
  for f in $found; do
    echo "fuzz: reproducer: ${f#"$root"/} ($(wc -c <"$f") bytes)" >&2
    echo "fuzz:   replay with: fuzz/bin/syslog-fuzzer ${f#"$root"/}" >&2
    echo "fuzz:   hex: $(od -An -tx1 -v "$f" | tr -d ' \n' | cut -c1-400)" >&2
  done
  exit 1
fi
echo "fuzz: no crash in ${seconds}s"
