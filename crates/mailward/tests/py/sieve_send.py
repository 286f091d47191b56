#!/usr/bin/env python3
"""Sends one message to mailward over SMTP (smtplib) and prints, as one JSON line, the
reply to DATA (code and text), so a test sees a refusal as well as an acceptance.

Usage: sieve_send.py PORT FROM TO[,TO...] SUBJECT [HEADER-LINES]
HEADER-LINES: extra header fields, separated by "|" (e.g. "List-Id: <x.test>").
"""
import json
import smtplib
import sys

port, sender, rcpts, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), sys.argv[4]
extra = [h for h in (sys.argv[5].split("|") if len(sys.argv) > 5 else []) if h]
head = "".join(f"{h}\r\n" for h in extra)
msg = (
    f"From: <{sender or 'nobody@sender.test'}>\r\nTo: {', '.join('<' + r + '>' for r in rcpts)}\r\n"
    f"Subject: {subject}\r\nMessage-ID: <{abs(hash(subject))}@sender.test>\r\n{head}\r\n"
    f"Body of {subject}.\r\n"
)
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("sender.test")
s.mail(sender)
for r in rcpts:
    code, reply = s.rcpt(r)
    assert code == 250, (code, reply)
try:
    code, reply = s.data(msg.encode())
except smtplib.SMTPDataError as e:
    code, reply = e.smtp_code, e.smtp_error
s.quit()
print(json.dumps({"code": code, "reply": reply.decode(errors="replace")}))
