#!/usr/bin/env python3
"""Sends each message file of a directory to mailward with smtplib, one session per file,
and prints one JSON object: {file name: [reply code, reply text]} for the end of DATA
(or for the command that refused it).

Usage: filter_send.py PORT DIR FROM TO
Files are sent in name order, as they are (CRLF line ends expected).
"""
import json
import os
import smtplib
import sys

port, folder, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
replies = {}
for name in sorted(os.listdir(folder)):
    with open(os.path.join(folder, name), "rb") as f:
        msg = f.read()
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    try:
        s.ehlo("sender.test")
        s.mail(sender)
        code, reply = s.rcpt(rcpt)
        if code != 250:
            replies[name] = [code, reply.decode()]
            continue
        code, reply = s.data(msg)
        replies[name] = [code, reply.decode()]
    except smtplib.SMTPResponseException as e:
        replies[name] = [e.smtp_code, e.smtp_error.decode()]
    finally:
        try:
            s.quit()
        except Exception:
            pass
print(json.dumps(replies))
