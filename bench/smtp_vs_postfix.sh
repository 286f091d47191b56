#!/bin/bash
# bench/smtp_vs_postfix.sh [MESSAGES=20000] [SESSIONS=20] [SIZE=2048] [RUNS=3]
#
# mailward and Postfix in one run, same machine, same client, same durability: both fsync
# the queue file before answering 250 to DATA, and fsync the Maildir file before renaming
# it into new/ (mailward also fsyncs the directories; Postfix does not). The client:
#   smtp-source -s SESSIONS -m MESSAGES -l SIZE -f sender@remote.test -t user1@example.test 127.0.0.1:PORT
# (smtp-source opens a new connection per message). Each run starts both servers empty,
# mailward first, then Postfix; RUNS runs, then medians.
# accept  = smtp-source start -> exit (every DATA answered 250)
# deliver = smtp-source start -> MESSAGES files in the Maildir's new/ (polled every 0.1 s
#           after smtp-source exits, as ../shared/peers/postfix_bench.sh does; only new/,
#           so files still in tmp/ are not counted)
# Checks that each server's log reports MESSAGES deliveries. Prints msgs/s for both, the
# ratios, mailward's RSS idle and peak under load, its CPU time, and the load average.
# Inbound authentication is on in mailward (VERIFY=1, the default): a private dnsmasq
# (Debian dnsmasq-base) answers for remote.test (SPF `v=spf1 ip4:127.0.0.1 -all`, DMARC
# `p=reject`), so every message gets its SPF and DMARC checks and `Authentication-Results:`,
# and the median time the checks took (the `mail_auth` event's `us`) is printed. Postfix
# runs without milters (no checks). VERIFY=0 turns mailward's checks off. The dnsmasq is
# authoritative for .test (TTL 300 s, an SOA with every NXDOMAIN), as real zones are, so the
# resolver caches answers and non-answers as it would in production; a plain `--local`
# dnsmasq answers with TTL 0 and no SOA, and every message would ask again.
# The security gateway (`[filter]`, issue 17) is on in mailward with its defaults (FILTER=1,
# the default: attachments, disarm, spam rules; no clamd), and the median time it took per
# message (the `filter_verdict` event's `us`) is printed; FILTER=0 turns it off.
# Between the two servers, and between runs, the bench waits SETTLE seconds (default 65)
# after a sync: ext4 without a journal (this machine's root filesystem) will not reuse an
# inode freed in the last 60 s when it allocates one, and scans past every such inode on each
# file it creates. Measured right after the other server's 20,000 deletions (Postfix removes
# its queue files, the bench removes each run's Maildirs), a server spends about a third of its
# CPU in that scan (perf: `recently_deleted`). SETTLE=0 restores the old back-to-back runs.
# Needs: Debian postfix (smtp-source), ../shared/peers/postfix_maildir.sh, a release build
# (MAILWARD_BIN, default ${CARGO_TARGET_DIR:-target}/release/mailward; built if missing).
set -euo pipefail
n=${1:-20000}; sessions=${2:-20}; size=${3:-2048}; runs=${4:-${RUNS:-3}}
repo=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS:-$repo/../shared/peers}
bin=${MAILWARD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/mailward}
mw_port=${MW_PORT:-25250}; pf_port=${PF_PORT:-25260}
work=${WORK:-/tmp/mailward-bench}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix" >&2; exit 2; }
[[ -x $peers/postfix_maildir.sh ]] || { echo "missing $peers/postfix_maildir.sh" >&2; exit 2; }
if [[ ! -x $bin ]]; then (cd "$repo" && cargo build --release -p mailward); fi
case $(realpath -m "$work") in /|/tmp|/etc*|/usr*|/var|/root|/home) echo "refusing WORK=$work" >&2; exit 2;; esac
rm -rf "$work"; mkdir -p "$work"
now() { date +%s.%N; }
settle=${SETTLE:-65}
settle() { sync; sleep "$settle"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
src=(smtp-source -s "$sessions" -m "$n" -l "$size" -f sender@remote.test -t user1@example.test)
count_new() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
wait_files() { # NEW_DIR COUNT
    local deadline=$(( $(date +%s) + 600 ))
    while :; do
        local c; c=$(count_new "$1")
        [[ $c -ge $2 ]] && return 0
        [[ $(date +%s) -gt $deadline ]] && { echo "only $c of $2 delivered after 600 s" >&2; return 1; }
        sleep 0.1
    done
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rate() { awk -v a="$1" -v b="$2" -v n="$n" 'BEGIN {printf "%.1f", n/(b-a)}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
verify=${VERIFY:-1}; dns=; dns_port=${DNS_PORT:-25270}; filter=${FILTER:-1}
if [[ $verify == 1 ]]; then
    dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
    [[ -x $dnsmasq ]] || { echo "dnsmasq missing: apt-get install dnsmasq-base (or VERIFY=0)" >&2; exit 2; }
    "$dnsmasq" --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
        --bind-interfaces --listen-address=127.0.0.1 --port="$dns_port" \
        --auth-server=ns.test,127.0.0.1 --auth-zone=test --auth-ttl=300 \
        --auth-soa=1,hostmaster.test,1200,120,604800 \
        --host-record=remote.test,192.0.2.1 \
        "--txt-record=remote.test,v=spf1 ip4:127.0.0.1 -all" \
        "--txt-record=_dmarc.remote.test,v=DMARC1; p=reject" 2>/dev/null & dns=$!
    sleep 0.5
fi
mw=; cleanup() {
    [[ -n $dns ]] && kill "$dns" 2>/dev/null || true
    [[ -n $mw ]] && kill "$mw" 2>/dev/null || true
    "$peers/postfix_maildir.sh" stop "$pf_port" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) nproc=$(nproc) postfix=$(postconf -h mail_version 2>/dev/null) runs=$runs verify=$verify filter=$filter settle=${settle}s"
echo "# cmd: ${src[*]} 127.0.0.1:PORT"
printf "run\tload1\tmw_accept\tmw_deliver\tpf_accept\tpf_deliver\tmw_rss_idle_kb\tmw_rss_peak_kb\tmw_cpu_s\n"
: > "$work/runs.tsv"
for r in $(seq "$runs"); do
    # --- mailward -----------------------------------------------------------------------
    d=$work/run$r; rm -rf "$d"; mkdir -p "$d"
    cat > "$d/mailward.toml" <<TOML
[server]
hostname = "bench.example.test"
data_dir = "$d/mw-data"
[listen]
smtp = ["127.0.0.1:$mw_port"]
[[domains]]
name = "example.test"
[limits]
connections_per_ip = 1000
[logging]
file = "$d/mailward.log"
TOML
    if [[ $verify == 1 ]]; then
        printf '[dns]\nresolver = "127.0.0.1:%s"\n' "$dns_port" >> "$d/mailward.toml"
    else
        printf '[verify]\ninbound = false\n' >> "$d/mailward.toml"
    fi
    if [[ $filter != 1 ]]; then
        printf '[filter]\nenabled = false\n' >> "$d/mailward.toml"
    fi
    "$bin" account add user1@example.test --password-stdin --config "$d/mailward.toml" <<< "bench-pass" >/dev/null
    "$bin" serve --config "$d/mailward.toml" 2>/dev/null & mw=$!
    for _ in $(seq 100); do grep -q '"listening"' "$d/mailward.log" 2>/dev/null && break; sleep 0.1; done
    settle
    load=$(load1)
    idle=$(rss_kb "$mw"); c0=$(cpu_ticks "$mw")
    ( while kill -0 "$mw" 2>/dev/null; do rss_kb "$mw"; sleep 0.2; done ) > "$d/rss.txt" & sampler=$!
    t0=$(now); "${src[@]}" "127.0.0.1:$mw_port"; t1=$(now)
    wait_files "$d/mw-data/mail/example.test/user1/Maildir/new" "$n"; t2=$(now)
    c1=$(cpu_ticks "$mw")
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "$d/rss.txt" | tail -1); peak=${peak:-$idle}
    # The `delivered` line follows the file's rename by a moment: give the log 5 s.
    for _ in $(seq 50); do
        mw_logged=$(grep -c '"event":"delivered"' "$d/mailward.log" || true)
        [[ $mw_logged -ge $n ]] && break; sleep 0.1
    done
    kill "$mw"; wait "$mw" 2>/dev/null || true; mw=
    [[ $mw_logged -eq $n ]] || echo "run $r: mailward logged $mw_logged deliveries, expected $n" >&2
    if [[ $verify == 1 ]]; then
        checked=$(grep -c '"event":"mail_auth".*"spf":"pass".*"dmarc":"pass"' "$d/mailward.log" || true)
        [[ $checked -eq $n ]] || echo "run $r: $checked of $n messages logged spf=pass dmarc=pass" >&2
        grep -o '"event":"mail_auth".*"us":[0-9]*' "$d/mailward.log" | sed 's/.*"us"://' | median > "$d/auth_us.txt"
    fi
    if [[ $filter == 1 ]]; then
        grep -o '"event":"filter_verdict".*"us":[0-9]*' "$d/mailward.log" | sed 's/.*"us"://' | median > "$d/filter_us.txt"
    fi
    mw_a=$(rate "$t0" "$t1"); mw_d=$(rate "$t0" "$t2")
    mw_cpu=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t/hz}')

    # --- Postfix ------------------------------------------------------------------------
    "$peers/postfix_maildir.sh" stop "$pf_port" >/dev/null 2>&1 || true
    settle
    "$peers/postfix_maildir.sh" start "$pf_port" "$d/pf-maildirs" >/dev/null
    sleep 2
    t0=$(now); "${src[@]}" "127.0.0.1:$pf_port"; t1=$(now)
    wait_files "$d/pf-maildirs/example.test/user1/new" "$n"; t2=$(now)
    "$peers/postfix_maildir.sh" stop "$pf_port" >/dev/null
    pf_logged=$(grep -c 'status=sent (delivered to maildir)' "/tmp/pf-bench-$pf_port/log/mail.log" || true)
    [[ $pf_logged -eq $n ]] || echo "run $r: postfix logged $pf_logged deliveries, expected $n" >&2
    pf_a=$(rate "$t0" "$t1"); pf_d=$(rate "$t0" "$t2")

    printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$r" "$load" "$mw_a" "$mw_d" "$pf_a" "$pf_d" \
        "$idle" "$peak" "$mw_cpu" | tee -a "$work/runs.tsv"
    rm -rf "$d/mw-data/mail" "$d/pf-maildirs"   # keep logs, free the disk
done

col() { cut -f"$1" "$work/runs.tsv" | median; }
mw_a=$(col 3); mw_d=$(col 4); pf_a=$(col 5); pf_d=$(col 6)
echo "# medians of $runs runs (load1 at start of the mailward runs: $(cut -f2 "$work/runs.tsv" | paste -sd' '))"
printf "%-10s %14s %15s\n" "" "accept msg/s" "deliver msg/s"
printf "%-10s %14s %15s\n" mailward "$mw_a" "$mw_d"
printf "%-10s %14s %15s\n" postfix "$pf_a" "$pf_d"
awk -v a="$mw_d" -v b="$pf_d" -v c="$mw_a" -v d="$pf_a" \
    'BEGIN {printf "ratio mailward/postfix: deliver %.2fx, accept %.2fx\n", a/b, c/d}'
[[ $verify == 1 ]] && echo "mailward inbound checks (SPF, DKIM, ARC, DMARC): median $(cat "$work"/run*/auth_us.txt | median) us per message (medians of the runs' medians)"
[[ $filter == 1 ]] && echo "mailward security gateway (attachments, disarm, spam rules): median $(cat "$work"/run*/filter_us.txt | median) us per message (medians of the runs' medians)"
echo "mailward RSS: idle $(( $(col 7) / 1024 )) MiB, peak under load $(( $(col 8) / 1024 )) MiB; CPU $(col 9) s per $n messages"
