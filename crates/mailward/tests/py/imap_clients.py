#!/usr/bin/env python3
"""Helpers for the real-client IMAP tests (`serve_imap_clients.rs`): deliver mail by SMTP,
fetch the server's certificate, dump or change what the server holds over IMAP (imaplib,
STARTTLS).

Usage: imap_clients.py SCENARIO SMTP_PORT IMAP_PORT IMAPS_PORT [ARG...]
  deliver PREFIX N        send N messages with subjects "PREFIX 1".."PREFIX N"
  cert                    print the PEM certificate the imaps listener presents
  state                   one JSON line: {folder: [{"subject", "flags", "body"}]}
  append FOLDER SUBJECT   APPEND a message to FOLDER
Exit status 0 = done; anything else is a failure with a traceback on stderr.
"""
import imaplib
import json
import re
import smtplib
import socket
import ssl
import sys
from testenv import HOST, USER, PASSWORD, ctx


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def message(subject, body):
    return (
        "From: Alice <alice@remote.test>\r\nTo: bob@example.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@remote.test>\r\n"
        "Date: Sat, 22 Nov 2025 18:43:50 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n"
    )


def deliver(p, prefix, n):
    for i in range(1, int(n) + 1):
        s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
        s.ehlo("client.remote.test")
        body = f"Body of message {i}.\r\nGrüße, line two.\r\n.leading dot line\r\nend"
        s.sendmail("alice@remote.test", [USER], message(f"{prefix} {i}", body).encode())
        s.quit()
    print(json.dumps({"sent": int(n)}))


def cert(p):
    print(ssl.get_server_certificate((HOST, p["imaps"])), end="")


def login(p):
    c = imaplib.IMAP4(HOST, p["imap"], timeout=20)
    c.starttls(ctx())
    c.login(USER, PASSWORD)
    return c


def state(p):
    c = login(p)
    out = {}
    for line in ok(c.list('""', "*")):
        m = re.match(rb'^\((.*?)\) (NIL|"[^"]*") (.*)$', line)
        assert m, line
        name = m.group(3).decode()
        if name.startswith('"'):
            name = name[1:-1]
        msgs = []
        n = int(ok(c.select(f'"{name}"', readonly=True))[0])
        if n:
            flags = {}
            for line in ok(c.fetch("1:*", "(FLAGS)")):
                m = re.match(rb"^(\d+) .*FLAGS \(([^)]*)\)", line)
                assert m, line
                flags[int(m.group(1))] = m.group(2).decode().split()
            for d in ok(c.fetch("1:*", "(BODY.PEEK[])")):
                if not isinstance(d, tuple):
                    continue
                seq = int(d[0].split()[0])
                body = d[1].decode("utf-8", "replace")
                m = re.search(r"^Subject: (.*)$", body, re.M)
                msgs.append({"subject": m.group(1).strip() if m else "",
                             "flags": flags[seq], "body": body})
        c.close()  # EXAMINEd: nothing is expunged
        out[name] = msgs
    c.logout()
    print(json.dumps(out))


def append(p, folder, subject):
    c = login(p)
    body = "Appended on the server.\r\nSecond line."
    ok(c.append(folder, None, None, message(subject, body).encode()))
    c.logout()
    print(json.dumps({"appended": subject}))


if __name__ == "__main__":
    scenario = sys.argv[1]
    ports = {"smtp": int(sys.argv[2]), "imap": int(sys.argv[3]), "imaps": int(sys.argv[4])}
    socket.setdefaulttimeout(20)
    {"deliver": deliver, "cert": cert, "state": state, "append": append}[scenario](
        ports, *sys.argv[5:])
