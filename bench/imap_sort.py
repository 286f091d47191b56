#!/usr/bin/env python3
"""imap_sort.py HOST PORT USER PASSWORD

Times what webmail asks of a large INBOX: UID SORT (SUBJECT), (DATE) and (REVERSE ARRIVAL),
UID THREAD REFERENCES and ORDEREDSUBJECT, each twice (the first SORT may read and cache the
ENVELOPE of every message; the second finds it in the index). Prints one JSON line:
seconds per command and how many numbers each answer held. Run against a server started as
bench/imap_vs_dovecot.sh starts one (its INBOX from bench/gen_maildir.py).
"""
import imaplib
import json
import sys
import time


def timed(c, *args):
    t0 = time.time()
    typ, data = c.uid(*args)
    dt = time.time() - t0
    assert typ == "OK", (typ, data)
    text = (data[0] or b"").decode()
    count = len(text.replace("(", " ").replace(")", " ").split())
    return round(dt, 3), count


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    c = imaplib.IMAP4(host, port, timeout=600)
    c._mode_utf8 = False
    c.login(user, password)
    n = int(c.select("INBOX")[1][0])
    out = {"messages": n}
    for name, args in [
        ("sort_subject_first", ("SORT", "(SUBJECT)", "UTF-8", "ALL")),
        ("sort_subject_second", ("SORT", "(SUBJECT)", "UTF-8", "ALL")),
        ("sort_date", ("SORT", "(DATE)", "UTF-8", "ALL")),
        ("sort_reverse_arrival", ("SORT", "(REVERSE ARRIVAL)", "UTF-8", "ALL")),
        ("thread_orderedsubject", ("THREAD", "ORDEREDSUBJECT", "UTF-8", "ALL")),
        ("thread_references", ("THREAD", "REFERENCES", "UTF-8", "ALL")),
        ("thread_references_second", ("THREAD", "REFERENCES", "UTF-8", "ALL")),
    ]:
        out[name] = timed(c, *args)
    c.logout()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
