#!/usr/bin/env python3
"""Sends numbered messages to a server that is being killed and restarted, and records
each one the server acknowledged with 250 (one number per line, flushed at once).

Usage: crash_sender.py PORT ACKED_FILE STOP_FILE
Runs until STOP_FILE exists. Message N carries `Message-ID: <crash-N@sender.test>`.
"""
import os
import smtplib
import sys
import time

port, acked_path, stop_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = 0
with open(acked_path, "a", buffering=1) as acked:
    while not os.path.exists(stop_path):
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=5)
            s.ehlo("crash-sender")
            while not os.path.exists(stop_path):
                n += 1
                msg = f"Subject: crash {n}\r\nMessage-ID: <crash-{n}@sender.test>\r\n\r\nbody {n}\r\n"
                s.mail("sender@remote.test")
                s.rcpt("bob@example.test")
                code, _ = s.data(msg)
                if code == 250:
                    acked.write(f"{n}\n")
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)
