#!/bin/bash
# bench/imap_search.sh [MESSAGES=100000] [DELIVER=20000]
#
# What the full-text index ([search] full_text_index) buys and costs, in one run:
#  1. search: mailward serves a Maildir of MESSAGES generated messages (bench/gen_maildir.py,
#     the corpus of bench/imap_vs_dovecot.sh) twice, with the index and without (every
#     message scanned); bench/imap_search.py times UID SEARCH TEXT/BODY/SUBJECT/FROM with
#     several needles (medians of 5) on each, after waiting (index on) until the index
#     covers INBOX; prints both, the speed-up, the time the index took to build from
#     nothing and its size beside the mail's;
#  2. delivery: smtp-source sends DELIVER messages (20 sessions, 2 KB) to an empty mailward
#     with the index and without; prints accepted msgs/s for both, and how long after the
#     last 250 the index had caught up.
# Needs: python3, Debian postfix (smtp-source), a release build (MAILWARD_BIN, default
# ${CARGO_TARGET_DIR:-target}/release/mailward; built if missing).
set -euo pipefail
n=${1:-100000}; deliver=${2:-20000}
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${MAILWARD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/mailward}
port=${MW_PORT:-21450}; smtp_port=${MW_SMTP_PORT:-21451}
work=${WORK:-/tmp/mailward-search-bench}
pass=bench-pass
if [[ ! -x $bin ]]; then (cd "$repo" && cargo build --release -p mailward); fi
case $(realpath -m "$work") in /|/tmp|/etc*|/usr*|/var|/root|/home) echo "refusing WORK=$work" >&2; exit 2;; esac
mkdir -p "$work"
ulimit -n 65536 2>/dev/null || true

src=${SOURCE:-/tmp/mailward-imap-bench/source-$n}
if [[ ! -d $src/new ]] || [[ $(find "$src/new" -type f | wc -l) -ne $n ]]; then
    src=$work/source-$n
    if [[ ! -d $src/new ]] || [[ $(find "$src/new" -type f | wc -l) -ne $n ]]; then
        rm -rf "$src"; echo "# generating $n messages into $src"
        python3 "$repo/bench/gen_maildir.py" "$src" "$n"
    fi
fi
echo "# $(date -u +%FT%TZ) nproc=$(nproc) messages=$n ($(du -sm "$src" | cut -f1) MB) deliver=$deliver"

mw=; cleanup() { [[ -n $mw ]] && kill "$mw" 2>/dev/null || true; }
trap cleanup EXIT

start() { # DIR INDEX(true|false) [empty]
    local d=$1
    rm -rf "$d"; mkdir -p "$d"
    cat > "$d/mailward.toml" <<TOML
[server]
hostname = "bench.example.test"
data_dir = "$d/mw-data"
[listen]
smtp = ["127.0.0.1:$smtp_port"]
submission = []
submissions = []
imap = ["127.0.0.1:$port"]
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
[search]
full_text_index = $2
TOML
    "$bin" account add user1@example.test --password-stdin --config "$d/mailward.toml" <<< "$pass" >/dev/null
    if [[ ${3:-} != empty ]]; then
        local box=$d/mw-data/mail/example.test/user1/Maildir
        mkdir -p "$box/new" "$box/cur" "$box/tmp"
        cp -al "$src/new/." "$box/new/"
        sync
    fi
    "$bin" serve --config "$d/mailward.toml" 2>"$d/stderr" & mw=$!
    for _ in $(seq 300); do ss -Hltn "sport = :$port" | grep -q . && return 0; sleep 0.1; done
    echo "mailward did not start; see $d/stderr" >&2; return 1
}
stop() { kill "$mw"; wait "$mw" 2>/dev/null || true; mw=; }

echo "## 1. search, $n messages"
start "$work/on" true
# The first SELECT indexes the Maildir into mailward.db; the full-text index follows.
on=$(python3 "$repo/bench/imap_search.py" 127.0.0.1 "$port" user1@example.test "$pass" --data-dir "$work/on/mw-data" | tee /dev/stderr | tail -1)
stop
start "$work/off" false
python3 "$repo/bench/imap_search.py" 127.0.0.1 "$port" user1@example.test "$pass" >/dev/null  # warm: index the Maildir
off=$(python3 "$repo/bench/imap_search.py" 127.0.0.1 "$port" user1@example.test "$pass" | tee /dev/stderr | tail -1)
stop
python3 - "$on" "$off" <<'PY'
import json, sys
on, off = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"# {on['messages']} messages; index built from nothing in {on['index_wait_seconds']:.1f} s "
      f"({on['messages'] / on['index_wait_seconds']:.0f} msgs/s, including mailward.db's first indexing); "
      f"index {on['index_bytes'] / 1e6:.1f} MB = {100 * on['index_bytes'] / on['maildir_bytes']:.0f} % of the mail ({on['maildir_bytes'] / 1e6:.1f} MB)")
print(f"{'search':34} {'index ms':>10} {'scan ms':>10} {'speed-up':>9} hits")
for k, v in on["searches"].items():
    s = off["searches"][k]
    assert v["hits"] == s["hits"], (k, v, s)
    print(f"{k:34} {v['seconds'] * 1000:10.2f} {s['seconds'] * 1000:10.2f} {s['seconds'] / max(v['seconds'], 1e-6):8.1f}x {v['hits']}")
PY

if (( deliver > 0 )); then
    command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix" >&2; exit 2; }
    echo "## 2. delivery, $deliver messages by SMTP (smtp-source -s 20 -l 2048)"
    for idx in false true; do
        start "$work/deliver-$idx" "$idx" empty
        t0=$(date +%s.%N)
        smtp-source -s 20 -m "$deliver" -l 2048 -f sender@remote.test -t user1@example.test "127.0.0.1:$smtp_port"
        t1=$(date +%s.%N)
        box=$work/deliver-$idx/mw-data/mail/example.test/user1/Maildir/new
        while (( $(find "$box" -maxdepth 1 -type f | wc -l) < deliver )); do sleep 0.1; done
        t2=$(date +%s.%N)
        caught=""
        if [[ $idx == true ]]; then
            python3 - "$work/deliver-$idx/mw-data" "$deliver" <<'PY'
import os, sqlite3, sys, time
d, want = sys.argv[1], int(sys.argv[2])
while True:
    try:
        c = sqlite3.connect(f"file:{os.path.join(d, 'fulltext.db')}?mode=ro", uri=True)
        n = c.execute("SELECT count(*) FROM docs").fetchone()[0]
        c.close()
        if n >= want:
            break
    except sqlite3.Error:
        pass
    time.sleep(0.05)
PY
            caught=$(date +%s.%N)
        fi
        cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$mw/stat")
        stop
        awk -v n="$deliver" -v a="$t0" -v b="$t1" -v c="$t2" -v i="$idx" -v e="$caught" -v cpu="$cpu" 'BEGIN {
            printf "index=%-5s accepted %7.0f msgs/s, delivered %7.0f msgs/s, mailward CPU %.1f s", i, n / (b - a), n / (c - a), cpu
            if (e != "") printf ", index caught up %.2f s after the last delivery", e - c
            printf "\n" }'
    done
fi
