#!/usr/bin/env python3
"""imap_search.py HOST PORT USER PASS [--data-dir D] [--repeat N]

Times content searches (UID SEARCH TEXT/BODY/SUBJECT/FROM) on INBOX, one connection,
Python imaplib; prints one line per search and a JSON summary line last. With --data-dir
(mailward's data directory) it first waits until the full-text index covers every message
of INBOX (reading fulltext.db's progress table), and reports how long that took from the
moment the script started, and the index's size beside the Maildir's.

The needles fit bench/gen_maildir.py's messages: one absent everywhere ("needle"), rare ones
(a Message-ID, a Received id), common words, a phrase, an encoded-word subject, a sender.
Used by bench/imap_search.sh.
"""
import argparse
import imaplib
import json
import os
import sqlite3
import statistics
import time

SEARCHES = [
    ("TEXT", "needle"),           # in no message: the whole mailbox is ruled out
    ("TEXT", "bench-4242@"),      # one Message-ID
    ("TEXT", "Q00054321"),        # one Received id (absent below 54,322 messages)
    ("BODY", "invoice meeting"),  # a phrase of common words
    ("SUBJECT", "Grüße"),         # RFC 2047 subjects, every seventh message
    ("FROM", "heidi"),            # one sender in eight
    ("TEXT", "ship"),             # common: the index narrows little, the check decides
]


def wait_for_index(data_dir, started, timeout=3600):
    main = sqlite3.connect(f"file:{os.path.join(data_dir, 'mailward.db')}?mode=ro", uri=True)
    box, = main.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
    last = main.execute("SELECT max(uid) FROM messages WHERE mailbox_id = ?", (box,)).fetchone()[0] or 0
    path = os.path.join(data_dir, "fulltext.db")
    while True:
        try:
            ft = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            row = ft.execute("SELECT through_uid FROM progress WHERE mailbox_id = ?", (box,)).fetchone()
            ft.close()
            if row and row[0] >= last:
                return time.time() - started, last
        except sqlite3.Error:
            pass
        if time.time() - started > timeout:
            raise SystemExit(f"index not complete after {timeout} s")
        time.sleep(0.2)


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--data-dir")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    started = time.time()
    m = imaplib.IMAP4(a.host, a.port)
    m.login(a.user, a.password)
    typ, data = m.select("INBOX")
    assert typ == "OK", (typ, data)
    exists = int(data[0])
    summary = {"messages": exists}
    if a.data_dir:
        waited, last = wait_for_index(a.data_dir, started)
        summary["index_wait_seconds"] = round(waited, 3)
        ft = os.path.join(a.data_dir, "fulltext.db")
        summary["index_bytes"] = sum(os.path.getsize(ft + s) for s in ("", "-wal") if os.path.exists(ft + s))
        summary["maildir_bytes"] = du(os.path.join(a.data_dir, "mail"))
        print(f"index complete after {waited:.1f} s (UID {last}); "
              f"{summary['index_bytes'] / 1e6:.1f} MB for {summary['maildir_bytes'] / 1e6:.1f} MB of mail")
    results = {}
    for key, needle in SEARCHES:
        times = []
        hits = 0
        for _ in range(a.repeat):
            t = time.perf_counter()
            m.literal = needle.encode()  # sent as a literal after the key (8-bit safe)
            typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", key)
            times.append(time.perf_counter() - t)
            assert typ == "OK", (typ, data)
            hits = len(data[0].split()) if data and data[0] else 0
        med = statistics.median(times)
        results[f"{key} {needle}"] = {"seconds": round(med, 5), "hits": hits}
        print(f"UID SEARCH {key} {needle!r:20} {med * 1000:9.2f} ms  ({hits} hits, median of {a.repeat})")
    m.logout()
    summary["searches"] = results
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
