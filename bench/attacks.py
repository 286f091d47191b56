#!/usr/bin/env python3
"""bench/attacks.py [ATTACK ...] [--bin PATH] [--ips N]

Re-runs the attacks of issue 12 against the release binary on loopback, one fresh server
per attack, and says for each whether it held, with the figures that decide it (RSS from
/proc/PID/status, the server's own log). Bounded in count and time; loopback only.

Attacks (default: all but `slow`):
  imap-prelogin   20 IMAP connections each chain literals before login up to the limit, then
                  drip a byte every second: RSS growth per connection and per IP.
  auth-parallel   19 wrong passwords at once on 19 pre-opened IMAP connections, then the
                  right one on IMAP, POP3 and SMTP connections opened before the block.
  login-storm     200 wrong LOGINs at once from one IP (limits raised so nothing blocks
                  them): RSS and threads while they are checked.
  dup-rcpt        MAIL + 100 x RCPT TO:<bob> + a 1 MB DATA on port 25: files written.
  numbers         BDAT 99999999999999999999999 LAST and SIZE=99999999999999999999999.
  distinct-ips    one-shot SMTP connections from --ips distinct source addresses (127/8):
                  RSS after the first tenth and at the end (default 1,000,000).
  no-read         pipelined NOOPs whose replies are never read: time to disconnect
                  (command_timeout = 5s).
  ehlo-flood      1 MiB of pipelined `EHLO x`: log bytes written, session ended.
  big-data        one 50 MB DATA: peak RSS growth while it is received.
  from-spoof      bob, authenticated, sends From: alice: refused.
  start-drip      NOOP every 0.5 s before MAIL: dropped at start_timeout (3s).
  slow            the IMAP login deadline (60 s) against a client dripping a byte a second.

Needs python3 and a release build (--bin, default target/release/mailward).
"""
import argparse
import base64
import imaplib
import json
import os
import poplib
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
USER = "bob@example.test"
PASSWORD = "bob-secret"
OTHER = "alice@example.test"


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Server:
    """A fresh `mailward serve` in a temporary directory."""

    def __init__(self, binary, limits="", level="info", relay='["127.0.0.1/32"]'):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="mailward-attack-")
        self.ports = {k: free_port() for k in ["smtp", "submission", "imap", "pop3"]}
        self.log = os.path.join(self.dir, "mailward.log")
        self.config = os.path.join(self.dir, "mailward.toml")
        base = {
            "connections_per_ip": "20",
            "connection_rate_per_minute": "0",
            "auth_failures": "5",
            "auth_fail_delay": '"200ms"',
            "auth_block": '"10m"',
        }
        for line in limits.strip().splitlines():
            k, v = line.split("=", 1)
            base[k.strip()] = v.strip()
        limits_text = "\n".join(f"{k} = {v}" for k, v in base.items())
        with open(self.config, "w") as f:
            f.write(f"""[server]
hostname = "mx.example.test"
data_dir = "{self.dir}/data"

[listen]
smtp = ["{HOST}:{self.ports['smtp']}"]
submission = ["{HOST}:{self.ports['submission']}"]
imap = "{HOST}:{self.ports['imap']}"
pop3 = "{HOST}:{self.ports['pop3']}"

[[domains]]
name = "example.test"

[relay]
networks = {relay}

[limits]
{limits_text}

[logging]
file = "{self.log}"
level = "{level}"
format = "json"
""")
        for who in [USER, OTHER]:
            self.cli(["account", "add", who, "--password-stdin"], PASSWORD + "\n")
        self.proc = subprocess.Popen(
            [binary, "--config", self.config, "serve"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection((HOST, self.ports["imap"]), timeout=1).close()
                socket.create_connection((HOST, self.ports["smtp"]), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("mailward did not start")
                time.sleep(0.05)
        time.sleep(0.3)

    def cli(self, args, stdin=None):
        subprocess.run(
            [self.binary, "--config", self.config] + args,
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
        )

    @property
    def pid(self):
        return self.proc.pid

    def rss(self):
        return status_kb(self.pid, "VmRSS")

    def hwm(self):
        return status_kb(self.pid, "VmHWM")

    def events(self):
        out = []
        try:
            with open(self.log) as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        except OSError:
            pass
        return out

    def log_bytes(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def maildir_new(self, user):
        d = os.path.join(self.dir, "data/mail/example.test", user, "Maildir/new")
        try:
            return len(os.listdir(d))
        except OSError:
            return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def smtp_reply(f):
    """Reads one SMTP reply (possibly multi-line) from a file object; returns the last line."""
    while True:
        line = f.readline()
        if not line or line[3:4] != b"-":
            return line.decode(errors="replace").strip()


# ---- the attacks -------------------------------------------------------------------------


def imap_prelogin(srv, conns=20):
    before = srv.rss()
    socks = []
    for _ in range(conns):
        s = socket.create_connection((HOST, srv.ports["imap"]))
        s.recv(4096)
        # A LOGIN whose literals chain on until the server stops it (the old limit was
        # max_command = 64 MiB + 64 KiB, each literal 8 KiB).
        s.sendall(b"a LOGIN {8000+}\r\n")
        chunk = b"x" * 8000 + b" {8000+}\r\n"
        sent = 0
        try:
            s.settimeout(2)
            for _ in range(7500):
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        socks.append(s)
    time.sleep(1)
    # Drip one byte a second on what is still open, for a few seconds.
    for _ in range(3):
        for s in socks:
            try:
                s.send(b"x")
            except OSError:
                pass
        time.sleep(1)
    after = srv.rss()
    open_now = 0
    for s in socks:
        try:
            s.setblocking(False)
            data = s.recv(65536)
            open_now += 1 if data != b"" else 0
        except BlockingIOError:
            open_now += 1
        except OSError:
            pass
        s.close()
    per_conn = (after - before) / conns
    return {
        "connections": conns,
        "rss_before_kb": before,
        "rss_after_kb": after,
        "per_connection_kb": round(per_conn, 1),
        "per_ip_kb": after - before,
        "still_open": open_now,
        "held": per_conn <= 256,
        "budget": "<= 256 KiB per connection (16 KiB command + buffers), 20 per IP",
    }


def auth_parallel(srv, guesses=19):
    def imap():
        c = imaplib.IMAP4(HOST, srv.ports["imap"], timeout=60)
        c.starttls(ssl_context=ctx())
        return c

    guessers = [imap() for _ in range(guesses)]
    later_imap = imap()
    later_pop3 = poplib.POP3(HOST, srv.ports["pop3"], timeout=60)
    later_pop3.stls(context=ctx())
    later_smtp = smtplib.SMTP(HOST, srv.ports["submission"], timeout=60)
    later_smtp.starttls(context=ctx())
    later_smtp.ehlo("guesser")
    barrier = threading.Barrier(guesses)
    results = [None] * guesses

    def guess(i):
        barrier.wait()
        try:
            guessers[i].login(USER, f"wrong-{i}")
            results[i] = "OK"
        except Exception as e:  # noqa: BLE001 - any refusal is what we want
            results[i] = str(e)

    started = time.time()
    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - started
    right = {}
    try:
        later_imap.login(USER, PASSWORD)
        right["imap"] = "OK"
    except Exception as e:  # noqa: BLE001
        right["imap"] = str(e)
    try:
        later_pop3.user(USER)
        later_pop3.pass_(PASSWORD)
        right["pop3"] = "OK"
    except Exception as e:  # noqa: BLE001
        right["pop3"] = str(e)
    try:
        later_smtp.login(USER, PASSWORD)
        right["smtp"] = "OK"
    except Exception as e:  # noqa: BLE001
        right["smtp"] = str(e)
    time.sleep(0.5)
    checked = sum(
        1
        for e in srv.events()
        if e.get("event") == "auth_failed" and e.get("reason") == "invalid credentials"
    )
    return {
        "guesses": guesses,
        "checked": checked,
        "logged_in_with_wrong": results.count("OK"),
        "right_password_after_block": right,
        "seconds": round(took, 2),
        "held": checked <= 5 and "OK" not in results and "OK" not in right.values(),
        "budget": "at most auth_failures (5) checks; the right password refused everywhere",
    }


def login_storm(srv, logins=200):
    """200 LOGINs at once from one IP (limits raised so neither the connection limit nor the
    block stops them): memory and threads while they are checked."""
    conns = []
    for _ in range(logins):
        c = imaplib.IMAP4(HOST, srv.ports["imap"], timeout=120)
        conns.append(c)
    before_rss, before_threads = srv.rss(), status_kb(srv.pid, "Threads")
    peak = [before_rss, before_threads]
    sampling = threading.Event()
    sampling.set()

    def sample():
        while sampling.is_set():
            peak[0] = max(peak[0], srv.rss())
            peak[1] = max(peak[1], status_kb(srv.pid, "Threads"))
            time.sleep(0.01)

    t = threading.Thread(target=sample)
    t.start()
    barrier = threading.Barrier(logins)

    def login(c):
        barrier.wait()
        try:
            c.login(USER, "wrong")
        except Exception:  # noqa: BLE001 - every one fails; the cost is what is measured
            pass

    started = time.time()
    threads = [threading.Thread(target=login, args=(c,)) for c in conns]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.time() - started
    sampling.clear()
    t.join()
    for c in conns:
        try:
            c.shutdown()
        except OSError:
            pass
    growth = peak[0] - before_rss
    return {
        "logins": logins,
        "seconds": round(took, 1),
        "rss_growth_kb": growth,
        "threads_before": before_threads,
        "threads_peak": peak[1],
        "held": growth <= 48 * 1024 and peak[1] - before_threads <= 8,
        "budget": "<= 48 MiB (argon2 takes 19 MiB a check: 2 at once with 2 CPUs) and <= 8 more threads",
    }


def dup_rcpt(srv):
    s = socket.create_connection((HOST, srv.ports["smtp"]))
    f = s.makefile("rb")
    smtp_reply(f)
    cmds = b"EHLO attacker.test\r\nMAIL FROM:<x@remote.test>\r\n"
    cmds += b"RCPT TO:<bob@example.test>\r\n" * 100 + b"DATA\r\n"
    s.sendall(cmds)
    for _ in range(102):
        smtp_reply(f)
    smtp_reply(f)  # 354
    line = b"x" * 998 + b"\r\n"
    s.sendall(b"Subject: copies\r\n\r\n" + line * 1000 + b".\r\n")
    r = smtp_reply(f)
    s.sendall(b"QUIT\r\n")
    s.close()
    deadline = time.time() + 20
    while srv.maildir_new("bob") < 1 and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    files = srv.maildir_new("bob")
    return {"reply": r, "files": files, "held": files == 1, "budget": "one file"}


def numbers(srv):
    out = {}
    for name, cmd in [
        ("bdat", b"BDAT 99999999999999999999999 LAST\r\n"),
        ("size", b"MAIL FROM:<a@remote.test> SIZE=99999999999999999999999\r\n"),
    ]:
        s = socket.create_connection((HOST, srv.ports["smtp"]))
        f = s.makefile("rb")
        smtp_reply(f)
        s.sendall(b"EHLO attacker.test\r\n")
        smtp_reply(f)
        if name == "bdat":
            s.sendall(b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.test>\r\n")
            smtp_reply(f)
            smtp_reply(f)
        s.sendall(cmd)
        out[name] = smtp_reply(f)
        s.close()
    out["held"] = out["bdat"].startswith("501") and out["size"].startswith("552")
    out["budget"] = "501 for BDAT, 552 for SIZE"
    return out


def _one_shot_worker(args):
    port, start, count = args
    done = 0
    for n in range(start, start + count):
        # 127.1.0.0 upward: distinct addresses, none of them 127.0.0.1.
        a = (127 << 24 | 1 << 16) + n
        src = socket.inet_ntoa(a.to_bytes(4, "big"))
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        try:
            s.bind((src, 0))
            s.connect((HOST, port))
            done += 1
        except OSError:
            pass
        finally:
            s.close()
    return done


def distinct_ips(srv, total):
    port = srv.ports["smtp"]
    rss0 = srv.rss()
    marks = []
    step = max(total // 10, 1)
    started = time.time()
    done = 0
    for first in range(0, total, step):
        done += _one_shot_worker((port, first, min(step, total - first)))
        marks.append((done, srv.rss()))
    took = time.time() - started
    time.sleep(12)  # past the limiter's sweep interval
    rss_end = srv.rss()
    first_tenth = marks[0][1]
    growth = max(m[1] for m in marks) - first_tenth
    return {
        "connections": done,
        "seconds": round(took, 1),
        "rss_start_kb": rss0,
        "rss_after_first_tenth_kb": first_tenth,
        "rss_max_kb": max(m[1] for m in marks),
        "rss_after_sweep_kb": rss_end,
        "growth_after_first_tenth_kb": growth,
        "held": growth <= 8 * 1024,
        "budget": "flat: <= 8 MiB growth after the first tenth (tables capped at 65,536)",
    }


def no_read(srv):
    s = socket.create_connection((HOST, srv.ports["smtp"]))
    s.settimeout(30)
    chunk = b"NOOP\r\n" * 10000
    started = time.time()
    closed_after = None
    try:
        while time.time() - started < 30:
            s.sendall(chunk)
    except OSError:
        closed_after = time.time() - started
    s.close()
    return {
        "closed_after_s": None if closed_after is None else round(closed_after, 1),
        "held": closed_after is not None and closed_after < 15,
        "budget": "disconnected at the write deadline (command_timeout 5 s)",
    }


def ehlo_flood(srv):
    before = srv.log_bytes()
    s = socket.create_connection((HOST, srv.ports["smtp"]))
    s.settimeout(10)
    flood = b"EHLO x\r\n" * (1024 * 1024 // 8)
    ended = False
    try:
        s.sendall(flood)
        while s.recv(65536):
            pass
        ended = True
    except OSError:
        ended = True
    s.close()
    time.sleep(0.5)
    written = srv.log_bytes() - before
    return {
        "log_bytes": written,
        "session_ended": ended,
        "held": ended and written < 64 * 1024,
        "budget": "< 64 KiB of log, session ended",
    }


def big_data(srv, mb=50):
    """RSS is sampled while the body arrives (until just before the final dot): what a
    session costs. Delivery, which starts once the message is queued, is reported apart."""
    s = socket.create_connection((HOST, srv.ports["smtp"]))
    f = s.makefile("rb")
    smtp_reply(f)
    s.sendall(b"EHLO big.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    for _ in range(3):
        smtp_reply(f)
    smtp_reply(f)  # 354
    before = srv.rss()
    peak = [before]
    sampling = threading.Event()
    sampling.set()

    def sample():
        while sampling.is_set():
            peak[0] = max(peak[0], srv.rss())
            time.sleep(0.005)

    t = threading.Thread(target=sample)
    t.start()
    line = b"y" * 998 + b"\r\n"
    chunk = line * 1024
    started = time.time()
    s.sendall(b"Subject: big\r\n\r\n")
    for _ in range(mb * 1024 * 1024 // len(chunk)):
        s.sendall(chunk)
    time.sleep(0.2)  # what is in the socket reaches the server
    sampling.clear()
    t.join()
    s.sendall(b".\r\n")
    reply = smtp_reply(f)
    took = time.time() - started
    s.sendall(b"QUIT\r\n")
    s.close()
    deadline = time.time() + 60
    while srv.maildir_new("bob") < 1 and time.time() < deadline:
        time.sleep(0.1)
    receiving = peak[0] - before
    return {
        "megabytes": mb,
        "reply": reply,
        "seconds": round(took, 1),
        "receiving_rss_growth_kb": receiving,
        "peak_rss_with_delivery_kb": srv.hwm(),
        "held": reply.startswith("250") and receiving <= 24 * 1024,
        "budget": "<= 24 MiB growth while one 50 MB message is received",
    }


def from_spoof(srv):
    s = smtplib.SMTP(HOST, srv.ports["submission"], timeout=30)
    s.starttls(context=ctx())
    s.ehlo("laptop")
    s.login(USER, PASSWORD)
    msg = f"From: Alice <{OTHER}>\r\nTo: {OTHER}\r\nSubject: spoof\r\n\r\nhi\r\n"
    try:
        s.sendmail(USER, [OTHER], msg)
        got = "250 accepted"
    except smtplib.SMTPDataError as e:
        got = f"{e.smtp_code} {e.smtp_error.decode(errors='replace')}"
    s.quit()
    return {"reply": got, "held": got.startswith("553"), "budget": "553 5.7.1"}


def start_drip(srv):
    s = socket.create_connection((HOST, srv.ports["smtp"]))
    f = s.makefile("rb")
    smtp_reply(f)
    started = time.time()
    last = ""
    while time.time() - started < 20:
        try:
            s.sendall(b"NOOP\r\n")
        except OSError:
            break
        last = smtp_reply(f)
        if not last.startswith("250"):
            break
        time.sleep(0.5)
    took = time.time() - started
    s.close()
    return {
        "reply": last,
        "dropped_after_s": round(took, 1),
        "held": last.startswith("421") and took < 6,
        "budget": "421 4.4.2 at start_timeout (3 s), not at command_timeout",
    }


def slow_imap_login(srv):
    s = socket.create_connection((HOST, srv.ports["imap"]))
    s.recv(4096)
    s.settimeout(1)
    s.sendall(b"a LOGIN ")
    started = time.time()
    closed = None
    while time.time() - started < 90:
        try:
            s.sendall(b"x")
            data = s.recv(4096)
            if not data or b"BYE" in data:
                closed = time.time() - started
                break
        except socket.timeout:
            pass
        except OSError:
            closed = time.time() - started
            break
        time.sleep(1)
    s.close()
    return {
        "dropped_after_s": None if closed is None else round(closed, 1),
        "held": closed is not None and closed < 65,
        "budget": "dropped at the 60 s login deadline",
    }


ATTACKS = {
    "imap-prelogin": (imap_prelogin, {}),
    "auth-parallel": (auth_parallel, {}),
    "login-storm": (
        login_storm,
        {"limits": 'connections_per_ip = 250\nauth_failures = 100000\nauth_fail_delay = "1ms"'},
    ),
    "dup-rcpt": (dup_rcpt, {"limits": "message_size = \"10M\""}),
    "numbers": (numbers, {}),
    "distinct-ips": (None, {"level": "warn"}),
    "no-read": (no_read, {"limits": "command_timeout = \"5s\"\nerrors = 1000000"}),
    "ehlo-flood": (ehlo_flood, {}),
    "big-data": (big_data, {"limits": "message_size = \"60M\""}),
    "from-spoof": (from_spoof, {}),
    "start-drip": (start_drip, {"limits": "start_timeout = \"3s\"\nerrors = 1000000"}),
    "slow": (slow_imap_login, {}),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("attacks", nargs="*")
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "release/mailward"))
    ap.add_argument("--ips", type=int, default=1_000_000)
    a = ap.parse_args()
    names = a.attacks or [n for n in ATTACKS if n != "slow"]
    if not os.access(a.bin, os.X_OK):
        raise SystemExit(f"no binary at {a.bin}: cargo build --release -p mailward")
    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} nproc={os.cpu_count()} bin={a.bin}")
    failed = 0
    for name in names:
        fn, opts = ATTACKS[name]
        srv = Server(a.bin, **opts)
        try:
            if name == "distinct-ips":
                result = distinct_ips(srv, a.ips)
            else:
                result = fn(srv)
        except Exception as e:  # noqa: BLE001 - report and go on to the next attack
            result = {"held": False, "error": repr(e)}
        finally:
            srv.stop()
        failed += 0 if result.get("held") else 1
        print(json.dumps({"attack": name, **result}), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
