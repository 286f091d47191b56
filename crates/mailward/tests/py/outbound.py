"""Clients for the outbound-delivery tests (serve_outbound.rs).

    outbound.py submit PORT USER PASSWORD FROM TO[,TO...] SUBJECT [BODYFILE]
        submission with STARTTLS and AUTH (with the REQUIRETLS option when SUBJECT starts
        with it); prints {"refused": {...}}
    outbound.py imap_subjects PORT USER PASSWORD
        the subjects (and Received/DKIM headers) of the INBOX, as JSON
    outbound.py plain_peer PORT DIR
        a minimal SMTP server without SMTPUTF8, PIPELINING, CHUNKING or STARTTLS (Python's
        smtpd), writing each message it takes to DIR; runs until killed
"""
import json
import ssl
import sys


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def submit(port, user, password, sender, rcpts, subject, body_file=None):
    import smtplib
    if body_file:
        with open(body_file, "rb") as f:
            msg = f.read()
    else:
        msg = (
            f"From: <{sender}>\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@outbound.test>\r\n\r\n"
            f"Body of {subject}.\r\n"
        ).encode("utf-8")
    s = smtplib.SMTP("127.0.0.2", port, timeout=20)
    s.ehlo("client.test")
    s.starttls(context=ctx())
    s.ehlo("client.test")
    s.login(user, password)
    opts = ["SMTPUTF8"] if any(ord(c) > 127 for c in sender + "".join(rcpts)) else []
    if subject.startswith("REQUIRETLS"):
        opts.append("REQUIRETLS")
    refused = s.sendmail(sender, rcpts, msg, mail_options=opts)
    s.quit()
    print(json.dumps({"refused": {k: v[0] for k, v in refused.items()}}))


def imap_messages(port, user, password):
    import email
    import imaplib
    c = imaplib.IMAP4("127.0.0.3", port, timeout=20)
    c.starttls(ctx())
    c.login(user, password)
    c.select("INBOX")
    _, data = c.search(None, "ALL")
    out = []
    for num in data[0].split():
        _, parts = c.fetch(num, "(RFC822)")
        raw = parts[0][1]
        m = email.message_from_bytes(raw)
        out.append({
            "subject": m.get("Subject", ""),
            "received": m.get_all("Received", []),
            "dkim": m.get_all("DKIM-Signature", []),
            "raw": raw.decode("utf-8", "replace"),
        })
    c.logout()
    print(json.dumps(out))


def plain_peer(port, directory):
    import os
    import warnings
    warnings.simplefilter("ignore")
    import asyncore
    import smtpd

    class Peer(smtpd.SMTPServer):
        count = 0

        def process_message(self, peer, mailfrom, rcpttos, data, **kw):
            Peer.count += 1
            path = os.path.join(directory, f"{Peer.count}.eml")
            with open(path + ".tmp", "wb") as f:
                f.write(json.dumps({"from": mailfrom, "to": rcpttos,
                                    "options": kw.get("mail_options", [])}).encode() + b"\n")
                f.write(data if isinstance(data, bytes) else data.encode())
            os.rename(path + ".tmp", path)

    Peer(("127.0.0.1", port), None, decode_data=False, enable_SMTPUTF8=False)
    print("ready", flush=True)
    asyncore.loop()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "submit":
        submit(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5],
               sys.argv[6].split(","), sys.argv[7], sys.argv[8] if len(sys.argv) > 8 else None)
    elif cmd == "imap_messages":
        imap_messages(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "plain_peer":
        plain_peer(int(sys.argv[2]), sys.argv[3])
    else:
        raise SystemExit(f"unknown command {cmd}")
