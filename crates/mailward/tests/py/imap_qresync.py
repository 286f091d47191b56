#!/usr/bin/env python3
"""QRESYNC (RFC 7162 §3.2) scenarios against a running `mailward serve`, with Python's
imaplib for the connection (STARTTLS, LOGIN) and raw command lines for what imaplib does
not know (ENABLE QRESYNC, SELECT ... (QRESYNC ...), VANISHED).

Usage: imap_qresync.py SCENARIO SMTP_PORT IMAP_PORT
Each scenario asserts what a client sees and prints one JSON line with the raw untagged
lines, for the Rust test to check. Exit status 0 = the scenario held.
"""
import json
import re
import socket
import sys
from testenv import connect, exchange, send_mail

# The tagged reply (without the tag) of the last run of each raw command.
TAGGED = {}


def raw(c, command, expect="OK"):
    """One command line; its untagged lines once the tagged reply (`expect`) arrives (the
    reply is kept in TAGGED)."""
    _, tagged, lines = exchange(c, command, expect)
    TAGGED[command] = tagged
    return lines


def code(lines, name):
    """The number of the `* OK [NAME n]` response code."""
    for l in lines:
        m = re.match(r"\* OK \[" + name + r" (\d+)\]", l)
        if m:
            return int(m.group(1))
    raise AssertionError((name, lines))


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def read_until(c, pattern):
    while True:
        line = c.readline()
        if not line:
            raise AssertionError("connection closed")
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if re.search(pattern, line):
            return line


def deliver(p):
    for s in ["first", "second", "third"]:
        send_mail(p["smtp"], s)
    print(json.dumps({"sent": 3}))


def resync(p):
    out = {}
    # Session 1: learns UIDVALIDITY, HIGHESTMODSEQ and the UIDs, then goes away.
    a = connect(p)
    enabled = raw(a, "ENABLE QRESYNC")
    assert enabled == ["* ENABLED QRESYNC"], enabled
    sel = raw(a, "SELECT INBOX")
    out["uidvalidity"] = code(sel, "UIDVALIDITY")
    out["modseq"] = code(sel, "HIGHESTMODSEQ")
    uids = raw(a, "UID SEARCH ALL")
    out["uids"] = [int(u) for u in uids[0].split()[2:]]
    assert len(out["uids"]) == 3, uids
    a.logout()
    first, second, third = out["uids"]
    # Session 2 (no QRESYNC): flags the second message, expunges the first.
    b = connect(p)
    ok(b.select("INBOX"))
    ok(b.uid("STORE", str(second), "+FLAGS", "(\\Flagged)"))
    ok(b.uid("STORE", str(first), "+FLAGS", "(\\Deleted)"))
    ok(b.expunge())
    b.logout()
    # Session 3: resynchronizes with what session 1 knew.
    c = connect(p)
    raw(c, "ENABLE QRESYNC")
    out["select"] = raw(c, f"SELECT INBOX (QRESYNC ({out['uidvalidity']} {out['modseq']}))")
    out["known_third"] = raw(
        c, f"EXAMINE INBOX (QRESYNC ({out['uidvalidity']} {out['modseq']} {third}))"
    )
    out["other_uidvalidity"] = raw(
        c, f"SELECT INBOX (QRESYNC ({out['uidvalidity'] + 1} {out['modseq']}))"
    )
    out["uid_fetch"] = raw(c, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {out['modseq']} VANISHED)")
    raw(c, "UID FETCH 1:* (FLAGS) (VANISHED)", expect="BAD")
    c.logout()
    # Without ENABLE QRESYNC the parameter is a BAD.
    d = connect(p)
    raw(d, f"SELECT INBOX (QRESYNC ({out['uidvalidity']} {out['modseq']}))", expect="BAD")
    d.logout()
    print(json.dumps(out))


def live(p):
    out = {}
    a = connect(p)
    raw(a, "ENABLE QRESYNC")
    raw(a, "SELECT INBOX")
    uids = [int(u) for u in raw(a, "UID SEARCH ALL")[0].split()[2:]]
    assert len(uids) == 2, uids
    out["uids"] = uids
    # Another session expunges the last message while this one idles.
    tag = a._new_tag().decode()
    a.send(f"{tag} IDLE\r\n".encode())
    assert a.readline().startswith(b"+"), "IDLE continuation"
    b = connect(p)
    assert b.select("INBOX")[0] == "OK"
    assert b.uid("STORE", str(uids[1]), "+FLAGS", "(\\Deleted)")[0] == "OK"
    typ, data = b.expunge()
    assert typ == "OK", data
    out["plain_expunge"] = [x.decode() for x in data if x]
    b.logout()
    out["idle"] = read_until(a, r"^\* (VANISHED|\d+ EXPUNGE)")
    a.send(b"DONE\r\n")
    read_until(a, "^" + re.escape(tag) + " OK")
    # Its own EXPUNGE is reported as VANISHED too.
    raw(a, f"UID STORE {uids[0]} +FLAGS.SILENT (\\Deleted)")
    out["own_expunge"] = raw(a, "EXPUNGE")
    out["own_expunge_ok"] = TAGGED["EXPUNGE"]
    out["exists"] = raw(a, "NOOP")
    a.logout()
    print(json.dumps(out))


if __name__ == "__main__":
    scenario = sys.argv[1]
    ports = {"smtp": int(sys.argv[2]), "imap": int(sys.argv[3])}
    socket.setdefaulttimeout(20)
    {"deliver": deliver, "resync": resync, "live": live}[scenario](ports)
