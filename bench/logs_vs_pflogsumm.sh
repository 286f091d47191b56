#!/bin/bash
# bench/logs_vs_pflogsumm.sh [LINES=3000000] [RUNS=3]
#
# `mailward logs summary` against pflogsumm (Debian package) on the same generated Postfix
# log, in one run: lines/s for both, the ratio, and mailward pinned to one core (taskset -c 0,
# where it parses on one thread).
# The log comes from the mailward-logs example `gen_postfix_log` (a realistic inbound-MX mix
# with content-filter re-injection, deferrals, bounces, rejects and SASL noise).
#
# Needs: a release build (done here), pflogsumm, /usr/bin/time (Debian `time`), taskset.
# Not part of the test suite.
set -euo pipefail
lines=${1:-3000000}; runs=${2:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target-logs}
command -v pflogsumm >/dev/null || { echo "install pflogsumm (apt-get install pflogsumm)" >&2; exit 1; }

(cd "$repo" && cargo build -q --release -p mailward && cargo build -q --release -p mailward-logs --example gen_postfix_log)
mw_bin=$CARGO_TARGET_DIR/release/mailward
gen=$CARGO_TARGET_DIR/release/examples/gen_postfix_log

work=$(mktemp -d /tmp/logs-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/mail.log
"$gen" "$lines" > "$log"
n=$(wc -l < "$log"); bytes=$(stat -c %s "$log")
echo "# $(date -u +%FT%TZ) nproc=$(nproc) log: $n lines, $bytes bytes"
# Every run of either tool starts from a warm page cache: this VM's memory reclaim (DAMON)
# pages a file out within seconds of its last read, so without it the run after a 10-second
# pflogsumm run would time the disk, not the parser.
warm() { cat "$log" > /dev/null; }
warm

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Prints "lines/s-by-wall-clock lines/s-by-cpu-time (user+sys)" for one run of a command.
rate() {
    local t; t=$(mktemp)
    warm
    /usr/bin/time -f '%e %U %S' -o "$t" "$@" > /dev/null
    awk -v l="$n" '{w=$1; c=$2+$3; if (c <= 0) c = 0.001; printf "%.0f %.0f\n", l/w, l/c}' "$t"; rm -f "$t"
}

declare -a mw mwc mw1 mw1c pf pfc
for r in $(seq "$runs"); do
    read -r a b < <(rate "$mw_bin" logs summary --no-progress "$log"); mw+=("$a"); mwc+=("$b")
    read -r a b < <(rate taskset -c 0 "$mw_bin" logs summary --no-progress "$log"); mw1+=("$a"); mw1c+=("$b")
    read -r a b < <(rate pflogsumm "$log"); pf+=("$a"); pfc+=("$b")
    echo "run $r (lines/s wall | cpu): mailward ${mw[-1]} | ${mwc[-1]}   mailward taskset -c 0 ${mw1[-1]} | ${mw1c[-1]}   pflogsumm ${pf[-1]} | ${pfc[-1]}"
done
med() { printf '%s\n' "$@" | median; }
m=$(med "${mw[@]}"); mc=$(med "${mwc[@]}"); m1=$(med "${mw1[@]}"); m1c=$(med "${mw1c[@]}"); p=$(med "${pf[@]}"); pc=$(med "${pfc[@]}")
echo "median lines/s by wall clock: mailward $m, mailward (taskset -c 0) $m1, pflogsumm $p"
echo "median lines/s by CPU time:   mailward $mc, mailward (taskset -c 0) $m1c, pflogsumm $pc"
awk -v m="$m" -v p="$p" -v mc="$mc" -v pc="$pc" 'BEGIN {printf "ratio mailward/pflogsumm: %.1fx by wall clock, %.1fx by CPU time\n", m/p, mc/pc}'
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
# Parsing on several threads must not change the result.
if cmp -s <("$mw_bin" logs summary --json --no-progress "$log") \
          <("$mw_bin" logs summary --json --no-progress --threads 1 "$log"); then
    echo "summary with all cores = summary with --threads 1: yes"
else
    echo "summary with all cores = summary with --threads 1: NO (a bug)"
fi
# The counts both tools report, side by side (pflogsumm counts re-injected copies again).
echo "--- mailward"; "$mw_bin" logs summary --no-progress "$log" | sed -n '3,12p'
echo "--- pflogsumm"; pflogsumm "$log" | sed -n '/Grand Totals/,/rejected/p' | head -12
