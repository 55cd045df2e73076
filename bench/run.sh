#!/usr/bin/env bash
# Runs the parser/framer/formatter benchmarks (release build, ordo-one/benchmark) and, from the same run, a
# "just read the bytes" baseline: `grep -c` and `wc -l` over a file of the same messages, one a line.
#
#   bench/run.sh            (what `make bench` runs)
#   BENCH_LINES=N bench/run.sh    lines per baseline file (default 1000000)
#
# What each benchmark measures and the latest figures: bench/README.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bench="$root/bench"
scratch="$bench/.build"
swift="${SWIFT:-swift}"
lines="${BENCH_LINES:-1000000}"
work="$scratch/baseline"
results="$scratch/last-run.txt"

mkdir -p "$work"
echo "bench: building (release; a first build of the benchmark package takes a few minutes)"
"$swift" build -c release --package-path "$bench" --scratch-path "$scratch" >"$scratch/build.log" 2>&1 || {
  tail -40 "$scratch/build.log" >&2
  exit 1
}
bin_dir="$("$swift" build -c release --package-path "$bench" --scratch-path "$scratch" --show-bin-path)"

echo "bench: machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$swift" package --package-path "$bench" --scratch-path "$scratch" benchmark \
  --no-progress --time-units nanoseconds 2>&1 | tee "$results" | sed -n '/^Running Benchmarks/,$p'

# The baseline: the same messages from a file, scanned by grep -c (for a token in every line) and wc -l.
best_of_3() {  # prints the best wall time in microseconds of three runs of "$@"
  local best="" t0 t1 t
  for _ in 1 2 3; do
    t0=$(date +%s%N)
    # Not >/dev/null: GNU grep notices that and stops at the first match.
    "$@" >"$work/out"
    t1=$(date +%s%N)
    t=$(((t1 - t0) / 1000))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  echo "$best"
}
export LC_ALL=C
baseline="$work/baseline.tsv"
: >"$baseline"
index=0
while input=$("$bin_dir/write-bench-inputs" "$work" "$lines" "$index"); do
  IFS=$'\t' read -r _ label token path <<<"$input"
  cat "$path" >/dev/null  # warm the page cache
  grep_us=$(best_of_3 grep -a -c -F -e "$token" "$path")
  wc_us=$(best_of_3 wc -l "$path")
  printf '%s\t%s\t%s\t%s\n' "$label" "$lines" "$grep_us" "$wc_us" >>"$baseline"
  rm -f "$path" "$work/out"
  index=$((index + 1))
done

python3 - "$results" "$baseline" <<'EOF'
import re, sys

text = re.sub(r"\x1b\[[0-9;]*m", "", open(sys.argv[1], encoding="utf-8", errors="replace").read())
baseline = {}
for row in open(sys.argv[2]):
    label, lines, grep_us, wc_us = row.rstrip("\n").split("\t")
    baseline[label] = (int(lines), int(grep_us), int(wc_us))

units = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}
def p50(block, metric):
    m = re.search(r"│ " + re.escape(metric) + r"(?: \(([^)]*)\))?(?: \((\w)\))?[ *]*│\s*[\d.]+\s*│\s*[\d.]+\s*│\s*([\d.]+)", block)
    if not m:
        return None
    scale = units.get(m.group(2) or (m.group(1) if m.group(1) in units else ""), 1)
    return float(m.group(3)) * scale

# Each benchmark is its name on a line followed by its table.
blocks = re.split(r"\n(?=\S[^\n]*\n╒)", text)
order = ["parse [ok]", "parse [bad]", "framer octet", "framer +", "format"]
rows = []
for block in sorted(blocks, key=lambda b: next((i for i, p in enumerate(order) if b.strip().startswith(p)), len(order))):
    name = block.strip().split("\n")[0]
    if "╒" not in block or name.startswith("="):
        continue
    throughput = p50(block, "Throughput (# / s)")
    ns = p50(block, "Time (wall clock) (ns)")
    mallocs = p50(block, "Malloc (total)")
    rows.append((name, throughput, ns, mallocs))

def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"

print()
print("Summary (p50 of the run above; one core; scaled per message/frame):")
header = f"{'benchmark':58} {'msg/s':>12} {'ns/msg':>8} {'mallocs/msg':>11} │ {'grep -c lines/s':>15} {'wc -l lines/s':>14}"
print(header)
print("─" * len(header))
for name, throughput, ns, mallocs in rows:
    label = re.sub(r"^parse |\s*\(\d+ B\)$", "", name)
    grep_rate = wc_rate = None
    if label in baseline:
        lines, grep_us, wc_us = baseline[label]
        grep_rate, wc_rate = lines / (grep_us / 1e6), lines / (wc_us / 1e6)
    print(f"{name[:58]:58} {fmt(throughput):>12} {fmt(ns):>8} {fmt(mallocs, 1):>11} │ {fmt(grep_rate):>15} {fmt(wc_rate):>14}")
print()
print("grep -c / wc -l: the same messages, one a line, read from a warm file (best of 3) — a 'just read the")
print("bytes' baseline, not a parser. Target (issue): >= 1,000,000 msg/s per core for the [ok] lines, a few mallocs each.")
EOF
