#!/usr/bin/env python3
"""Sends numbered messages to mailward over one SMTP session (smtplib) and prints, as one
JSON line, the queue ID mailward gave each and its Message-ID.

Usage: send_mail.py PORT FROM TO COUNT PREFIX
Message N carries `Message-ID: <PREFIX-N@sender.test>`; every one must get a 250.
"""
import json
import smtplib
import sys

port, sender, rcpt, count, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("sender.test")
queue_ids, message_ids = [], []
for n in range(1, count + 1):
    msgid = f"{prefix}-{n}@sender.test"
    msg = (
        f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {prefix} {n}\r\n"
        f"Message-ID: <{msgid}>\r\n\r\nMessage {n} for a hostile destination.\r\n"
    )
    s.mail(sender)
    code, reply = s.rcpt(rcpt)
    assert code == 250, (code, reply)
    code, reply = s.data(msg.encode())
    assert code == 250, (code, reply)
    text = reply.decode()
    assert "queued as" in text, text
    queue_ids.append(text.rsplit(" ", 1)[-1])
    message_ids.append(f"<{msgid}>")
s.quit()
print(json.dumps({"queue_ids": queue_ids, "message_ids": message_ids}))
