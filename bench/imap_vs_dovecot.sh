#!/bin/bash
# bench/imap_vs_dovecot.sh [MESSAGES=100000] [APPENDS=10000] [IDLE=5000] [RUNS=3]
#
# mailward's IMAP server and Dovecot (Debian dovecot-imapd, run privately by
# ../shared/peers/dovecot_maildir.sh) serving the same Maildir of MESSAGES generated messages
# (bench/gen_maildir.py, ~4 KB each; hard-linked into both servers' trees), in one run, same
# client: ../shared/peers/imap_bench.py (Python imaplib, one connection) times
#   login_select          connect + LOGIN + SELECT INBOX
#   fetch_flags_envelope  FETCH 1:* (FLAGS ENVELOPE)
#   uid_search_text       UID SEARCH TEXT "needle" (absent: every message is scanned)
#   fetch_full_bodies     100 x UID FETCH n (BODY.PEEK[])
#   append_small          APPENDS x APPEND of a small message
# twice per server and run: "first" (fresh index: the server reads every file) and "second"
# (index and caches in place); which server goes first alternates from run to run.
# Also, once per server and run, fetch_envelope_raw: FETCH 1:* (FLAGS ENVELOPE) read by
# bench/imap_fetch_raw.py, which only splits lines (server-side time; imaplib's parsing is
# what bounds fetch_flags_envelope on both servers once their caches are warm).
# Then bench/imap_idle.py opens IDLE connections to each server
# (LOGIN, SELECT, IDLE), reports the servers' summed RSS per connection and how fast one
# APPEND is pushed to every idler. Prints medians and the ratios dovecot/mailward (time) and
# mailward/dovecot (memory per connection).
# Needs: root (dovecot_maildir.sh), Debian dovecot-imapd, python3, a release build
# (MAILWARD_BIN, default ${CARGO_TARGET_DIR:-target}/release/mailward; built if missing).
set -euo pipefail
n=${1:-100000}; appends=${2:-10000}; idle=${3:-5000}; runs=${4:-${RUNS:-3}}
repo=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS:-$repo/../shared/peers}
bin=${MAILWARD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/mailward}
mw_port=${MW_PORT:-21430}; dv_port=${DV_PORT:-21440}
work=${WORK:-/tmp/mailward-imap-bench}
pass=bench-pass
command -v dovecot >/dev/null || { echo "dovecot missing: apt-get install dovecot-imapd" >&2; exit 2; }
[[ -x $peers/dovecot_maildir.sh ]] || { echo "missing $peers/dovecot_maildir.sh" >&2; exit 2; }
if [[ ! -x $bin ]]; then (cd "$repo" && cargo build --release -p mailward); fi
case $(realpath -m "$work") in /|/tmp|/etc*|/usr*|/var|/root|/home) echo "refusing WORK=$work" >&2; exit 2;; esac
mkdir -p "$work"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

src=$work/source-$n
if [[ ! -d $src/new ]] || [[ $(find "$src/new" -type f | wc -l) -ne $n ]]; then
    rm -rf "$src"; echo "# generating $n messages into $src"
    python3 "$repo/bench/gen_maildir.py" "$src" "$n"
fi
echo "# $(date -u +%FT%TZ) nproc=$(nproc) dovecot $(dovecot --version | cut -d' ' -f1) messages=$n ($(du -sm "$src" | cut -f1) MB) appends=$appends idle=$idle runs=$runs"

mw=; cleanup() {
    [[ -n $mw ]] && kill "$mw" 2>/dev/null || true
    "$peers/dovecot_maildir.sh" stop "$dv_port" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_mailward() { # DIR
    local d=$1
    rm -rf "$d"; mkdir -p "$d"
    cat > "$d/mailward.toml" <<TOML
[server]
hostname = "bench.example.test"
data_dir = "$d/mw-data"
[listen]
smtp = []
submission = []
submissions = []
imap = ["127.0.0.1:$mw_port"]
imaps = []
pop3 = []
pop3s = []
[[domains]]
name = "example.test"
[limits]
connections_per_ip = 20000
connection_rate_per_minute = 0
[logging]
file = "$d/mailward.log"
level = "warn"
TOML
    "$bin" account add user1@example.test --password-stdin --config "$d/mailward.toml" <<< "$pass" >/dev/null
    local box=$d/mw-data/mail/example.test/user1/Maildir
    mkdir -p "$box/new" "$box/cur" "$box/tmp"
    cp -al "$src/new/." "$box/new/"
    sync
    "$bin" serve --config "$d/mailward.toml" 2>"$d/stderr" & mw=$!
    for _ in $(seq 300); do ss -Hltn "sport = :$mw_port" | grep -q . && return 0; sleep 0.1; done
    echo "mailward did not start; see $d/stderr" >&2; return 1
}

start_dovecot() { # DIR [extra config]
    local d=$1
    rm -rf "$d"; mkdir -p "$d/dv/example.test/user1"
    local box=$d/dv/example.test/user1
    mkdir -p "$box/new" "$box/cur" "$box/tmp"
    cp -al "$src/new/." "$box/new/"
    chown -R vmail:vmail "$d/dv" 2>/dev/null || true
    sync
    "$peers/dovecot_maildir.sh" stop "$dv_port" >/dev/null 2>&1 || true
    DV_STATE=/tmp/dv-bench-$dv_port DV_PASS=$pass "$peers/dovecot_maildir.sh" start "$dv_port" "$d/dv" >/dev/null
    chown -R vmail:vmail "$d/dv"
}

bench_json() { # PORT -> one JSON line (the client's full output is appended to $work/client.log)
    python3 "$peers/imap_bench.py" 127.0.0.1 "$1" user1@example.test "$pass" --append "$appends" \
        | tee -a "$work/client.log" | tail -1
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]]["seconds"])' "$1" "$2"; }

# Server-side time of FETCH 1:* (FLAGS ENVELOPE) (index and caches in place), read by a
# client that does not parse: imaplib's parsing bounds both servers' fetch_flags_envelope.
raw_fetch() { # PORT -> seconds
    python3 "$repo/bench/imap_fetch_raw.py" 127.0.0.1 "$1" user1@example.test "$pass" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])'
}
declare -a mw_raw dv_raw
run_mailward() {
    start_mailward "$work/mw"
    mw_first=$(bench_json "$mw_port"); mw_second=$(bench_json "$mw_port")
    mw_raw+=("$(raw_fetch "$mw_port")")
    kill "$mw"; wait "$mw" 2>/dev/null || true; mw=
}
run_dovecot() {
    start_dovecot "$work/dv"
    dv_first=$(bench_json "$dv_port"); dv_second=$(bench_json "$dv_port")
    dv_raw+=("$(raw_fetch "$dv_port")")
    "$peers/dovecot_maildir.sh" stop "$dv_port" >/dev/null
}
: > "$work/client.log"
figures=(login_select fetch_flags_envelope uid_search_text fetch_full_bodies append_small)
: > "$work/runs.tsv"
for r in $(seq "$runs"); do
    load=$(load1)
    # The server measured first in a run meets whatever the previous run left behind
    # (page cache, journal writeback after 10,000 APPENDs and a DELETE): alternate.
    if (( r % 2 == 1 )); then run_mailward; run_dovecot; else run_dovecot; run_mailward; fi
    for f in "${figures[@]}"; do
        for pass_name in first second; do
            m=mw_$pass_name; v=dv_$pass_name
            printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$r" "$load" "$f" "$pass_name" \
                "$(field "${!m}" "$f")" "$(field "${!v}" "$f")" >> "$work/runs.tsv"
        done
    done
    echo "# run $r done (load1 at start $load)"
done

if (( runs > 0 )); then
echo "# medians of $runs runs, seconds (lower is better); ratio = dovecot / mailward"
printf "%-22s %-7s %10s %10s %8s\n" figure session mailward dovecot ratio
for f in "${figures[@]}"; do
    for pass_name in first second; do
        m=$(awk -F'\t' -v f="$f" -v p="$pass_name" '$3==f && $4==p {print $5}' "$work/runs.tsv" | median)
        v=$(awk -F'\t' -v f="$f" -v p="$pass_name" '$3==f && $4==p {print $6}' "$work/runs.tsv" | median)
        printf "%-22s %-7s %10.3f %10.3f %7.2fx\n" "$f" "$pass_name" "$m" "$v" "$(awk -v a="$v" -v b="$m" 'BEGIN {print (b > 0 ? a / b : 0)}')"
    done
done
m=$(printf '%s\n' "${mw_raw[@]}" | median); v=$(printf '%s\n' "${dv_raw[@]}" | median)
printf "%-22s %-7s %10.3f %10.3f %7.2fx   (server side: a client that only reads lines)\n" \
    fetch_envelope_raw second "$m" "$v" "$(awk -v a="$v" -v b="$m" 'BEGIN {print (b > 0 ? a / b : 0)}')"
fi

# --- IDLE connections: memory per connection and push latency --------------------------
# IDLE_SERVERS="mailward dovecot" (default) or one of them (RUNS=0 skips the figures above).
idle_servers=${IDLE_SERVERS:-mailward dovecot}
mw_idle='{}'; dv_idle='{}'
if (( idle > 0 )) && [[ $idle_servers == *mailward* ]]; then
    echo "# $(date -u +%T) IDLE: mailward, load1 $(load1)"
    start_mailward "$work/mw"
    mw_idle=$(python3 "$repo/bench/imap_idle.py" 127.0.0.1 "$mw_port" user1@example.test "$pass" \
        --connections "$idle" --pids-cmd "echo $mw" | tail -1)
    kill "$mw"; wait "$mw" 2>/dev/null || true; mw=
    echo "mailward: $mw_idle"
fi
if (( idle > 0 )) && [[ $idle_servers == *dovecot* ]]; then
    echo "# $(date -u +%T) IDLE: dovecot, load1 $(load1)"
    start_dovecot "$work/dv"
    cfg=/tmp/dv-bench-$dv_port/dovecot.conf
    # Dovecot runs one imap process per connection; its defaults cap them far below
    # $idle (default_process_limit 100, mail_max_userip_connections set to 500 by the peer
    # script). Raise the limits, then reload.
    cat >> "$cfg" <<CF
mail_max_userip_connections = $((idle + 100))
default_process_limit = $((idle + 100))
default_client_limit = $((idle * 4 + 1000))
service imap {
  process_limit = $((idle + 100))
}
service anvil {
  client_limit = $((idle * 4 + 1000))
}
CF
    master=$(tr -dc 0-9 < "/tmp/dv-bench-$dv_port/run/master.pid")
    kill -HUP "$master"; sleep 2
    dv_idle=$(python3 "$repo/bench/imap_idle.py" 127.0.0.1 "$dv_port" user1@example.test "$pass" \
        --connections "$idle" --pids-cmd "m=\$(tr -dc 0-9 < /tmp/dv-bench-$dv_port/run/master.pid); echo \$m; pgrep -P \$m" | tail -1)
    "$peers/dovecot_maildir.sh" stop "$dv_port" >/dev/null
    echo "dovecot:  $dv_idle"
fi
if (( idle > 0 )); then
    echo "# $idle IDLE connections"
    python3 - "$mw_idle" "$dv_idle" <<'PY'
import json, sys
m, d = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if m and d:
    print(f"RSS per IDLE connection: mailward {m['rss_per_connection_kb']} KiB, "
          f"dovecot {d['rss_per_connection_kb']} KiB "
          f"(dovecot/mailward {d['rss_per_connection_kb'] / max(m['rss_per_connection_kb'], 0.1):.1f}x); "
          f"PSS per connection: mailward {m.get('pss_per_connection_kb')} KiB, "
          f"dovecot {d.get('pss_per_connection_kb')} KiB; "
          f"push p50 mailward {m.get('push_p50_s')} s, dovecot {d.get('push_p50_s')} s; "
          f"pushed mailward {m.get('pushed')}, dovecot {d.get('pushed')} of {m['connections']}")
PY
fi
