#!/bin/bash
# bench/gateway.sh [MESSAGES=2000] [SESSIONS=20] [ATTACHMENT_KB=100] [RUNS=3]
#
# The security gateway's cost (issue 17): the same messages, each with a 100 KB attachment
# (base64, a random .bin file, so the attachment checks, the antivirus and the spam rules all
# see it), sent by SESSIONS Python smtplib clients at once to mailward
#   1. with the gateway off ([filter] enabled = false),
#   2. with the gateway on and a real clamd from Debian (clamav-daemon) scanning every message,
#   3. with the gateway on without the antivirus.
# clamd starts offline with a one-line signature database (EICAR, built here); its scan time
# per message with the full ClamAV database would be longer (not downloadable on this
# machine). Prints msgs/s (accepted, delivered) for each, and the gateway's own time per
# message (the `filter_verdict` event's `us`: p50 and p99) with and without clamd.
# Needs: clamav-daemon, python3, a release build (MAILWARD_BIN).
set -euo pipefail
n=${1:-2000}; sessions=${2:-20}; kb=${3:-100}; runs=${4:-${RUNS:-3}}
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${MAILWARD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/mailward}
port=${MW_PORT:-25280}; clamd_port=${CLAMD_PORT:-25290}
work=${WORK:-/tmp/mailward-gateway-bench}
command -v clamd >/dev/null || [[ -x /usr/sbin/clamd ]] || { echo "clamd missing: apt-get install clamav-daemon" >&2; exit 2; }
clamd=$(command -v clamd || echo /usr/sbin/clamd)
if [[ ! -x $bin ]]; then (cd "$repo" && cargo build --release -p mailward); fi
case $(realpath -m "$work") in /|/tmp|/etc*|/usr*|/var|/root|/home) echo "refusing WORK=$work" >&2; exit 2;; esac
rm -rf "$work"; mkdir -p "$work/db" "$work/msgs"

# --- clamd, offline, one signature ----------------------------------------------------------
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$'; eicar+='EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
printf '%s' "$eicar" > "$work/eicar.txt"
echo "$(md5sum < "$work/eicar.txt" | cut -d' ' -f1):$(stat -c %s "$work/eicar.txt"):Mailward.Bench.EICAR" > "$work/db/bench.hdb"
rm "$work/eicar.txt"
cat > "$work/clamd.conf" <<CONF
Foreground yes
TCPSocket $clamd_port
TCPAddr 127.0.0.1
DatabaseDirectory $work/db
LogFile $work/clamd.log
MaxThreads 20
StreamMaxLength 50M
CONF
"$clamd" --config-file="$work/clamd.conf" >/dev/null 2>&1 & clamd_pid=$!
mw=; cleanup() { kill "$clamd_pid" 2>/dev/null || true; [[ -n $mw ]] && kill "$mw" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 300); do
    [[ $(printf 'zPING\0' | timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$clamd_port; cat >&3; cat <&3" 2>/dev/null | tr -d '\0') == PONG ]] && break
    sleep 0.2
done

# --- the messages -------------------------------------------------------------------------
python3 - "$work/msgs" "$n" "$kb" <<'PY'
import base64, os, sys
folder, n, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(min(n, 200)):  # 200 distinct messages, sent round-robin
    data = base64.encodebytes(os.urandom(kb * 1024)).replace(b"\n", b"\r\n")
    msg = (f"From: sender@remote.test\r\nTo: user1@example.test\r\nSubject: report {i}\r\n"
           f"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench-{i}@remote.test>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nThe data you asked for.\r\n"
           f"--b\r\nContent-Type: application/octet-stream\r\n"
           f"Content-Disposition: attachment; filename=\"data{i}.bin\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n").encode() + data + b"--b--\r\n"
    open(os.path.join(folder, f"{i:04}.eml"), "wb").write(msg)
PY
cat > "$work/send.py" <<'PY'
import os, smtplib, sys, threading
port, folder, n, sessions = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
msgs = [open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))]
lock = threading.Lock(); sent = [0]; failed = []
def worker():
    s = smtplib.SMTP("127.0.0.1", port, timeout=120); s.ehlo("bench.remote.test")
    while True:
        with lock:
            if sent[0] >= n: break
            i = sent[0]; sent[0] += 1
        try:
            s.sendmail("sender@remote.test", ["user1@example.test"], msgs[i % len(msgs)])
        except smtplib.SMTPException as e:
            failed.append(str(e))
    s.quit()
ts = [threading.Thread(target=worker) for _ in range(sessions)]
[t.start() for t in ts]; [t.join() for t in ts]
if failed: print(f"{len(failed)} refused: {failed[0]}", file=sys.stderr); sys.exit(1)
PY

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; print a[i]}'; }
rate() { awk -v a="$1" -v b="$2" -v n="$n" 'BEGIN {printf "%.1f", n/(b-a)}'; }

run_one() { # NAME FILTER_TOML
    local name=$1 filter=$2 d=$work/$1-$r
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
[logging]
file = "$d/mailward.log"
[verify]
inbound = false
$filter
TOML
    "$bin" account add user1@example.test --password-stdin --config "$d/mailward.toml" <<< "bench-pass" >/dev/null
    "$bin" serve --config "$d/mailward.toml" 2>/dev/null & mw=$!
    for _ in $(seq 100); do grep -q '"listening"' "$d/mailward.log" 2>/dev/null && break; sleep 0.1; done
    sync; sleep 1
    local t0 t1 t2; t0=$(now)
    python3 "$work/send.py" "$port" "$work/msgs" "$n" "$sessions"
    t1=$(now)
    while [[ $(find "$d/data/mail/example.test/user1/Maildir/new" -type f 2>/dev/null | wc -l) -lt $n ]]; do sleep 0.1; done
    t2=$(now)
    kill "$mw"; wait "$mw" 2>/dev/null || true; mw=
    local us; us=$(grep -o '"event":"filter_verdict".*"us":[0-9]*' "$d/mailward.log" | sed 's/.*"us"://' || true)
    local p50=- p99=-
    if [[ -n $us ]]; then p50=$(pct 50 <<< "$us"); p99=$(pct 99 <<< "$us"); fi
    printf "%s\t%d\t%s\t%s\t%s\t%s\n" "$name" "$r" "$(rate "$t0" "$t1")" "$(rate "$t0" "$t2")" "$p50" "$p99" | tee -a "$work/runs.tsv"
    rm -rf "$d/data/mail"
}

echo "# $(date -u +%FT%TZ) nproc=$(nproc) clamd=$("$clamd" --version 2>/dev/null | head -1) messages=$n sessions=$sessions attachment=${kb}KB runs=$runs"
printf "config\trun\taccept/s\tdeliver/s\tgateway_p50_us\tgateway_p99_us\n"
: > "$work/runs.tsv"
for r in $(seq "$runs"); do
    run_one off "[filter]
enabled = false"
    run_one clamd "[filter.antivirus]
clamd = \"127.0.0.1:$clamd_port\""
    run_one no-av "[filter]
enabled = true"
done
echo "# medians of $runs runs"
for c in off clamd no-av; do
    awk -v c="$c" '$1==c' "$work/runs.tsv" > "$work/$c.tsv"
    p50=$(cut -f5 "$work/$c.tsv" | grep -v '^-$' | median || true)
    p99=$(cut -f6 "$work/$c.tsv" | grep -v '^-$' | median || true)
    printf "%-6s accept %8s/s  deliver %8s/s  gateway p50 %s us  p99 %s us\n" "$c" \
        "$(cut -f3 "$work/$c.tsv" | median)" "$(cut -f4 "$work/$c.tsv" | median)" \
        "${p50:--}" "${p99:--}"
done
