#!/usr/bin/env python3
"""One session of each protocol against a running `mailward serve`, as real clients do it
(Python's smtplib, imaplib, poplib), including the failures an operator looks for in the log.

Usage: every_protocol.py SCENARIO SMTP SUBMISSION IMAP POP3
Scenarios: `sessions` (inbound SMTP, submission with STARTTLS + AUTH, a failed AUTH; IMAP
STARTTLS, a failed login, a login, SELECT, UNSUBSCRIBE of a folder that does not exist;
POP3 STLS, USER/PASS, STAT), `authzid` (SASL PLAIN naming another user as the
authorization identity, in SMTP, IMAP and POP3: each must be refused).
Prints one JSON line; exit status 0 = the scenario held.
"""
import base64
import imaplib
import json
import poplib
import smtplib
import ssl
import sys
from testenv import HOST, USER, PASSWORD, ctx


def message(msgid):
    return (
        f"From: {USER}\r\nTo: {USER}\r\nSubject: every protocol\r\n"
        f"Message-ID: <{msgid}>\r\n\r\nHello.\r\n"
    )


def sessions(p):
    s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
    s.ehlo("client.remote.test")
    s.sendmail("alice@remote.test", [USER], message("inbound@remote.test"))
    s.quit()

    s = smtplib.SMTP(HOST, p["submission"], timeout=20)
    s.starttls(context=ctx())
    s.ehlo("laptop")
    s.login(USER, PASSWORD)
    s.sendmail(USER, [USER], message("submitted@example.test"))
    s.quit()

    s = smtplib.SMTP(HOST, p["submission"], timeout=20)
    s.starttls(context=ctx())
    s.ehlo("laptop")
    try:
        # One mechanism only (login() would try a second one): every protocol shares one
        # budget of failures per IP, and the IMAP failure below must not reach the block.
        s.auth("PLAIN", lambda challenge=None: f"\0{USER}\0wrong", initial_response_ok=True)
        raise AssertionError("a wrong password was accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
    s.quit()

    m = imaplib.IMAP4(HOST, p["imap"])
    m.starttls(ssl_context=ctx())
    try:
        m.login(USER, "wrong")
        raise AssertionError("a wrong password was accepted")
    except imaplib.IMAP4.error:
        pass
    m.login(USER, PASSWORD)
    typ, _ = m.select("INBOX")
    assert typ == "OK", typ
    typ, data = m.unsubscribe("NoSuchFolder")
    unsubscribe = data[0].decode() if data and data[0] else ""
    m.logout()

    pop = poplib.POP3(HOST, p["pop3"], timeout=20)
    pop.stls(context=ctx())
    pop.user(USER)
    pop.pass_(PASSWORD)
    count, _ = pop.stat()
    pop.quit()
    return {"imap_unsubscribe": f"{typ} {unsubscribe}", "pop3_messages": count}


def plain(authzid, authcid, password):
    raw = f"{authzid}\0{authcid}\0{password}".encode()
    return base64.b64encode(raw).decode()


def authzid(p):
    """The right password, but naming another user to act as: refused everywhere."""
    other = "alice@example.test"
    out = {}
    s = smtplib.SMTP(HOST, p["submission"], timeout=20)
    s.starttls(context=ctx())
    s.ehlo("laptop")
    code, text = s.docmd("AUTH", "PLAIN " + plain(other, USER, PASSWORD))
    out["smtp"] = code
    s.quit()

    m = imaplib.IMAP4(HOST, p["imap"])
    m.starttls(ssl_context=ctx())
    try:
        m.authenticate("PLAIN", lambda _: f"{other}\0{USER}\0{PASSWORD}".encode())
        out["imap"] = "OK"
    except imaplib.IMAP4.error as e:
        out["imap"] = "NO " + str(e)
    m.logout()

    pop = poplib.POP3(HOST, p["pop3"], timeout=20)
    pop.stls(context=ctx())
    try:
        out["pop3"] = pop._shortcmd("AUTH PLAIN " + plain(other, USER, PASSWORD)).decode()
    except poplib.error_proto as e:
        out["pop3"] = str(e)
    pop.quit()

    # The same identity as authcid and authzid is fine.
    s = smtplib.SMTP(HOST, p["submission"], timeout=20)
    s.starttls(context=ctx())
    s.ehlo("laptop")
    code, _ = s.docmd("AUTH", "PLAIN " + plain(USER, USER, PASSWORD))
    out["smtp_same"] = code
    s.quit()
    return out


if __name__ == "__main__":
    name = sys.argv[1]
    ports = dict(zip(["smtp", "submission", "imap", "pop3"], map(int, sys.argv[2:6])))
    print(json.dumps({"sessions": sessions, "authzid": authzid}[name](ports)))
