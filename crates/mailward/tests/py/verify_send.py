#!/usr/bin/python3
"""Sends the inbound-authentication test messages to mailward's port 25 (smtplib), DKIM-signed
by an independent signer (Debian's python3-dkim), and prints one JSON line: for each case the
reply code and text to DATA.

Usage: verify_send.py PORT KEYFILE   (KEYFILE: the PEM RSA key of sel._domainkey.sender.test)
"""
import json
import smtplib
import sys

import dkim

port, keyfile = int(sys.argv[1]), sys.argv[2]
key = open(keyfile, "rb").read()


def message(sender, subject, body, extra=""):
    return (
        f"From: <{sender}>\r\nTo: <bob@example.test>\r\nSubject: {subject}\r\n"
        f"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@test>\r\n{extra}"
        f"\r\n{body}"
    ).encode()


def signed(msg):
    sig = dkim.sign(
        msg,
        b"sel",
        b"sender.test",
        key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return sig + msg


def send(mail_from, msg):
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("mta.sender.test")
    s.mail(mail_from)
    code, reply = s.rcpt("bob@example.test")
    assert code == 250, (code, reply)
    try:
        code, reply = s.data(msg)
    except smtplib.SMTPDataError as e:
        code, reply = e.smtp_code, e.smtp_error
    s.quit()
    return [code, reply.decode(errors="replace")]


results = {}
# Aligned and signed, with an Authentication-Results field forged in the receiver's name.
forged = "Authentication-Results: mx.example.test; dkim=pass (forged by the sender)\r\n"
results["aligned"] = send(
    "alice@sender.test", signed(message("alice@sender.test", "aligned", "Hello Bob.\r\n", forged))
)
# Signed, then changed on the way; the envelope sender is another domain's (SPF passes for
# it, but it is not aligned with From).
tampered = signed(message("alice@sender.test", "tampered", "Pay 100 EUR.\r\n"))
results["tampered"] = send("bounce@other.test", tampered.replace(b"100 EUR", b"900 EUR"))
# A spoof of a p=reject domain and of a p=quarantine one.
results["reject"] = send("ceo@bank.test", message("ceo@bank.test", "reject", "Wire money.\r\n"))
results["quarantine"] = send(
    "news@shop.test", message("news@shop.test", "quarantine", "Offer.\r\n")
)
# A signed message past the spool threshold (checked from its spool file).
big_body = "".join(f"line {n:06d} of a long signed message\r\n" for n in range(9000))
results["big"] = send("alice@sender.test", signed(message("alice@sender.test", "big", big_body)))
print(json.dumps(results))
