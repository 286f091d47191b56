#!/usr/bin/env python3
"""SMTP scenarios against a running `mailward serve`, with Python's smtplib and raw sockets.

Usage: scenarios.py SCENARIO SMTP_PORT SUBMISSION_PORT SUBMISSIONS_PORT
Each scenario asserts what a client sees and prints one JSON line with what the Rust test
should check on disk (queue IDs, Message-IDs). Exit status 0 = the scenario held.
"""
import json
import socket
import smtplib
import ssl
import sys
import time
from testenv import HOST, PASSWORD, ctx


def message(msgid, subject="test", extra="", author="alice@remote.test"):
    return (
        f"From: {author}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{msgid}>\r\n{extra}\r\nHello Bob.\r\n.leading dot line\r\n"
    )


def queued_id(reply):
    # "Ok: queued as QUEUEID"
    text = reply.decode() if isinstance(reply, bytes) else reply
    assert "queued as" in text, text
    return text.rsplit(" ", 1)[-1]


def expect(code, resp, what):
    assert resp[0] == code, f"{what}: expected {code}, got {resp}"


def plain_local(p):
    """Port 25: mail for a local user, by sub-address, 8BITMIME, no AUTH."""
    s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
    code, ehlo = s.ehlo("client.remote.test")
    features = ehlo.decode()
    for ext in ["PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS", "DSN"]:
        assert ext in features, (ext, features)
    expect(250, s.mail("alice@remote.test", ["BODY=8BITMIME"]), "MAIL")
    expect(250, s.rcpt("bob+news@example.test", ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob+news@example.test"]), "RCPT")
    code, resp = s.data(message("plain-1@remote.test", "plain"))
    expect(250, (code, resp), "DATA")
    qid = queued_id(resp)
    expect(252, s.verify("bob"), "VRFY")
    expect(550, s.rcpt("nobody@example.test") if s.mail("a@remote.test")[0] == 250 else (0, b""), "unknown user")
    s.rset()
    s.quit()
    print(json.dumps({"queue_id": qid, "message_id": "plain-1@remote.test"}))


def submission_starttls(p):
    """Port 587: AUTH refused before STARTTLS; STARTTLS then AUTH PLAIN; sending as another user refused."""
    s = smtplib.SMTP(HOST, p["submission"], timeout=20)
    s.ehlo("laptop")
    assert "AUTH" not in s.ehlo_resp.decode(), "AUTH must not be offered before TLS"
    code, _ = s.docmd("AUTH", "PLAIN AGJvYkBleGFtcGxlLnRlc3QAYm9iLXNlY3JldA==")
    assert code == 538, code
    expect(530, s.mail("bob@example.test"), "MAIL before AUTH")
    s.starttls(context=ctx())
    s.ehlo("laptop")
    assert "AUTH PLAIN LOGIN" in s.ehlo_resp.decode()
    s.login("bob@example.test", PASSWORD)
    code, _ = s.mail("carol@example.test")
    assert code == 553, f"sending as someone else must be refused, got {code}"
    s.rset()
    # The From: header is checked like the envelope (header_from_policy = "reject").
    try:
        s.sendmail("bob@example.test", ["bob@example.test"], message("spoof-1@laptop", "spoof"))
        raise AssertionError("a From: of someone else was accepted")
    except smtplib.SMTPDataError as e:
        assert e.smtp_code == 553, e
    s.rset()
    code, resp = s.sendmail("bob@example.test", ["bob@example.test"], message("sub-1@laptop", "submission", author="Bob <bob@example.test>")) or (250, b"")
    s.quit()
    print(json.dumps({"message_id": "sub-1@laptop"}))


def submissions_tls(p):
    """Port 465: TLS from the first byte, AUTH LOGIN, an alias as sender, relay for the authenticated user."""
    s = smtplib.SMTP_SSL(HOST, p["submissions"], context=ctx(), timeout=20)
    s.ehlo("laptop")
    assert "STARTTLS" not in s.ehlo_resp.decode()
    s.user, s.password = "bob@example.test", PASSWORD
    code, _ = s.auth("LOGIN", s.auth_login)
    assert code == 235, code
    expect(250, s.mail("postmaster@example.test"), "alias as sender")
    expect(250, s.rcpt("bob@example.test"), "RCPT")
    expect(250, s.rcpt("someone@remote.test"), "authenticated relay")
    code, resp = s.data(message("ssl-1@laptop", "smtps", extra="Sender: postmaster@example.test\r\n"))
    expect(250, (code, resp), "DATA")
    s.quit()
    print(json.dumps({"queue_id": queued_id(resp), "message_id": "ssl-1@laptop"}))


def raw(port, lines, tls=False, read_greeting=True, timeout=10):
    """Sends raw bytes, returns everything the server said until it closed or went quiet."""
    sock = socket.create_connection((HOST, port), timeout=timeout)
    if tls:
        sock = ctx().wrap_socket(sock)
    out = b""
    if read_greeting:
        out += sock.recv(4096)
    for chunk in lines:
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break  # the server closed the connection; read what it said
        time.sleep(0.05)
    sock.settimeout(1.5)
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass
    sock.close()
    return out.decode(errors="replace")


def open_relay(p):
    """Never an open relay: every trick from an untrusted, unauthenticated client is refused."""
    tricks = [
        "victim@elsewhere.test",
        "victim%elsewhere.test@example.test",
        "@example.test:victim@elsewhere.test",
        "@example.test,@relay.test:victim@elsewhere.test",
        '"victim@elsewhere.test"@example.test',
        "victim@elsewhere.test@example.test",
        "elsewhere.test!victim@example.test",
        "victim@[192.0.2.1]",
        "victim@elsewhere.test.",
    ]
    results = {}
    for t in tricks:
        s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
        s.ehlo("relay-tester")
        expect(250, s.mail("spammer@remote.test"), "MAIL")
        code, resp = s.rcpt(t)
        results[t] = code
        assert code >= 500, f"relay trick {t!r} accepted: {code} {resp}"
        code, _ = s.docmd("DATA")
        assert code in (503, 554), f"DATA after refused RCPT: {code}"
        s.close()
    print(json.dumps({"refused": results}))


def smuggling(p):
    """SMTP smuggling: a fake end-of-data never ends the message; the session is closed."""
    tricks = {"lf_dot_lf": b"\n.\n", "cr_dot_cr": b"\r.\r", "lf_dot_crlf": b"\n.\r\n", "crlf_dot_lf": b"\r\n.\n"}
    seen = {}
    for name, trick in tricks.items():
        smuggled = (
            b"MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
            b"Subject: SMUGGLED-" + name.encode() + b"\r\n\r\nsmuggled\r\n.\r\n"
        )
        out = raw(
            p["smtp"],
            [
                b"EHLO smuggler\r\n",
                b"MAIL FROM:<alice@remote.test>\r\n",
                b"RCPT TO:<bob@example.test>\r\n",
                b"DATA\r\n",
                b"Subject: outer-" + name.encode() + b"\r\n\r\nouter body" + trick + smuggled + b"QUIT\r\n",
            ],
        )
        seen[name] = out.splitlines()[-1] if out else ""
        assert "queued as" not in out, f"{name}: a message was accepted: {out}"
        assert "521 5.5.2" in out, f"{name}: expected 521 and disconnect: {out}"
    # Bare LF in a command line.
    out = raw(p["smtp"], [b"EHLO x\nMAIL FROM:<a@remote.test>\r\n", b"QUIT\r\n"])
    assert "500 5.5.2" in out, out
    print(json.dumps({"replies": seen}))


def starttls_injection(p):
    """Commands pipelined after STARTTLS in plaintext are discarded (CVE-2011-0411 class)."""
    sock = socket.create_connection((HOST, p["smtp"]), timeout=10)
    sock.recv(4096)
    sock.sendall(b"EHLO x\r\n")
    time.sleep(0.2)
    sock.recv(4096)
    sock.sendall(b"STARTTLS\r\nRSET\r\nMAIL FROM:<injected@remote.test>\r\n")
    time.sleep(0.2)
    r = sock.recv(4096)
    assert r.startswith(b"220"), r
    tls = ctx().wrap_socket(sock)
    tls.sendall(b"NOOP\r\n")
    time.sleep(0.2)
    r = tls.recv(4096)
    # Only the NOOP reply: nothing for the injected RSET/MAIL.
    assert r == b"250 2.0.0 Ok\r\n", r
    tls.sendall(b"MAIL FROM:<a@remote.test>\r\n")
    r = tls.recv(4096)
    assert r.startswith(b"503"), f"EHLO required again after TLS: {r}"
    tls.close()
    print(json.dumps({"ok": True}))


def limits(p):
    """Too big (552 5.3.4), over quota (452 4.2.2), too many errors (421)."""
    s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
    s.ehlo("x")
    code, _ = s.mail("a@remote.test", ["SIZE=999999999"])
    assert code == 552, code
    expect(250, s.mail("a@remote.test"), "MAIL")
    expect(250, s.rcpt("bob@example.test"), "RCPT")
    code, resp = s.data("Subject: big\r\n\r\n" + ("x" * 998 + "\r\n") * 200)
    assert code == 552 and b"5.3.4" in resp, (code, resp)
    expect(250, s.mail("a@remote.test"), "MAIL")
    code, resp = s.rcpt("full@example.test")
    assert code == 452 and b"4.2.2" in resp, (code, resp)
    s.close()
    out = raw(p["smtp"], [b"EHLO x\r\n"] + [b"BOGUS\r\n"] * 25)
    assert "421 4.7.0" in out, out
    print(json.dumps({"ok": True}))


def auth_failures(p):
    """Failed AUTH is slowed down and the IP is refused after repeated failures."""
    times = []
    refused = False
    for i in range(6):
        try:
            s = smtplib.SMTP_SSL(HOST, p["submissions"], context=ctx(), timeout=20)
        except (smtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError):
            refused = True
            break
        try:
            s.ehlo("guesser")
            t = time.time()
            try:
                s.login("bob@example.test", f"wrong-{i}")
                raise AssertionError("wrong password accepted")
            except smtplib.SMTPAuthenticationError as e:
                if e.smtp_code == 421:
                    refused = True
                    break
                assert e.smtp_code == 535, e
            except smtplib.SMTPServerDisconnected:
                refused = True
                break
            times.append(time.time() - t)
            s.close()
        except smtplib.SMTPServerDisconnected:
            refused = True
            break
    assert refused, "IP never refused after repeated failures"
    assert times and min(times) >= 0.09, f"failures not slowed down: {times}"
    print(json.dumps({"delays": times}))


def chunking(p):
    """BDAT (RFC 3030) with a binary-safe body split in two chunks."""
    body1 = b"Subject: chunked\r\nMessage-ID: <bdat-1@remote.test>\r\n\r\nfirst part, "
    body2 = b"second part\r\n"
    out = raw(
        p["smtp"],
        [
            b"EHLO c\r\nMAIL FROM:<alice@remote.test>\r\nRCPT TO:<bob@example.test>\r\n",
            b"BDAT %d\r\n" % len(body1) + body1,
            b"BDAT %d LAST\r\n" % len(body2) + body2,
            b"QUIT\r\n",
        ],
    )
    assert "queued as" in out, out
    qid = out.split("queued as ")[1].split()[0]
    print(json.dumps({"queue_id": qid, "message_id": "bdat-1@remote.test"}))


def main():
    scenario = sys.argv[1]
    ports = {"smtp": int(sys.argv[2]), "submission": int(sys.argv[3]), "submissions": int(sys.argv[4])}
    globals()[scenario](ports)


if __name__ == "__main__":
    main()
