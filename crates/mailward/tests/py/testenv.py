"""What every client script of these tests shares: the server's address, the test account,
and a TLS context that accepts mailward's self-signed certificate."""
import ssl

HOST = "127.0.0.1"
USER = "bob@example.test"
PASSWORD = "bob-secret"


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE  # self-signed certificate
    return c


def send_mail(smtp_port, subject):
    """Delivers one small message from alice@remote.test to the test account by SMTP."""
    import smtplib
    msg = (
        "From: Alice <alice@remote.test>\r\nTo: bob@example.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@remote.test>\r\n"
        "\r\nBody of " + subject + ".\r\n"
    )
    s = smtplib.SMTP(HOST, smtp_port, timeout=20)
    s.ehlo("client.remote.test")
    s.sendmail("alice@remote.test", [USER], msg.encode("utf-8"))
    s.quit()


def connect(p):
    """An imaplib session on `p["imap"]`, after STARTTLS, logged in as the test account."""
    import imaplib
    c = imaplib.IMAP4(HOST, p["imap"], timeout=20)
    c.starttls(ctx())
    c.login(USER, PASSWORD)
    return c


def line_of(c):
    """The next response line of an imaplib session, CRLF stripped."""
    line = c.readline()
    if not line:
        raise AssertionError("connection closed")
    return line.decode("utf-8", "replace").rstrip("\r\n")


def exchange(c, command, expect="OK"):
    """Sends one command line (no literal) on an imaplib session; once the tagged reply
    arrives (which must start with `expect`), returns (tag, the reply without the tag,
    the untagged lines before it)."""
    tag = c._new_tag().decode()
    c.send(f"{tag} {command}\r\n".encode())
    lines = []
    while True:
        line = line_of(c)
        if line.startswith(tag + " "):
            assert line.startswith(f"{tag} {expect}"), (command, lines, line)
            return tag, line[len(tag) + 1:], lines
        lines.append(line)


def read_response(c):
    """One response of an imaplib session with the literals it carries (`{n}` or `~{n}` at
    a line end), as bytes."""
    import re
    out = b""
    while True:
        line = c.readline()
        if not line:
            raise AssertionError("connection closed")
        out += line
        m = re.search(rb"~?\{(\d+)\}\r\n$", line)
        if not m:
            return out
        out += c.read(int(m.group(1)))
