#!/usr/bin/env python3
"""Password guessing as an attacker on the open internet tries it, against a running
`mailward serve` (real clients: imaplib, poplib, smtplib). The server's `[limits]` must
have `auth_failures` small (the tests use 3) and `connections_per_ip` above 25.

Usage: auth_attacks.py SCENARIO SMTP SUBMISSION IMAP POP3
Scenarios:
  parallel  19 IMAP connections opened first, then 19 wrong passwords sent at once; then
            the right password on connections opened before the block, in IMAP, POP3 and
            SMTP submission, and a new IMAP connection.
  across    one wrong password in each of POP3, IMAP and SMTP, then a new connection of
            each protocol.
Prints one JSON line saying what each attempt got; the Rust test judges it.
"""
import imaplib
import json
import poplib
import smtplib
import sys
import threading
from testenv import HOST, USER, PASSWORD, ctx

GUESSES = 19


def imap(port):
    c = imaplib.IMAP4(HOST, port, timeout=60)
    c.starttls(ssl_context=ctx())
    return c


def pop3(port):
    c = poplib.POP3(HOST, port, timeout=60)
    c.stls(context=ctx())
    return c


def submission(port):
    c = smtplib.SMTP(HOST, port, timeout=60)
    c.starttls(context=ctx())
    c.ehlo("guesser")
    return c


def imap_login(c, password):
    try:
        c.login(USER, password)
        return "OK"
    except imaplib.IMAP4.abort as e:
        return f"closed: {e}"
    except imaplib.IMAP4.error as e:
        return f"NO: {e}"
    except OSError as e:
        return f"closed: {e}"


def pop3_login(c, password):
    try:
        c.user(USER)
        c.pass_(password)
        return "OK"
    except poplib.error_proto as e:
        return f"ERR: {e}"
    except OSError as e:
        return f"closed: {e}"


def smtp_login(c, password):
    try:
        c.login(USER, password)
        return "OK"
    except smtplib.SMTPAuthenticationError as e:
        return f"refused: {e.smtp_code} {e.smtp_error!r}"
    except smtplib.SMTPServerDisconnected as e:
        return f"closed: {e}"
    except smtplib.SMTPResponseException as e:
        return f"refused: {e.smtp_code} {e.smtp_error!r}"
    except OSError as e:
        return f"closed: {e}"


def new_imap(port):
    try:
        c = imap(port)
        return imap_login(c, PASSWORD)
    except imaplib.IMAP4.abort as e:
        return f"refused at connect: {e}"
    except (imaplib.IMAP4.error, OSError) as e:
        return f"refused at connect: {e}"


def parallel(p):
    guessers = [imap(p["imap"]) for _ in range(GUESSES)]
    # Opened before the first guess: the attacker's way around a check made at connect.
    later_imap = imap(p["imap"])
    later_pop3 = pop3(p["pop3"])
    later_smtp = submission(p["submission"])
    start = threading.Barrier(GUESSES)
    results = [None] * GUESSES

    def guess(i):
        start.wait()
        results[i] = imap_login(guessers[i], f"wrong-{i}")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "guesses": results,
        "right_password": {
            "imap": imap_login(later_imap, PASSWORD),
            "pop3": pop3_login(later_pop3, PASSWORD),
            "smtp": smtp_login(later_smtp, PASSWORD),
            "new_imap": new_imap(p["imap"]),
        },
    }


def across(p):
    # In this order: smtplib tries a second mechanism after a failure, so SMTP goes last.
    first = {
        "pop3": pop3_login(pop3(p["pop3"]), "wrong-pop3"),
        "imap": imap_login(imap(p["imap"]), "wrong-imap"),
        "smtp": smtp_login(submission(p["submission"]), "wrong-smtp"),
    }
    try:
        c = smtplib.SMTP(HOST, p["smtp"], timeout=60)
        smtp_after = f"greeted: {c.ehlo()}"
    except smtplib.SMTPConnectError as e:
        smtp_after = f"refused at connect: {e.smtp_code}"
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        smtp_after = f"refused at connect: {e}"
    try:
        poplib.POP3(HOST, p["pop3"], timeout=60)
        pop3_after = "greeted"
    except (poplib.error_proto, OSError) as e:
        pop3_after = f"refused at connect: {e}"
    return {
        "wrong": first,
        "after": {"smtp": smtp_after, "pop3": pop3_after, "imap": new_imap(p["imap"])},
    }


if __name__ == "__main__":
    name = sys.argv[1]
    ports = dict(zip(["smtp", "submission", "imap", "pop3"], map(int, sys.argv[2:6])))
    print(json.dumps({"parallel": parallel, "across": across}[name](ports)))
