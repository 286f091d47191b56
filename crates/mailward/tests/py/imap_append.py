#!/usr/bin/env python3
"""APPEND scenarios against a running `mailward serve`: MULTIAPPEND (RFC 3502), CATENATE
(RFC 4469) and BINARY (RFC 3516), with Python's imaplib for the connection, FETCH and
SELECT, and raw command bytes for what imaplib cannot send (several literals in one
command, literal8 `~{n+}`, a message with bare LF line ends).

Usage: imap_append.py SCENARIO IMAP_PORT POP3_PORT
Each scenario asserts what a client sees and prints one JSON line for the Rust test to
check against the Maildir. Exit status 0 = the scenario held.
"""
import imaplib
import json
import poplib
import re
import sys
from testenv import HOST, USER, PASSWORD, ctx


def connect(p):
    c = imaplib.IMAP4(HOST, p["imap"], timeout=20)
    c.starttls(ctx())
    c.login(USER, PASSWORD)
    return c


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def raw(c, parts, expect="OK"):
    """Sends one command made of `parts` (bytes; literals as non-synchronizing `{n+}`
    built by `lit`), returns (untagged lines, tagged line without the tag)."""
    tag = c._new_tag().decode()
    c.send(tag.encode() + b" " + b"".join(parts) + b"\r\n")
    lines = []
    while True:
        line = c.readline()
        if not line:
            raise AssertionError("connection closed")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if text.startswith(tag + " "):
            status = text[len(tag) + 1:]
            assert status.startswith(expect), (parts, lines, status)
            return lines, status
        lines.append(text)


def lit(data, binary=False):
    return (b"~" if binary else b"") + b"{%d+}\r\n" % len(data) + data


def appenduid(status):
    m = re.search(r"\[APPENDUID (\d+) ([0-9:,]+)\]", status)
    assert m, status
    return int(m.group(1)), m.group(2)


def count(c, mailbox):
    data = ok(c.status(mailbox, "(MESSAGES)"))
    return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))


def fetch_bodies(c, spec):
    return [d[1] for d in ok(c.fetch(spec, "(BODY.PEEK[])")) if isinstance(d, tuple)]


def multiappend(p):
    c = connect(p)
    caps = [x.upper() for x in c.capabilities]
    for cap in ["MULTIAPPEND", "CATENATE", "BINARY"]:
        assert cap in caps, (cap, caps)
    m1 = b"Subject: one\r\n\r\nfirst\r\n"
    m2 = b"Subject: two\r\n\r\nsecond\r\n"
    _, st = raw(c, [b"APPEND Sent (\\Seen) ", lit(m1), b" (\\Flagged) \"01-Jan-2021 12:00:00 +0200\" ", lit(m2)])
    _, uids = appenduid(st)
    ok(c.select("Sent"))
    bodies = fetch_bodies(c, "1:*")
    assert bodies == [m1, m2], bodies
    flags = ok(c.fetch("1:2", "(FLAGS INTERNALDATE)"))
    assert b"\\Seen" in flags[0] and b"\\Flagged" in flags[1], flags
    # The same instant (the store keeps INTERNALDATE in UTC).
    assert b"01-Jan-2021 10:00:00 +0000" in flags[1], flags
    # All or nothing: a bad date on the last message refuses the whole command, and the
    # quota (20K) refuses two messages that fit alone.
    raw(c, [b"APPEND Sent ", lit(m1), b" \"31-Feb-2021 99:00:00 +0200\" ", lit(m2)], expect="BAD")
    big = b"Subject: big\r\n\r\n" + b"x" * 12000 + b"\r\n"
    _, over = raw(c, [b"APPEND Sent ", lit(big), b" ", lit(big)], expect="NO")
    assert count(c, "Sent") == 2, count(c, "Sent")
    c.logout()
    print(json.dumps({"uids": uids, "over": over}))


def catenate(p):
    c = connect(p)
    base = (b"From: a@example.test\r\nSubject: base\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
            b"Content-Type: text/plain\r\n\r\nkeep me\r\n--zz\r\n"
            b"Content-Type: application/pdf\r\n\r\nJVBERi0x\r\n--zz--\r\n")
    st = ok(c.append("Drafts", "", None, base))
    validity, uid = appenduid(st[0].decode())
    url = f"/Drafts;UIDVALIDITY={validity}/;UID={uid}".encode()
    # The draft without its attachment: header, then part 1 with its MIME header.
    _, st = raw(c, [
        b"APPEND Drafts (\\Draft) CATENATE (URL \"", url, b"/;SECTION=HEADER\" TEXT ",
        lit(b"--zz\r\n"), b" URL \"", url, b"/;SECTION=1.MIME\" URL \"", url,
        b"/;SECTION=1\" TEXT ", lit(b"\r\n--zz--\r\n"), b")",
    ])
    _, new_uid = appenduid(st)
    ok(c.select("Drafts"))
    built = [d[1] for d in ok(c.uid("FETCH", new_uid, "(BODY.PEEK[])")) if isinstance(d, tuple)]
    # A URL that names nothing: NO [BADURL], nothing stored.
    _, bad = raw(c, [b"APPEND Drafts CATENATE (URL \"", url, b"/;SECTION=7\")"], expect="NO")
    _, gone = raw(c, [b"APPEND Drafts CATENATE (URL \"/Drafts;UIDVALIDITY=1/;UID=1\")"], expect="NO")
    n = count(c, "Drafts")
    c.logout()
    print(json.dumps({
        "built": built[0].decode(), "bad": bad, "gone": gone, "count": n,
    }))


BINARY_MESSAGE = (b"From: user@domain.org\r\nSubject: binary\r\nMime-Version: 1.0\r\n"
                  b"Content-Type: application/octet-stream\r\n"
                  b"Content-Transfer-Encoding: binary\r\n\r\n\x00-\xe4\n\r\n\n")


def binary(p):
    c = connect(p)
    _, st = raw(c, [b"APPEND INBOX ", lit(BINARY_MESSAGE, binary=True)])
    ok(c.select("INBOX"))
    data = ok(c.fetch("1", "(BINARY.SIZE[1] BINARY.PEEK[1])"))
    size = int(re.search(rb"BINARY.SIZE\[1\] (\d+)", data[0][0]).group(1))
    part = data[0][1]
    # RFC 3516 §4.4: no data lost.
    assert part == b"\x00-\xe4\n\r\n\n", part
    assert size == len(part), (size, part)
    whole = fetch_bodies(c, "1")[0]
    rfc822_size = int(re.search(rb"RFC822.SIZE (\d+)", ok(c.fetch("1", "(RFC822.SIZE)"))[0]).group(1))
    assert rfc822_size == len(whole), (rfc822_size, len(whole))
    assert b"\x00" not in whole and b"Content-Transfer-Encoding: base64" in whole, whole
    c.logout()
    # POP3 serves the same octets.
    pop = poplib.POP3(HOST, p["pop3"], timeout=20)
    pop.stls(ctx())
    pop.user(USER)
    pop.pass_(PASSWORD)
    resp, lines, octets = pop.retr(1)
    popped = b"\r\n".join(lines) + b"\r\n"
    pop.quit()
    assert popped == whole, (popped, whole)
    print(json.dumps({"body": whole.hex(), "binary_size": size, "rfc822_size": rfc822_size}))


def bare_lf(p):
    """A message appended with bare LF line ends (imaplib's own append would fix them)."""
    c = connect(p)
    message = b"Subject: lf only\n\nline one\nline two\n"
    c.literal = message
    ok(c._simple_command("APPEND", "Archive"))
    ok(c.select("Archive"))
    size = int(re.search(rb"RFC822.SIZE (\d+)", ok(c.fetch("1", "(RFC822.SIZE)"))[0]).group(1))
    whole = fetch_bodies(c, "1")[0]
    c.logout()
    print(json.dumps({"size": size, "body": whole.decode()}))


if __name__ == "__main__":
    scenario = sys.argv[1]
    p = {"imap": int(sys.argv[2]), "pop3": int(sys.argv[3])}
    globals()[scenario](p)
