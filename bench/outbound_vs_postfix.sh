#!/bin/bash
# bench/outbound_vs_postfix.sh [MESSAGES=20000] [SESSIONS=20] [SIZE=2048] [RUNS=1]
#
# Outbound relaying, mailward and Postfix in one run (issue 15): smtp-source sends
# MESSAGES messages for user@remote.test into the relay, which hands them to Postfix's
# smtp-sink (the destination: `[[route]]` in mailward, `relayhost` in Postfix). Same
# durability on both: the queue file is fsynced before 250. Both keep connections to the
# destination open for the next message (mailward's pool, Postfix's connection cache).
#   accept = smtp-source start -> exit (every DATA answered 250)
#   relay  = smtp-source start -> the relay's log reports MESSAGES sent to the sink
# Then, mailward only: RSS with 100,000 (QUEUED) messages queued for an unreachable
# destination, the time `queue list` takes to read them all, and the time until all are
# attempted again after `queue flush`.
# Needs: Debian postfix (smtp-source, smtp-sink), ../shared/peers/postfix_maildir.sh, root,
# a release build (MAILWARD_BIN, default ${CARGO_TARGET_DIR:-target}/release/mailward).
set -euo pipefail
n=${1:-20000}; sessions=${2:-20}; size=${3:-2048}; runs=${4:-${RUNS:-1}}
queued=${QUEUED:-100000}
repo=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS:-$repo/../shared/peers}
bin=${MAILWARD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/mailward}
mw_port=${MW_PORT:-25350}; pf_port=${PF_PORT:-25360}; sink_port=${SINK_PORT:-25370}
work=${WORK:-/tmp/mailward-outbound-bench}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix" >&2; exit 2; }
[[ -x $peers/postfix_maildir.sh ]] || { echo "missing $peers/postfix_maildir.sh" >&2; exit 2; }
if [[ ! -x $bin ]]; then (cd "$repo" && cargo build --release -p mailward); fi
case $(realpath -m "$work") in /|/tmp|/etc*|/usr*|/var|/root|/home) echo "refusing WORK=$work" >&2; exit 2;; esac
rm -rf "$work"; mkdir -p "$work"
now() { date +%s.%N; }
rate() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {printf "%.1f", n/(b-a)}'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
wait_count() { # FILE PATTERN COUNT
    local deadline=$(( $(date +%s) + 900 ))
    while :; do
        local c; c=$(grep -c "$2" "$1" 2>/dev/null || true)
        [[ ${c:-0} -ge $3 ]] && return 0
        [[ $(date +%s) -gt $deadline ]] && { echo "only $c of $3 after 900 s ($1)" >&2; return 1; }
        sleep 0.1
    done
}
mw=; sink=
cleanup() {
    [[ -n $mw ]] && kill "$mw" 2>/dev/null || true
    [[ -n $sink ]] && kill "$sink" 2>/dev/null || true
    "$peers/postfix_maildir.sh" stop "$pf_port" >/dev/null 2>&1 || true
}
trap cleanup EXIT
src=(smtp-source -s "$sessions" -m "$n" -l "$size" -f sender@bench.test -t user@remote.test)
echo "# $(date -u +%FT%TZ) nproc=$(nproc) postfix=$(postconf -h mail_version 2>/dev/null) runs=$runs"
echo "# cmd: ${src[*]} 127.0.0.1:PORT -> relay -> smtp-sink 127.0.0.1:$sink_port"
smtp-sink -u nobody "127.0.0.1:$sink_port" 1000 & sink=$!
sleep 1

mw_config() { # DIR ROUTE_PORT
    cat > "$1/mailward.toml" <<TOML
[server]
hostname = "relay.bench.test"
data_dir = "$1/mw-data"
[listen]
smtp = ["127.0.0.1:$mw_port"]
[[domains]]
name = "bench.test"
[limits]
connections_per_ip = 1000
connection_rate_per_minute = 0
[outbound]
connect_timeout = "2s"
[[route]]
domain = "remote.test"
host = "127.0.0.1:$2"
[queue]
max_age = "5d"
[logging]
file = "$1/mailward.log"
TOML
}

printf "run\tload1\tmw_accept\tmw_relay\tpf_accept\tpf_relay\tmw_rss_peak_kb\tmw_cpu_s\n"
for r in $(seq "$runs"); do
    d=$work/run$r; mkdir -p "$d"
    # --- mailward -----------------------------------------------------------------------
    mw_config "$d" "$sink_port"
    "$bin" serve --config "$d/mailward.toml" 2>/dev/null & mw=$!
    for _ in $(seq 100); do grep -q '"listening"' "$d/mailward.log" 2>/dev/null && break; sleep 0.1; done
    sync; sleep 2
    load=$(cut -d' ' -f1 /proc/loadavg); c0=$(cpu_ticks "$mw")
    ( while kill -0 "$mw" 2>/dev/null; do rss_kb "$mw"; sleep 0.2; done ) > "$d/rss.txt" & sampler=$!
    t0=$(now); "${src[@]}" "127.0.0.1:$mw_port"; t1=$(now)
    wait_count "$d/mailward.log" '"event":"delivered"' "$n"; t2=$(now)
    c1=$(cpu_ticks "$mw")
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "$d/rss.txt" | tail -1)
    kill "$mw"; wait "$mw" 2>/dev/null || true; mw=
    mw_a=$(rate "$t0" "$t1" "$n"); mw_r=$(rate "$t0" "$t2" "$n")
    mw_cpu=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t/hz}')
    # --- Postfix ------------------------------------------------------------------------
    "$peers/postfix_maildir.sh" stop "$pf_port" >/dev/null 2>&1 || true
    "$peers/postfix_maildir.sh" start "$pf_port" "$d/pf-maildirs" >/dev/null
    conf=/tmp/pf-bench-$pf_port/conf
    postconf -c "$conf" -e "relayhost = [127.0.0.1]:$sink_port" "default_transport = smtp" \
        "relay_transport = smtp" "smtp_connection_cache_on_demand = yes"
    postfix -c "$conf" reload >/dev/null 2>&1
    sleep 2
    log=/tmp/pf-bench-$pf_port/log/mail.log
    t0=$(now); "${src[@]}" "127.0.0.1:$pf_port"; t1=$(now)
    wait_count "$log" 'status=sent' "$n"; t2=$(now)
    "$peers/postfix_maildir.sh" stop "$pf_port" >/dev/null
    pf_a=$(rate "$t0" "$t1" "$n"); pf_r=$(rate "$t0" "$t2" "$n")
    printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$r" "$load" "$mw_a" "$mw_r" "$pf_a" "$pf_r" "$peak" "$mw_cpu" \
        | tee -a "$work/runs.tsv"
done
awk -F'\t' '{ma+=$3; mr+=$4; pa+=$5; pr+=$6; k++} END {
    printf "mean of %d run(s): relay mailward %.0f msg/s, Postfix %.0f msg/s: %.2fx; accept %.0f vs %.0f: %.2fx\n",
        k, mr/k, pr/k, mr/pr, ma/k, pa/k, ma/pa }' "$work/runs.tsv"

# --- 100,000 messages for an unreachable destination (mailward) ---------------------------
if [[ $queued -gt 0 ]]; then
    d=$work/queued; mkdir -p "$d"
    dead=$((sink_port + 7))   # nothing listens there: connection refused, every message deferred
    mw_config "$d" "$dead"
    "$bin" serve --config "$d/mailward.toml" 2>/dev/null & mw=$!
    for _ in $(seq 100); do grep -q '"listening"' "$d/mailward.log" 2>/dev/null && break; sleep 0.1; done
    t0=$(now)
    smtp-source -s "$sessions" -m "$queued" -l "$size" -f sender@bench.test -t user@remote.test "127.0.0.1:$mw_port"
    t1=$(now)
    wait_count "$d/mailward.log" '"event":"deferred"' "$queued" || true
    sleep 2
    echo "queued $queued for an unreachable destination in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s; RSS $(( $(rss_kb "$mw") / 1024 )) MiB"
    kill "$mw"; wait "$mw" 2>/dev/null || true; mw=
    t0=$(now); c=$("$bin" queue list --json --config "$d/mailward.toml" | wc -l); t1=$(now)
    echo "queue list of $c deferred messages: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
    # Every one due again: the runner's scans (10,000 a scan, one scan per scan_interval)
    # find them and each is attempted again.
    : > "$d/mailward.log"
    "$bin" serve --config "$d/mailward.toml" 2>/dev/null & mw=$!
    for _ in $(seq 100); do grep -q '"listening"' "$d/mailward.log" 2>/dev/null && break; sleep 0.1; done
    sleep 5; : > "$d/mailward.log"
    t0=$(now); "$bin" queue flush --config "$d/mailward.toml" >/dev/null
    wait_count "$d/mailward.log" '"event":"deferred"' "$c" || true; t1=$(now)
    echo "flush: all $c deferred messages scanned and attempted again in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s; RSS $(( $(rss_kb "$mw") / 1024 )) MiB"
    kill "$mw"; wait "$mw" 2>/dev/null || true; mw=
fi
