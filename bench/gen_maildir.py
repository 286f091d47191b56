#!/usr/bin/env python3
"""gen_maildir.py MAILDIR COUNT [--seed S]

Writes COUNT synthetic messages into MAILDIR/new (creating tmp/ new/ cur/), as a delivery
agent would: varied senders, subjects with and without RFC 2047 words, plain, multipart
alternative and messages with an attachment, 1-6 KB each, Date headers spread over a year.
The word "needle" appears in none of them, so `UID SEARCH TEXT needle` scans everything.
Deterministic for a given seed. Used by bench/imap_vs_dovecot.sh.
"""
import argparse
import base64
import os
import random
import time

WORDS = ("mail server queue delivery folder message invoice meeting report budget "
         "schedule project review update draft archive travel summary question answer "
         "weekly status release notes agenda minutes contract offer order shipping").split()
NAMES = ["Alice Example", "Bob Sample", "Carol Test", "Dave Demo", "Eve Fictional",
         "Frank Placeholder", "Grace Mock", "Heidi Dummy"]
DOMAINS = ["remote.test", "example.org", "mail.example.net", "lists.example.com"]


def words(rnd, n):
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def paragraph(rnd, lines):
    return "\r\n".join(words(rnd, rnd.randint(6, 12)) for _ in range(lines))


def message(rnd, i, stamp):
    name = rnd.choice(NAMES)
    local = name.split()[0].lower()
    frm = f'"{name}" <{local}@{rnd.choice(DOMAINS)}>'
    subject = words(rnd, rnd.randint(2, 7)).capitalize()
    if i % 7 == 0:
        subject = "=?UTF-8?B?" + base64.b64encode(("Grüße: " + subject).encode()).decode() + "?="
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(stamp - rnd.randint(0, 365 * 86400)))
    head = (f"Return-Path: <{local}@remote.test>\r\n"
            f"Received: from mx.remote.test (mx.remote.test [192.0.2.{i % 250 + 1}])\r\n"
            f"\tby mail.example.test with ESMTPS id Q{i:08d}; {date}\r\n"
            f"From: {frm}\r\nTo: User One <user1@example.test>\r\n"
            + (f"Cc: {rnd.choice(NAMES)} <cc{i % 13}@example.org>\r\n" if i % 3 == 0 else "")
            + f"Subject: {subject}\r\nDate: {date}\r\n"
            f"Message-ID: <bench-{i}@{rnd.choice(DOMAINS)}>\r\nMIME-Version: 1.0\r\n")
    kind = i % 5
    if kind < 3:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                + paragraph(rnd, rnd.randint(10, 60)) + "\r\n")
    b = f"b{i}x"
    if kind == 3:
        return (head + f'Content-Type: multipart/alternative; boundary="{b}"\r\n\r\n'
                f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{paragraph(rnd, 15)}\r\n"
                f"--{b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{paragraph(rnd, 15)}</p>\r\n"
                f"--{b}--\r\n")
    blob = base64.encodebytes(rnd.randbytes(rnd.randint(300, 2000))).decode().replace("\n", "\r\n")
    return (head + f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n'
            f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{paragraph(rnd, 12)}\r\n"
            f"--{b}\r\nContent-Type: application/pdf; name=\"r{i}.pdf\"\r\n"
            f"Content-Disposition: attachment; filename=\"r{i}.pdf\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{blob}"
            f"--{b}--\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir")
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(a.maildir, sub), exist_ok=True)
    stamp = 1_780_000_000
    for i in range(a.count):
        data = message(rnd, i, stamp).encode()
        name = f"{stamp + i}.M{i}P1.bench,S={len(data)}"
        with open(os.path.join(a.maildir, "new", name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
