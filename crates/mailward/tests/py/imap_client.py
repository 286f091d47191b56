#!/usr/bin/env python3
"""IMAP scenarios against a running `mailward serve`, with Python's imaplib (and smtplib to
deliver mail).

Usage: imap_client.py SCENARIO SMTP_PORT IMAP_PORT IMAPS_PORT
Each scenario asserts what a client sees and prints one JSON line with what the Rust test
checks against the Maildir and the log. Exit status 0 = the scenario held.
"""
import imaplib
import json
import re
import smtplib
import socket
import ssl
import sys
import time
from testenv import HOST, USER, PASSWORD, ctx


def send(p, subject, body, charset="utf-8"):
    msg = (
        "From: Alice <alice@remote.test>\r\nTo: bob@example.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@remote.test>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n"
    )
    s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
    s.ehlo("client.remote.test")
    s.sendmail("alice@remote.test", [USER], msg.encode("utf-8"))
    s.quit()


def starttls(p, login=True):
    c = imaplib.IMAP4(HOST, p["imap"], timeout=20)
    c.starttls(ctx())
    if login:
        c.login(USER, PASSWORD)
    return c


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def deliver(p):
    send(p, "hello one", "Plain first message.")
    send(p, "gruss", "Viele Grüße aus Köln.")
    print(json.dumps({"sent": 2}))


def main(p):
    c = starttls(p)
    out = {"caps": list(c.capabilities)}
    # LIST: the six folders with their special-use attributes.
    lines = [l.decode() for l in ok(c.list('""', "*"))]
    out["list"] = lines
    for name, attr in [("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"),
                       ("Junk", "\\Junk"), ("Archive", "\\Archive")]:
        assert any(l.endswith(f'"{name}"') and attr in l for l in lines), (name, lines)
    assert any(l.endswith('"INBOX"') for l in lines), lines
    n = int(ok(c.select("INBOX"))[0])
    assert n == 2, n
    data = ok(c.fetch("1:*", "(FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[])"))
    bodies = [d[1] for d in data if isinstance(d, tuple)]
    heads = [d[0].decode("utf-8", "replace") for d in data if isinstance(d, tuple)]
    assert len(bodies) == 2, data
    assert "ENVELOPE (" in heads[0] and '"hello one"' in heads[0], heads[0]
    assert 'BODYSTRUCTURE ("TEXT" "plain"' in heads[0], heads[0]
    size = int(re.search(r"RFC822.SIZE (\d+)", heads[0]).group(1))
    assert size == len(bodies[0]), (size, len(bodies[0]))
    assert "\\Seen" not in heads[0]
    out["fetched"] = [b.decode("utf-8", "replace") for b in bodies]
    # A second FETCH comes from the structure cache and must be the same.
    again = ok(c.fetch("1", "(ENVELOPE BODYSTRUCTURE)"))
    assert again[0].decode() .split(" ", 1)[1].startswith("(ENVELOPE"), again
    # STORE: the Maildir file of message 1 gets :2,S.
    r = ok(c.store("1", "+FLAGS", "(\\Seen)"))
    assert b"\\Seen" in r[0], r
    # SEARCH: UTF-8 text over the decoded body, FROM, UNSEEN.
    c.literal = "grüße".encode("utf-8")
    r = ok(c.uid("SEARCH", "CHARSET", "UTF-8", "TEXT"))
    out["search_text"] = r[0].decode()
    r = ok(c.search(None, "FROM", '"alice"'))
    out["search_from"] = r[0].decode()
    r = ok(c.search(None, "UNSEEN"))
    out["search_unseen"] = r[0].decode()
    r = ok(c.search(None, "OR", "SUBJECT", "gruss", "LARGER", "100000"))
    out["search_or"] = r[0].decode()
    # APPEND with UIDPLUS.
    typ, data = c.append("Drafts", "(\\Draft)", None,
                         b"From: bob@example.test\r\nSubject: draft\r\n\r\nDraft body.\r\n")
    assert typ == "OK", data
    m = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
    assert m, data
    out["appenduid"] = int(m.group(2))
    st = ok(c.status("Drafts", "(MESSAGES UIDNEXT UNSEEN)"))[0].decode()
    out["status_drafts"] = st
    assert "MESSAGES 1" in st, st
    # MOVE message 2 to Archive (COPYUID), then EXPUNGE the first after \Deleted.
    typ, data = c.uid("MOVE", "2", "Archive")
    assert typ == "OK", data
    out["move_untagged"] = [x.decode() for x in c.untagged_responses.get("OK", []) if x]
    ok(c.store("1", "+FLAGS", "(\\Deleted)"))
    r = ok(c.expunge())
    out["expunged"] = [x.decode() for x in r if x]
    n_archive = int(ok(c.select("Archive"))[0])
    assert n_archive == 1, n_archive
    r = ok(c.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])"))
    assert b"gruss" in r[0][1], r
    # BODY[] without PEEK sets \Seen.
    r = ok(c.fetch("1", "(FLAGS)"))
    out["archive_flags"] = r[0].decode()
    c.logout()
    print(json.dumps(out))


def imaps(p):
    c = imaplib.IMAP4_SSL(HOST, p["imaps"], ssl_context=ctx(), timeout=20)
    caps = list(c.capabilities)
    c.login(USER, PASSWORD)
    n = int(ok(c.select("INBOX"))[0])
    q = c.getquotaroot("INBOX")
    ns = ok(c.namespace())
    c.logout()
    print(json.dumps({"caps": caps, "exists": n, "quota": str(q), "namespace": ns[0].decode()}))


def read_until(c, pattern, timeout):
    """Reads untagged lines until one matches `pattern` (bytes regex); returns it and the
    time it took."""
    start = time.time()
    c.sock.settimeout(timeout)
    while True:
        line = c.readline()
        if not line:
            raise AssertionError("connection closed")
        if re.search(pattern, line):
            return line, time.time() - start


def idle(p):
    c = starttls(p)
    ok(c.select("INBOX"))
    tag = c._new_tag()
    c.send(tag + b" IDLE\r\n")
    first = c.readline()
    assert first.startswith(b"+"), first
    t0 = time.time()
    send(p, "pushed", "Delivered during IDLE.")
    sent = time.time() - t0
    line, _ = read_until(c, rb"^\* \d+ EXISTS", 10)
    waited = time.time() - t0 - sent
    c.send(b"DONE\r\n")
    read_until(c, re.escape(tag) + rb" OK", 10)
    c.sock.settimeout(20)
    c.logout()
    print(json.dumps({"exists": line.decode().strip(), "push_seconds": waited}))


def concurrent(p):
    a = starttls(p)
    b = starttls(p)
    na = int(ok(a.select("INBOX"))[0])
    ok(b.select("INBOX"))
    ok(b.store("1", "+FLAGS", "(\\Flagged)"))
    ok(a.noop())
    fetches = [x.decode() for x in a.untagged_responses.pop("FETCH", [])]
    assert any("\\Flagged" in f for f in fetches), fetches
    ok(b.store("1", "+FLAGS", "(\\Deleted)"))
    ok(b.expunge())
    ok(a.noop())
    expunged = [x.decode() for x in a.untagged_responses.pop("EXPUNGE", [])]
    assert expunged == ["1"], expunged
    a.logout()
    b.logout()
    print(json.dumps({"before": na, "fetches": fetches, "expunged": expunged}))


def dropped(p):
    c = starttls(p)
    ok(c.select("INBOX"))
    r = ok(c.search(None, "SUBJECT", "dropped"))
    c.logout()
    print(json.dumps({"found": r[0].decode()}))


def send_raw(p, headers, body="text"):
    msg = ("From: Alice <alice@remote.test>\r\nTo: bob@example.test\r\n" + headers
           + "\r\n" + body + "\r\n")
    s = smtplib.SMTP(HOST, p["smtp"], timeout=20)
    s.ehlo("client.remote.test")
    s.sendmail("alice@remote.test", [USER], msg.encode("utf-8"))
    s.quit()


def wait_inbox(p, n):
    """Waits (20 s at most) until INBOX holds `n` messages."""
    c = starttls(p)
    deadline = time.time() + 20
    while True:
        data = ok(c.status("INBOX", "(MESSAGES)"))[0].decode()
        if int(data.rsplit("MESSAGES", 1)[1].strip(" )")) >= n:
            break
        assert time.time() < deadline, data
        time.sleep(0.05)
    c.logout()


def conversation(p):
    """A thread, a reply to it, an encoded subject and a reply whose parent is missing
    (RFC 5256 SORT and THREAD). Each is delivered before the next is sent: the queue runner
    delivers messages side by side, and the sequence numbers the checks name must be in
    sending order."""
    send_raw(p, "Subject: Plan\r\nMessage-ID: <a@t>\r\n"
                "Date: Fri, 10 Nov 2023 10:00:00 +0000\r\n")
    wait_inbox(p, 1)
    send_raw(p, "Subject: Re: Plan\r\nMessage-ID: <b@t>\r\nIn-Reply-To: <a@t>\r\n"
                "References: <a@t>\r\nDate: Sat, 11 Nov 2023 10:00:00 +0000\r\n")
    wait_inbox(p, 2)
    send_raw(p, "Subject: =?UTF-8?Q?=C3=84pfel?=\r\nMessage-ID: <c@t>\r\n"
                "Date: Thu, 9 Nov 2023 10:00:00 +0000\r\n")
    wait_inbox(p, 3)
    send_raw(p, "Subject: Re: [team] Plan\r\nMessage-ID: <d@t>\r\n"
                "References: <missing@t>\r\nDate: Sun, 12 Nov 2023 10:00:00 +0000\r\n")
    wait_inbox(p, 4)
    print(json.dumps({"sent": 4}))


def sort(p):
    c = starttls(p)
    caps = list(c.capabilities)
    ok(c.select("INBOX"))
    out = {"caps": caps}
    out["subject"] = ok(c.sort("(SUBJECT)", "UTF-8", "ALL"))[0].decode()
    out["reverse_date"] = ok(c.sort("(REVERSE DATE)", "UTF-8", "ALL"))[0].decode()
    out["uid_date"] = ok(c.uid("SORT", "(DATE)", "UTF-8", "ALL"))[0].decode()
    out["from_search"] = ok(c.sort("(ARRIVAL)", "US-ASCII", "SUBJECT", "plan"))[0].decode()
    typ, data = c._simple_command("SORT", "RETURN", "(MIN MAX COUNT)", "(DATE)", "UTF-8",
                                  "ALL")
    assert typ == "OK", data
    typ, data = c._untagged_response(typ, data, "ESEARCH")
    out["esort"] = data[0].decode()
    out["references"] = ok(c.thread("REFERENCES", "UTF-8", "ALL"))[0].decode()
    out["orderedsubject"] = ok(c.thread("ORDEREDSUBJECT", "UTF-8", "ALL"))[0].decode()
    typ, data = c.sort("(DATE)", "KOI8-R", "ALL")
    assert typ == "NO", (typ, data)
    out["badcharset"] = str(c.untagged_responses.get("BADCHARSET", [])) + str(data)
    c.logout()
    print(json.dumps(out))


def badauth(p):
    c = starttls(p, login=False)
    try:
        c.login(USER, "wrong")
        raise AssertionError("login with a wrong password worked")
    except imaplib.IMAP4.error as e:
        msg = str(e)
    c.logout()
    print(json.dumps({"error": msg}))


if __name__ == "__main__":
    scenario = sys.argv[1]
    ports = {"smtp": int(sys.argv[2]), "imap": int(sys.argv[3]), "imaps": int(sys.argv[4])}
    socket.setdefaulttimeout(20)
    {"deliver": deliver, "main": main, "imaps": imaps, "idle": idle,
     "concurrent": concurrent, "dropped": dropped, "badauth": badauth,
     "conversation": conversation, "sort": sort}[scenario](ports)
