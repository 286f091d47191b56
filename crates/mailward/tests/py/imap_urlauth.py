#!/usr/bin/env python3
"""URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524) against a running `mailward serve`:
GENURLAUTH, URLFETCH and RESETKEY written on imaplib's connection (imaplib has no helper
for them) and their answers read raw.

Usage: imap_urlauth.py SCENARIO IMAP_PORT
Each scenario asserts what a client sees and prints one JSON line for the Rust test to
check. Exit status 0 = the scenario held.
"""
import json
import re
import socket
import sys
from testenv import connect, read_response

MESSAGE = (
    b"From: bob@example.test\r\nSubject: urlauth\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"AAEC/w==\r\n--b--\r\n"
)


def raw(c, command):
    """Sends one command; returns (untagged responses, tagged line without the tag)."""
    tag = c._new_tag()
    c.send(tag + b" " + command + b"\r\n")
    untagged = []
    while True:
        r = read_response(c)
        if r.startswith(tag + b" "):
            return untagged, r[len(tag) + 1:].decode().rstrip("\r\n")
        untagged.append(r)


def genurlauth(c, rump):
    untagged, tagged = raw(c, b'GENURLAUTH "' + rump + b'" INTERNAL')
    if not tagged.startswith("OK"):
        return None, tagged
    (line,) = [u for u in untagged if u.startswith(b"* GENURLAUTH ")]
    return re.match(rb'\* GENURLAUTH "([^"]*)"', line).group(1), tagged


def urlfetch(c, arg):
    """The data part of `* URLFETCH url data` (after the URL), as bytes."""
    untagged, tagged = raw(c, b"URLFETCH " + arg)
    assert tagged.startswith("OK"), tagged
    (line,) = [u for u in untagged if u.startswith(b"* URLFETCH ")]
    m = re.match(rb'\* URLFETCH "[^"]*" ', line)
    # Only the response's own CRLF: a literal at the end keeps its octets.
    return line[m.end():-2]


def literal_of(data):
    m = re.match(rb"~?\{(\d+)\}\r\n", data)
    assert m, data
    return data[m.end(): m.end() + int(m.group(1))]


def urlauth(p):
    out = {}
    c = connect(p)
    assert "URLAUTH" in c.capabilities and "URLAUTH=BINARY" in c.capabilities, c.capabilities
    typ, dat = c.append("INBOX", None, None, MESSAGE)
    assert typ == "OK", dat
    uid = int(re.search(rb"APPENDUID \d+ (\d+)", dat[0]).group(1))
    base = b"imap://bob%%40example.test@example.test/INBOX/;uid=%d" % uid

    url, _ = genurlauth(c, base + b";urlauth=user+bob@example.test")
    out["token"] = url.rsplit(b":", 1)[1].decode()
    whole = literal_of(urlfetch(c, b"\"" + url + b"\""))
    out["whole"] = whole == MESSAGE or whole.decode(errors="replace")
    # The token is bound to the URL: another uid with the same token gives nothing.
    forged = url.replace(b";uid=%d" % uid, b";uid=%d" % (uid + 1))
    out["forged"] = urlfetch(c, b'"' + forged + b'"').decode()

    part, _ = genurlauth(c, base + b"/;section=2;urlauth=anonymous")
    got = urlfetch(c, b'("' + part + b'" BINARY BODYPARTSTRUCTURE)')
    out["binary_structure"] = got[: got.index(b" BINARY ")].decode()
    out["binary"] = list(literal_of(got[got.index(b" BINARY ") + 8:]))

    _, out["other_user"] = genurlauth(
        c, b"imap://alice%40example.test@example.test/INBOX/;uid=1;urlauth=anonymous")
    _, out["bad_syntax"] = raw(c, b"GENURLAUTH")

    # RESETKEY invalidates every URL of the mailbox.
    _, tagged = raw(c, b"RESETKEY INBOX")
    assert tagged.startswith("OK"), tagged
    out["after_reset"] = urlfetch(c, b'"' + url + b'"').decode()
    c.logout()
    print(json.dumps(out))


if __name__ == "__main__":
    scenario = sys.argv[1]
    ports = {"imap": int(sys.argv[2])}
    socket.setdefaulttimeout(20)
    {"urlauth": urlauth}[scenario](ports)
