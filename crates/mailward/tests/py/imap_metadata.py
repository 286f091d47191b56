#!/usr/bin/env python3
"""METADATA (RFC 5464) scenarios against a running `mailward serve`. imaplib has no
METADATA helper: GETMETADATA and SETMETADATA without literals go through imaplib's own
command machinery (`_simple_command`, after registering the commands), and those with
literals (a multi-line value, a binary literal8) are written on imaplib's socket.

Usage: imap_metadata.py SCENARIO IMAP_PORT
Each scenario asserts what a client sees and prints one JSON line for the Rust test to
check. Exit status 0 = the scenario held.
"""
import imaplib
import json
import re
import socket
import sys
from testenv import connect, read_response

imaplib.Commands["GETMETADATA"] = ("AUTH", "SELECTED")
imaplib.Commands["SETMETADATA"] = ("AUTH", "SELECTED")


def getmeta(c, *args):
    """GETMETADATA through imaplib; returns (tagged status, METADATA data as imaplib
    gives it: bytes, or (head, literal) tuples)."""
    typ, dat = c._simple_command("GETMETADATA", *args)
    return typ, c._untagged_response(typ, dat, "METADATA")[1]


def setmeta(c, mailbox, pairs):
    typ, dat = c._simple_command("SETMETADATA", mailbox, pairs)
    return typ, dat


def raw(c, command, literals=(), expect="OK"):
    """Sends a command whose literals are synchronizing (waiting for `+`) or, written as
    `{n+}` / `~{n+}`, sent at once (LITERAL+). `command` holds `%s` where each literal's
    announcement and octets go. Returns (untagged responses, tagged line)."""
    tag = c._new_tag()
    pieces = command.split(b"%s")
    c.send(tag + b" " + pieces[0])
    for lit, rest in zip(literals, pieces[1:]):
        data, plus, eight = lit
        c.send(b"%s{%d%s}\r\n" % (b"~" if eight else b"", len(data), b"+" if plus else b""))
        if not plus:
            cont = c.readline()
            assert cont.startswith(b"+"), cont
        c.send(data + rest)
    c.send(b"\r\n")
    untagged = []
    while True:
        r = read_response(c)
        if r.startswith(tag + b" "):
            line = r[len(tag) + 1:].decode().rstrip("\r\n")
            assert line.startswith(expect), (command, untagged, line)
            return untagged, line
        untagged.append(r)


def annotations(c, mailbox, entries, options=b""):
    """GETMETADATA read raw: {entry: value bytes or None}, and the tagged line."""
    cmd = b"GETMETADATA " + (options + b" " if options else b"") + mailbox + b" " + entries
    untagged, tagged = raw(c, cmd)
    found = {}
    for r in untagged:
        if not r.startswith(b"* METADATA "):
            continue
        body = r[r.index(b"(") + 1: r.rindex(b")")]
        i = 0
        while i < len(body):
            m = re.compile(rb"(\S+) ").match(body, i)
            assert m, (body, i)
            name = m.group(1).decode()
            i = m.end()
            if body.startswith(b"NIL", i):
                found[name] = None
                i += 3
            elif body[i:i + 1] == b'"':
                m = re.compile(rb'"((?:[^"\\]|\\.)*)"').match(body, i)
                found[name] = re.sub(rb"\\(.)", rb"\1", m.group(1))
                i = m.end()
            else:
                m = re.compile(rb"~?\{(\d+)\}\r\n").match(body, i)
                n = int(m.group(1))
                found[name] = body[m.end(): m.end() + n]
                i = m.end() + n
            while body[i:i + 1] == b" ":
                i += 1
    return found, tagged


def server(p):
    out = {}
    c = connect(p)
    caps = c.capabilities
    assert "METADATA" in caps and "METADATA-SERVER" in caps, caps
    # Set two server entries at once; read them back through imaplib.
    typ, dat = setmeta(c, '""', '(/shared/comment "Shared comment" /private/vendor/test/x "1")')
    assert typ == "OK", dat
    typ, data = getmeta(c, '""', "(/shared/comment /private/vendor/test/x)")
    assert typ == "OK", data
    out["imaplib_get"] = [d.decode() for d in data]
    found, _ = annotations(c, b'""', b"(/shared/comment /shared/admin /private/vendor/test/x)")
    assert found == {
        "/shared/comment": b"Shared comment",
        "/shared/admin": b"mailto:postmaster@example.test",
        "/private/vendor/test/x": b"1",
    }, found
    # /shared/admin is read-only, and the failing command changed nothing (§4.3).
    _, line = raw(c, b'SETMETADATA "" (/shared/comment "new" /shared/admin "mailto:x@y")', expect="NO")
    out["admin_set"] = line
    found, _ = annotations(c, b'""', b"/shared/comment")
    assert found == {"/shared/comment": b"Shared comment"}, found
    # NIL removes; the entry then reads NIL.
    typ, dat = setmeta(c, '""', "(/shared/comment NIL)")
    assert typ == "OK", dat
    found, _ = annotations(c, b'""', b"/shared/comment")
    assert found == {"/shared/comment": None}, found
    # Binary value with NUL through literal8 (LITERAL+), read back as literal8.
    blob = b"\x00\x01binary\xff\r\n\x00"
    raw(c, b'SETMETADATA "" (/private/blob %s)', [(blob, True, True)])
    untagged, _ = raw(c, b'GETMETADATA "" /private/blob')
    assert untagged == [b'* METADATA "" (/private/blob ~{%d}\r\n%s)\r\n' % (len(blob), blob)], untagged
    # Invalid entry names are BAD; a mailbox that does not exist is NO.
    out["bad"] = [
        raw(c, b'SETMETADATA "" (/private/a*b "x")', expect="BAD")[1],
        raw(c, b'SETMETADATA "" (/private/x/ "x")', expect="BAD")[1],
        raw(c, b'SETMETADATA "" (/unknown/x "x")', expect="BAD")[1],
        raw(c, b'GETMETADATA (DEPTH 5) "" /private/x', expect="BAD")[1],
    ]
    out["nonexistent"] = raw(c, b'GETMETADATA Nowhere /private/comment', expect="NO")[1]
    c.logout()
    print(json.dumps(out))


def mailbox(p):
    out = {}
    c = connect(p)
    assert c.create("Projects")[0] == "OK"
    # A multi-line value in a synchronizing literal (RFC 5464 §4.3 example).
    comment = b"My new comment across\r\ntwo lines."
    raw(c, b"SETMETADATA Projects (/private/comment %s /shared/comment \"for you\")",
        [(comment, False, False)])
    for n, v in [("small", "SMALLER 5000"), ("boss", 'FROM "boss@example.com"'), ("boss/deep", "x")]:
        typ, dat = setmeta(c, "Projects", '(/private/filters/values/%s "%s")' % (n, v.replace('"', '\\"')))
        assert typ == "OK", dat
    found, _ = annotations(c, b"Projects", b"(/private/comment /shared/comment)")
    assert found == {"/private/comment": comment, "/shared/comment": b"for you"}, found
    # DEPTH 1: children, not grandchildren (§4.2.2).
    found, _ = annotations(c, b"Projects", b"(/private/filters/values)", b"(DEPTH 1)")
    out["depth1"] = sorted(found)
    found, _ = annotations(c, b"Projects", b"/private", b"(DEPTH infinity)")
    out["depth_infinity"] = sorted(found)
    # MAXSIZE: the long value is left out, its size in LONGENTRIES (§4.2.1).
    long = b"L" * 2199
    raw(c, b"SETMETADATA Projects (/shared/comment %s)", [(long, True, False)])
    found, tagged = annotations(c, b"Projects", b"(/shared/comment /private/comment)", b"(MAXSIZE 1024)")
    assert found == {"/private/comment": comment}, found
    out["maxsize"] = tagged
    # RENAME takes the annotations along; DELETE removes them with the mailbox.
    assert c.rename("Projects", "Archive/Projects")[0] == "OK"
    found, _ = annotations(c, b"Archive/Projects", b"/private/comment")
    assert found == {"/private/comment": comment}, found
    assert c.delete("Archive/Projects")[0] == "OK"
    assert c.create("Archive/Projects")[0] == "OK"
    found, _ = annotations(c, b"Archive/Projects", b"/private", b"(DEPTH infinity)")
    out["after_delete"] = found
    # A value over the 64 KiB limit: NO [METADATA MAXSIZE 65536], nothing set.
    big = b"B" * (64 * 1024 + 1)
    out["too_big"] = raw(c, b"SETMETADATA INBOX (/private/ok \"x\" /private/big %s)",
                         [(big, False, False)], expect="NO")[1]
    found, _ = annotations(c, b"INBOX", b"/private/ok")
    assert found == {"/private/ok": None}, found
    c.logout()
    print(json.dumps(out))


def specialuse(p):
    out = {}
    c = connect(p)
    found, _ = annotations(c, b"Sent", b"/private/specialuse")
    out["sent"] = found["/private/specialuse"].decode()
    assert c.create("Receipts")[0] == "OK"
    typ, dat = setmeta(c, "Receipts", '(/private/specialuse "\\\\Archive")')
    assert typ == "OK", dat
    typ, data = c.list('""', "Receipts")
    out["list"] = [d.decode() for d in data]
    out["useattr"] = raw(c, b'SETMETADATA Receipts (/private/specialuse "\\\\Bogus")', expect="NO")[1]
    typ, dat = setmeta(c, "Receipts", "(/private/specialuse NIL)")
    assert typ == "OK", dat
    untagged, _ = raw(c, b'LIST "" Receipts RETURN (SPECIAL-USE)')
    out["list_after"] = [u.decode().rstrip("\r\n") for u in untagged]
    c.logout()
    print(json.dumps(out))


if __name__ == "__main__":
    scenario = sys.argv[1]
    ports = {"imap": int(sys.argv[2])}
    socket.setdefaulttimeout(20)
    {"server": server, "mailbox": mailbox, "specialuse": specialuse}[scenario](ports)
