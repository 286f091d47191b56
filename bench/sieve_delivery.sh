#!/bin/bash
# bench/sieve_delivery.sh [MESSAGES=20000] [SESSIONS=20] [SIZE=2048] [RUNS=3]
#
# Local delivery with and without Sieve (issue 18), in one run, same machine, same client:
#   smtp-source -s SESSIONS -m MESSAGES -l SIZE -f sender@remote.test -t user1@example.test 127.0.0.1:PORT
# "plain": user1 has no script. "sieve": user1's active script has 100 realistic rules
# (header, address, envelope and size tests; fileinto, flags, stop) none of which matches
# smtp-source's messages, so every rule is evaluated and each message is kept in INBOX
# (the worst case for evaluation; what is counted is INBOX's new/). Inbound checks and the
# gateway are off in both (VERIFY/FILTER of smtp_vs_postfix.sh measure those).
# deliver = smtp-source start -> MESSAGES files in new/. Prints msg/s of both, the ratio
# (the issue asks >= 0.90) and the median `sieve_run` time (us per message).
# Needs: Debian postfix (smtp-source), a release build (MAILWARD_BIN, default
# ${CARGO_TARGET_DIR:-target}/release/mailward; built if missing). SETTLE seconds (default
# 65) between servers: see smtp_vs_postfix.sh on ext4's recently-deleted inode scan.
set -euo pipefail
n=${1:-20000}; sessions=${2:-20}; size=${3:-2048}; runs=${4:-${RUNS:-3}}
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${MAILWARD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/mailward}
port=${MW_PORT:-25280}
work=${WORK:-/tmp/mailward-sieve-bench}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix" >&2; exit 2; }
if [[ ! -x $bin ]]; then (cd "$repo" && cargo build --release -p mailward); fi
case $(realpath -m "$work") in /|/tmp|/etc*|/usr*|/var|/root|/home) echo "refusing WORK=$work" >&2; exit 2;; esac
rm -rf "$work"; mkdir -p "$work"
settle=${SETTLE:-65}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { awk -v a="$1" -v b="$2" -v n="$n" 'BEGIN {printf "%.1f", n/(b-a)}'; }
count_new() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
wait_files() { # DIR COUNT
    local deadline=$(( $(date +%s) + 600 ))
    while :; do
        local c; c=$(count_new "$1")
        [[ $c -ge $2 ]] && return 0
        [[ $(date +%s) -gt $deadline ]] && { echo "only $c of $2 delivered after 600 s" >&2; return 1; }
        sleep 0.1
    done
}
src=(smtp-source -s "$sessions" -m "$n" -l "$size" -f sender@remote.test -t user1@example.test)

# 100 rules of the kinds users write: lists by List-Id, senders by address, subjects,
# sizes, envelope senders; with fileinto, flags and stop.
script() {
    echo 'require ["fileinto", "imap4flags", "envelope", "mailbox", "regex"];'
    for i in $(seq 1 25); do
        echo "if header :contains \"list-id\" \"project$i.lists.example.org\" { fileinto :create \"Lists/project$i\"; stop; }"
    done
    for i in $(seq 1 25); do
        echo "if address :is :domain \"from\" \"partner$i.example.net\" { addflag \"\\\\Flagged\"; fileinto :create \"Partners/p$i\"; stop; }"
    done
    for i in $(seq 1 20); do
        echo "if header :matches \"subject\" \"*[ticket-$i*]*\" { fileinto :create \"Tickets\"; stop; }"
    done
    for i in $(seq 1 15); do
        echo "if envelope :is \"from\" \"robot$i@alerts.example.com\" { fileinto :create \"Alerts\"; stop; }"
    done
    for i in $(seq 1 10); do
        echo "if allof (size :over $((i * 5))M, header :contains \"x-mailer\" \"bulk$i\") { fileinto :create \"Large\"; stop; }"
    done
    for i in $(seq 1 5); do
        echo "if header :regex \"subject\" \"^\\\\[newsletter-$i\\\\]\" { fileinto :create \"News\"; stop; }"
    done
}

run_one() { # MODE RUN
    local mode=$1 r=$2 d=$work/$1-$2
    mkdir -p "$d"
    cat > "$d/mailward.toml" <<TOML
[server]
hostname = "bench.example.test"
data_dir = "$d/data"
[listen]
smtp = ["127.0.0.1:$port"]
[[domains]]
name = "example.test"
[limits]
connections_per_ip = 1000
[verify]
inbound = false
[filter]
enabled = false
[logging]
file = "$d/mailward.log"
TOML
    "$bin" account add user1@example.test --password-stdin --config "$d/mailward.toml" <<< "bench-pass" >/dev/null
    if [[ $mode == sieve ]]; then
        local sd=$d/data/sieve/example.test/user1
        mkdir -p "$sd"; script > "$sd/bench.sieve"; echo bench > "$sd/active"
        "$bin" sieve check "$sd/bench.sieve" >&2 || { echo "the bench script does not compile" >&2; exit 1; }
    fi
    "$bin" serve --config "$d/mailward.toml" 2>/dev/null & local mw=$!
    for _ in $(seq 100); do grep -q '"listening"' "$d/mailward.log" 2>/dev/null && break; sleep 0.1; done
    sync; sleep "$settle"
    local t0 t2; t0=$(now); "${src[@]}" "127.0.0.1:$port"
    wait_files "$d/data/mail/example.test/user1/Maildir/new" "$n"; t2=$(now)
    kill "$mw"; wait "$mw" 2>/dev/null || true
    if [[ $mode == sieve ]]; then
        local runs_logged; runs_logged=$(grep -c '"event":"sieve_run"' "$d/mailward.log" || true)
        [[ $runs_logged -ge $n ]] || echo "sieve run $r: $runs_logged sieve_run events, expected $n" >&2
        grep -q '"event":"sieve_error"' "$d/mailward.log" && echo "sieve run $r: the script failed (see $d/mailward.log)" >&2
        grep -o '"event":"sieve_run".*"us":[0-9]*' "$d/mailward.log" | sed 's/.*"us"://' | median > "$d/sieve_us.txt"
    fi
    rate "$t0" "$t2"
    rm -rf "$d/data/mail"
}

echo "# $(date -u +%FT%TZ) nproc=$(nproc) runs=$runs settle=${settle}s rules=100"
echo "# cmd: ${src[*]} 127.0.0.1:$port"
printf "run\tplain_deliver\tsieve_deliver\n"
: > "$work/runs.tsv"
for r in $(seq "$runs"); do
    plain=$(run_one plain "$r"); sieve=$(run_one sieve "$r")
    printf "%d\t%s\t%s\n" "$r" "$plain" "$sieve" | tee -a "$work/runs.tsv"
done
plain=$(cut -f2 "$work/runs.tsv" | median); sieve=$(cut -f3 "$work/runs.tsv" | median)
printf "%-8s %15s\n" "" "deliver msg/s"
printf "%-8s %15s\n" plain "$plain"
printf "%-8s %15s\n" sieve "$sieve"
awk -v a="$sieve" -v b="$plain" 'BEGIN {printf "ratio sieve/plain: %.2f (target >= 0.90)\n", a/b}'
echo "sieve evaluation: median $(cat "$work"/sieve-*/sieve_us.txt | median) us per message (sieve_run, medians of the runs)"
