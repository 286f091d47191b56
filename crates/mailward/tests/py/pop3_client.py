#!/usr/bin/env python3
"""POP3 scenarios against a running `mailward serve`, with Python's poplib (and smtplib to
deliver the mail first).

Usage: pop3_client.py SCENARIO SMTP_PORT POP3_PORT POP3S_PORT
Each scenario asserts what a client sees and prints one JSON line with what the Rust test
checks against the Maildir and the log. Exit status 0 = the scenario held.
"""
import base64
import json
import poplib
import smtplib
import socket
import ssl
import sys
import time
from testenv import HOST, USER, PASSWORD, ctx


def messages():
    """Three messages: a plain one, one whose lines start with dots, a larger one."""
    head = "From: alice@remote.test\r\nTo: bob@example.test\r\n"
    return [
        head + "Subject: one\r\nMessage-ID: <pop-1@remote.test>\r\n\r\nFirst message.\r\n",
        head + "Subject: dots\r\nMessage-ID: <pop-2@remote.test>\r\n\r\n"
        ".leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n",
        head + "Subject: big\r\nMessage-ID: <pop-3@remote.test>\r\n\r\n"
        + "".join(f"line {i:05} " + "x" * 60 + "\r\n" for i in range(1000)),
    ]


def deliver(p):
    s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
    s.ehlo("client.remote.test")
    for m in messages():
        s.sendmail("alice@remote.test", [USER], m)
    s.quit()
    print(json.dumps({"sent": len(messages())}))


def stls_session(p, login=True):
    c = poplib.POP3(HOST, p["pop3"], timeout=20)
    c.stls(ctx())
    if login:
        c.user(USER)
        c.pass_(PASSWORD)
    return c


def pop3s_session(p):
    return poplib.POP3_SSL(HOST, p["pop3s"], timeout=20, context=ctx())


def with_retry(open_session):
    """A session just closed may still hold the maildrop for a moment: retry [IN-USE]."""
    deadline = time.time() + 10
    while True:
        try:
            return open_session()
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0] or time.time() > deadline:
                raise
            time.sleep(0.1)


def auth_plain(c, continuation=False):
    token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    if continuation:
        c._putcmd("AUTH PLAIN")
        line, _ = c._getline()
        assert line == b"+ ", line
        c._putcmd(token)
        return c._getresp()
    return c._shortcmd("AUTH PLAIN " + token)


def read_all(p):
    """STLS + USER/PASS, then pop3s + AUTH PLAIN (both forms): sizes, RETR, TOP, UIDL."""
    plain = poplib.POP3(HOST, p["pop3"], timeout=20)
    caps = plain.capa()
    assert "STLS" in caps, caps
    for cap in ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE", "IMPLEMENTATION"]:
        assert cap in caps, (cap, caps)
    plain.stls(ctx())
    caps = plain.capa()
    assert "STLS" not in caps and "USER" in caps and caps.get("SASL") == ["PLAIN"], caps
    plain.user(USER)
    resp = plain.pass_(PASSWORD)
    assert resp.startswith(b"+OK"), resp
    count, total = plain.stat()
    _, listing, _ = plain.list()
    sizes = [int(l.split()[1]) for l in listing]
    assert sum(sizes) == total and len(sizes) == count, (sizes, total, count)
    retrieved = []
    for n in range(1, count + 1):
        _, lines, octets = plain.retr(n)
        data = b"".join(l + b"\r\n" for l in lines)
        # LIST's size is the exact octet count of the message RETR sends (un-stuffed).
        assert octets == sizes[n - 1] == len(data), (n, octets, sizes[n - 1], len(data))
        retrieved.append(data.decode("latin-1"))
    _, top_lines, _ = plain.top(2, 1)
    _, uidl1, _ = plain.uidl()
    assert plain.uidl(1).startswith(b"+OK 1 "), plain.uidl(1)
    plain.quit()

    tls = pop3s_session(p)
    assert "STLS" not in tls.capa()
    resp = auth_plain(tls)
    assert resp.startswith(b"+OK"), resp
    _, uidl2, _ = tls.uidl()
    assert tls.stat() == (count, total)
    tls.quit()

    tls = with_retry(lambda: pop3s_session(p))
    resp = auth_plain(tls, continuation=True)
    assert resp.startswith(b"+OK"), resp
    _, uidl3, _ = tls.uidl()
    tls.quit()
    assert uidl1 == uidl2 == uidl3, (uidl1, uidl2, uidl3)
    print(json.dumps({
        "count": count,
        "total": total,
        "sizes": sizes,
        "retrieved": retrieved,
        "top": [l.decode() for l in top_lines],
        "uidl": [l.decode() for l in uidl1],
    }))


def dele(p):
    """DELE + RSET keeps, DELE + QUIT removes, a dropped connection removes nothing."""
    c = stls_session(p)
    count, _ = c.stat()
    _, uidl_before, _ = c.uidl()
    c.dele(1)
    c.dele(2)
    try:
        c.retr(1)
        raise AssertionError("RETR of a deleted message answered +OK")
    except poplib.error_proto:
        pass
    c.rset()
    assert c.stat()[0] == count
    c.quit()

    c = with_retry(lambda: stls_session(p))
    assert c.stat()[0] == count, "RSET kept everything"
    c.dele(1)
    resp = c.quit()
    assert resp.startswith(b"+OK"), resp

    c = with_retry(lambda: stls_session(p))
    after, _ = c.stat()
    assert after == count - 1, (after, count)
    _, uidl_after, _ = c.uidl()
    gone = uidl_before[0].split()[1]
    assert all(l.split()[1] != gone for l in uidl_after), (gone, uidl_after)
    # The rest keep their unique-ids, renumbered from 1.
    assert [l.split()[1] for l in uidl_after] == [l.split()[1] for l in uidl_before[1:]]
    # Mark one, then drop the connection without QUIT.
    c.dele(1)
    c.file.close()
    c.sock.shutdown(socket.SHUT_RDWR)
    c.sock.close()
    print(json.dumps({"before": count, "after": after, "gone": gone.decode()}))


def stat(p):
    c = with_retry(lambda: stls_session(p))
    count, total = c.stat()
    c.quit()
    print(json.dumps({"count": count, "total": total}))


def wrong_password(p):
    c = stls_session(p, login=False)
    c.user(USER)
    started = time.time()
    try:
        c.pass_("not-the-password")
        raise AssertionError("wrong password accepted")
    except poplib.error_proto as e:
        reply = e.args[0].decode()
    waited = time.time() - started
    assert reply.startswith("-ERR [AUTH]"), reply
    # The session goes on: the right password works now.
    c.user(USER)
    assert c.pass_(PASSWORD).startswith(b"+OK")
    c.quit()
    print(json.dumps({"reply": reply, "waited": waited}))


def loopback_plain(p):
    """Without TLS from loopback: allowed (plaintext_auth_on_loopback) or refused."""
    c = poplib.POP3(HOST, p["pop3"], timeout=20)
    caps = c.capa()
    try:
        c.user(USER)
        c.pass_(PASSWORD)
        outcome = "logged-in"
        c.quit()
    except poplib.error_proto as e:
        outcome = e.args[0].decode()
        c.stls(ctx())
        c.user(USER)
        assert c.pass_(PASSWORD).startswith(b"+OK")
        c.quit()
    print(json.dumps({"outcome": outcome, "user_offered": "USER" in caps}))


def main():
    scenario = sys.argv[1]
    ports = {"smtp": int(sys.argv[2]), "pop3": int(sys.argv[3]), "pop3s": int(sys.argv[4])}
    globals()[scenario](ports)


if __name__ == "__main__":
    main()
