#!/usr/bin/env python3
"""NOTIFY (RFC 5465) scenario against a running `mailward serve`: one imaplib connection
sets NOTIFY and waits (in IDLE, then between commands without any command), while another
connection appends, flags, creates, renames, subscribes and deletes, and SMTP delivers.
imaplib does not know NOTIFY or IDLE: those go as raw command lines.

Usage: imap_notify.py SCENARIO SMTP_PORT IMAP_PORT
Prints one JSON object with the untagged lines seen, for the Rust test to check.
"""
import json
import re
import socket
import sys
import time
from testenv import connect, exchange, line_of, send_mail


def raw(c, command, expect="OK"):
    """One command line; its untagged lines once the tagged reply (`expect`) arrives, and
    that reply without the tag."""
    _, tagged, lines = exchange(c, command, expect)
    return lines, tagged


def until(c, pattern, seen):
    """Reads untagged lines into `seen` until one matches `pattern`; returns it."""
    while True:
        line = line_of(c)
        seen.append(line)
        if re.search(pattern, line):
            return line


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


MESSAGE = b"From: a@b.test\r\nSubject: appended\r\n\r\nhello\r\n"


def notify(p):
    out = {}
    a = connect(p)
    b = connect(p)
    raw(a, "SELECT INBOX")
    # Errors first: an unsupported event, a rule of RFC 5465 §5, a syntax error.
    _, out["badevent"] = raw(
        a, "NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))", expect="NO"
    )
    _, out["bad_pairing"] = raw(a, "NOTIFY SET (selected (MessageNew))", expect="BAD")
    _, out["bad_syntax"] = raw(a, "NOTIFY SET (personal ())", expect="BAD")
    out["initial"], _ = raw(
        a,
        "NOTIFY SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) "
        "(personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))",
    )

    # In IDLE: every change by the other session (and a delivery) arrives at once.
    tag = a._new_tag().decode()
    a.send(f"{tag} IDLE\r\n".encode())
    assert line_of(a).startswith("+"), "IDLE continuation"
    idle = []
    ok(b.append("Archive", None, None, MESSAGE))
    out["append"] = until(a, r'^\* STATUS "Archive"', idle)
    ok(b.create("Projects"))
    out["create"] = until(a, r"^\* LIST .*Projects", idle)
    ok(b.rename("Projects", "Work"))
    out["rename"] = until(a, r"^\* LIST .*Work", idle)
    ok(b.subscribe("Work"))
    out["subscribe"] = until(a, r"^\* LIST .*Work", idle)
    ok(b.select("Archive"))
    ok(b.store("1", "+FLAGS", "(\\Flagged)"))
    out["flag"] = until(a, r'^\* STATUS "Archive"', idle)
    ok(b.close())
    ok(b.delete("Work"))
    out["delete"] = until(a, r"^\* LIST .*Work", idle)
    send_mail(p["smtp"], "delivered while idling")
    out["exists"] = until(a, r"^\* \d+ EXISTS", idle)
    out["new_fetch"] = until(a, r"^\* \d+ FETCH", idle)
    a.send(b"DONE\r\n")
    until(a, "^" + re.escape(tag) + " OK", idle)
    out["idle"] = idle

    # Between commands: no command in progress, the STATUS still comes.
    ok(b.append("Archive", None, None, MESSAGE))
    between = []
    out["between"] = until(a, r'^\* STATUS "Archive"', between)

    # NOTIFY NONE: nothing more.
    raw(a, "NOTIFY NONE")
    ok(b.append("Archive", None, None, MESSAGE))
    time.sleep(0.3)
    out["after_none"], _ = raw(a, "NOOP")
    a.logout()
    b.logout()
    print(json.dumps(out))


if __name__ == "__main__":
    scenario = sys.argv[1]
    ports = {"smtp": int(sys.argv[2]), "imap": int(sys.argv[3])}
    socket.setdefaulttimeout(20)
    {"notify": notify}[scenario](ports)
