#!/usr/bin/env python3
"""CONTEXT=SEARCH / CONTEXT=SORT (RFC 5267 §4) and PARTIAL (RFC 9394) scenarios against a
running `mailward serve`: one imaplib session keeps UPDATE contexts and idles while a
second session flags, appends and expunges. imaplib does not know ESEARCH, so those
commands go as raw lines.

Usage: imap_context.py SCENARIO SMTP_PORT IMAP_PORT
Each scenario asserts what a client sees and prints one JSON line with the raw untagged
lines, for the Rust test to check. Exit status 0 = the scenario held.
"""
import json
import re
import socket
import sys
from testenv import connect, exchange, send_mail


def raw(c, command, expect="OK"):
    """One command line; (tag, untagged lines) once the tagged reply (`expect`) arrives."""
    tag, _, lines = exchange(c, command, expect)
    return tag, lines


def read_until(c, pattern):
    """The lines read up to and with the first that matches `pattern`."""
    lines = []
    while True:
        line = c.readline()
        if not line:
            raise AssertionError(("connection closed", lines))
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if re.search(pattern, line):
            return lines


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def deliver(p):
    for s in ["first", "second", "third"]:
        send_mail(p["smtp"], s)
    print(json.dumps({"sent": 3}))


def contexts(p):
    out = {}
    a = connect(p)
    out["caps"] = [x.upper() for x in ok(a.capability())[0].decode().split()]
    raw(a, "SELECT INBOX")
    _, found = raw(a, "UID SEARCH ALL")
    uids = [int(u) for u in found[0].split()[2:]]
    assert len(uids) == 3, found
    out["uids"] = uids
    first, second, third = uids
    ftag, out["flagged_count"] = raw(a, "UID SEARCH RETURN (UPDATE COUNT) FLAGGED")
    stag, out["unseen_sorted"] = raw(a, "UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 UNSEEN")
    _, out["partial"] = raw(a, "UID SEARCH RETURN (PARTIAL -1:-2) ALL")
    _, out["sort_partial"] = raw(a, "SORT RETURN (PARTIAL 2:3) (SUBJECT) UTF-8 ALL")
    out["tags"] = [ftag, stag]
    # The contexts follow the other session's changes while this one idles.
    idle = a._new_tag().decode()
    a.send(f"{idle} IDLE\r\n".encode())
    assert a.readline().startswith(b"+"), "IDLE continuation"
    b = connect(p)
    ok(b.select("INBOX"))
    ok(b.uid("STORE", str(second), "+FLAGS", "(\\Flagged)"))
    out["flag"] = read_until(a, f'^\\* ESEARCH \\(TAG "{ftag}"\\)')
    msg = b"From: bob@example.test\r\nSubject: appended\r\n\r\nA draft.\r\n"
    ok(b.append("INBOX", "(\\Flagged)", None, msg))
    out["append"] = read_until(a, f'^\\* ESEARCH \\(TAG "{stag}"\\)')
    ok(b.uid("STORE", str(first), "+FLAGS", "(\\Seen)"))
    out["seen"] = read_until(a, f'^\\* ESEARCH \\(TAG "{stag}"\\)')
    ok(b.uid("STORE", str(second), "+FLAGS", "(\\Deleted)"))
    ok(b.expunge())
    out["expunge"] = read_until(a, r"^\* \d+ EXPUNGE")
    a.send(b"DONE\r\n")
    read_until(a, "^" + re.escape(idle) + " OK")
    # No more updates once cancelled.
    raw(a, f'CANCELUPDATE "{ftag}" "{stag}"')
    ok(b.uid("STORE", str(third), "+FLAGS", "(\\Flagged \\Seen)"))
    b.logout()
    _, out["after_cancel"] = raw(a, "NOOP")
    a.logout()
    print(json.dumps(out))


if __name__ == "__main__":
    scenario = sys.argv[1]
    ports = {"smtp": int(sys.argv[2]), "imap": int(sys.argv[3])}
    socket.setdefaulttimeout(20)
    {"deliver": deliver, "contexts": contexts}[scenario](ports)
