#!/usr/bin/env python3
"""ManageSieve (RFC 5804) on raw sockets, for what sieve-connect cannot send.

Usage: managesieve_raw.py SCENARIO MANAGESIEVE_PORT
Each scenario asserts what a client sees and prints one JSON line. Exit status 0 = held.
"""
import base64
import json
import socket
import ssl
import sys
from testenv import HOST, USER, PASSWORD, ctx


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), timeout=20)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def response(self):
        """Lines up to and including the OK/NO/BYE line."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.split(" ", 1)[0] in ("OK", "NO", "BYE"):
                return lines

    def starttls(self):
        self.send(b"STARTTLS\r\n")
        assert self.response()[-1].startswith("OK"), "STARTTLS refused"
        self.sock = ctx().wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""
        return self.response()

    def closed(self):
        """True when the server has closed the connection."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def login(c, password=PASSWORD):
    c.send(f'AUTHENTICATE "PLAIN" "{plain(USER, password)}"\r\n'.encode())
    return c.response()[-1]


def capabilities_again_after_starttls(port):
    c = Conn(port)
    greeting = c.response()
    assert '"STARTTLS"' in greeting, greeting
    assert any(l.startswith('"SIEVE" ') and "fileinto" in l for l in greeting), greeting
    assert '"VERSION" "1.0"' in greeting, greeting
    after = c.starttls()
    # RFC 5804 §2.2: capabilities again, without STARTTLS.
    assert after[-1].startswith("OK"), after
    assert '"STARTTLS"' not in after, after
    assert '"SASL" "PLAIN LOGIN"' in after, after
    assert login(c) == 'OK "Logged in"'
    c.send(b'NOOP "tag-1"\r\n')
    noop = c.response()[-1]
    assert noop == 'OK (TAG "tag-1") "Done"', noop
    c.send(b"LOGOUT\r\n")
    assert c.response()[-1].startswith("OK")
    print(json.dumps({"greeting": greeting, "after_tls": after}))


def authenticate_before_starttls_is_refused(port):
    # The server runs with plaintext_auth_on_loopback = false, so loopback counts as any
    # other network here.
    c = Conn(port)
    greeting = c.response()
    assert '"SASL" ""' in greeting, greeting
    reply = login(c)
    assert reply.startswith("NO (ENCRYPT-NEEDED)"), reply
    c.starttls()
    assert login(c) == 'OK "Logged in"'
    print(json.dumps({"before_tls": reply}))


def literal_over_the_limit_is_bye(port):
    c = Conn(port)
    c.response()
    c.starttls()
    assert login(c) == 'OK "Logged in"'
    # Within the quota's literal allowance but over max_script_size: NO, session goes on.
    script = b"keep;\r\n" + b"#" * 3000 + b"\r\n"
    c.send(b'PUTSCRIPT "big" {%d+}\r\n' % len(script) + script + b"\r\n")
    too_big = c.response()[-1]
    assert too_big.startswith("NO (QUOTA/MAXSIZE)"), too_big
    c.send(b'HAVESPACE "big" 3010\r\n')
    assert c.response()[-1].startswith("NO (QUOTA/MAXSIZE)")
    # A literal far over any script size: BYE before its octets are read.
    c.send(b'PUTSCRIPT "huge" {50000000+}\r\n')
    bye = c.response()[-1]
    assert bye.startswith("BYE (QUOTA/MAXSIZE)"), bye
    assert c.closed()
    print(json.dumps({"too_big": too_big, "bye": bye}))


def bad_passwords_are_throttled(port):
    replies = []
    blocked = None
    for _ in range(6):
        c = Conn(port)
        try:
            c.response()
            c.starttls()
            reply = login(c, "wrong-password")
        except (EOFError, ConnectionResetError, ssl.SSLError) as e:
            blocked = str(e)
            break
        replies.append(reply)
        if reply.startswith("BYE"):
            blocked = reply
            break
    assert replies[0] == 'NO "Authentication failed"', replies
    assert blocked is not None, replies
    # The right password is refused too while the address is blocked.
    c = Conn(port)
    try:
        first = c.response()[-1]
    except EOFError:
        first = "closed"
    assert first.startswith("BYE (TRYLATER)") or first == "closed", first
    print(json.dumps({"replies": replies, "blocked": blocked, "then": first}))


SCENARIOS = {
    "capabilities_again_after_starttls": capabilities_again_after_starttls,
    "authenticate_before_starttls_is_refused": authenticate_before_starttls_is_refused,
    "literal_over_the_limit_is_bye": literal_over_the_limit_is_bye,
    "bad_passwords_are_throttled": bad_passwords_are_throttled,
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](int(sys.argv[2]))
