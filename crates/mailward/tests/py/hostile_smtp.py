#!/usr/bin/env python3
"""A destination SMTP server for mailward's outbound client to deliver to, behaving well or
badly, one mode per behaviour (standard library only).

Usage: hostile_smtp.py MODE EVENTS_FILE [DELAY_MS]
Listens on 127.0.0.1 on a free port and prints that port on the first line of stdout. Every
connection, STARTTLS and accepted message is appended to EVENTS_FILE as one JSON line
(`{"event": "accepted", "message_id": ..., "rcpts": [...], "message": ...}`), written before the reply that
acknowledges it. Exits by itself after LIFETIME seconds, so a test that dies leaves nothing.

Modes:
  accept                 a well-behaved server (DELAY_MS before the 250 to the final dot)
  continuation_greeting  `220-` lines without end instead of a greeting
  slow_continuation      `220-` lines without end, one every 0.3 s (never 128 of them
                         within the client's time-out)
  continuation_ehlo      a greeting, then `250-` lines without end after EHLO
  long_line              a greeting, then a 1 MB line as the EHLO reply
  http                   an HTTP response instead of a greeting
  binary                 a TLS record header and random binary instead of a greeting
  starttls_garbage       offers STARTTLS, says 220 to it, then sends garbage instead of a
                         TLS handshake; a session that does not ask for STARTTLS is served
  stall_after_data       takes the message, never answers the final dot
  tempfail_rcpt_once     the first RCPT ever gets 451, everything after is accepted
  tempfail_data_once     the first final dot ever gets 451, everything after is accepted
  reject_rcpt            every RCPT gets 550 5.1.1
  silent                 accepts the connection and never says anything
  extra_reply            a stray `250` line right after its EHLO reply
  data_250               `250` to DATA instead of `354` (and no message taken)
  idle_chatter           0.3 s after each accepted message, an unsolicited `250` line
  starttls_stall         like starttls_garbage, but silence instead of the garbage
"""
import json
import os
import random
import socket
import socketserver
import sys
import threading
import time

LIFETIME = 120
# How long one connection may last whatever the client does.
CONNECTION_LIMIT = 30

MODE = sys.argv[1]
EVENTS = sys.argv[2]
DELAY = int(sys.argv[3]) / 1000.0 if len(sys.argv) > 3 else 0.0

lock = threading.Lock()
state = {"rcpt_seen": 0, "dot_seen": 0}


def record(**event):
    with lock:
        with open(EVENTS, "a") as f:
            f.write(json.dumps(event) + "\n")
            f.flush()


def bump(key):
    with lock:
        state[key] += 1
        return state[key]


class Session(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.settimeout(CONNECTION_LIMIT)
        self.deadline = time.monotonic() + CONNECTION_LIMIT
        self.buf = b""

    def send(self, data):
        self.request.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.request.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
            if len(self.buf) > 1 << 20:
                raise ConnectionError("line too long")
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def endless(self, prefix, pause=0.0):
        """Continuation lines until the client hangs up (or the connection limit)."""
        n = 0
        while time.monotonic() < self.deadline:
            n += 1
            self.send(b"%s-line %d of a reply that never ends\r\n" % (prefix, n))
            time.sleep(pause)

    def wait_for_close(self):
        """Reads and ignores until the client hangs up (or the connection limit)."""
        while time.monotonic() < self.deadline:
            if not self.request.recv(65536):
                return

    def handle(self):
        record(event="connect")
        try:
            self.session()
        except (OSError, ConnectionError):
            pass

    def session(self):
        if MODE == "continuation_greeting":
            return self.endless(b"220")
        if MODE == "slow_continuation":
            return self.endless(b"220", 0.3)
        if MODE == "http":
            self.send(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
                      b"Content-Length: 22\r\nConnection: close\r\n\r\n<h1>Bad Request</h1>\r\n")
            return self.wait_for_close()
        if MODE == "silent":
            return self.wait_for_close()
        if MODE == "binary":
            self.send(b"\x16\x03\x01\x02\x00" + random.Random(15).randbytes(64 * 1024))
            return self.wait_for_close()
        self.send(b"220 hostile.test ESMTP ready\r\n")
        rcpts = []
        while True:
            line = self.line()
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                if MODE == "continuation_ehlo":
                    return self.endless(b"250")
                if MODE == "long_line":
                    self.send(b"250 " + b"a" * (1 << 20) + b"\r\n")
                    return self.wait_for_close()
                caps = [b"hostile.test", b"PIPELINING", b"8BITMIME", b"SIZE 10000000"]
                if MODE in ("starttls_garbage", "starttls_stall"):
                    caps.append(b"STARTTLS")
                reply = b"".join(b"250-" + c + b"\r\n" for c in caps[:-1])
                reply += b"250 " + caps[-1] + b"\r\n"
                if MODE == "extra_reply":
                    reply += b"250 2.0.0 and one more\r\n"
                self.send(reply)
            elif line.upper() == b"STARTTLS" and MODE in ("starttls_garbage", "starttls_stall"):
                record(event="starttls")
                self.send(b"220 2.0.0 go ahead\r\n")
                self.request.recv(65536)  # the ClientHello
                if MODE == "starttls_garbage":
                    self.send(b"this is not TLS at all\r\n" * 8)
                return self.wait_for_close()
            elif verb == b"MAIL":
                rcpts = []
                self.send(b"250 2.1.0 ok\r\n")
            elif verb == b"RCPT":
                addr = line.split(b":", 1)[-1].split(b">")[0].lstrip(b" <").decode("utf-8", "replace")
                first = bump("rcpt_seen") == 1
                if MODE == "reject_rcpt":
                    self.send(b"550 5.1.1 <%s>: no such user here\r\n" % addr.encode())
                elif MODE == "tempfail_rcpt_once" and first:
                    self.send(b"451 4.3.0 <%s>: greylisted, try again later\r\n" % addr.encode())
                else:
                    rcpts.append(addr)
                    self.send(b"250 2.1.5 ok\r\n")
            elif verb == b"DATA":
                if not rcpts:
                    self.send(b"554 5.5.1 no valid recipients\r\n")
                    continue
                if MODE == "data_250":
                    self.send(b"250 2.0.0 ok\r\n")
                    rcpts = []
                    continue
                self.send(b"354 go ahead\r\n")
                body = []
                while True:
                    l = self.line()
                    if l == b".":
                        break
                    body.append(l[1:] if l.startswith(b".") else l)
                if MODE == "stall_after_data":
                    record(event="stalled")
                    return self.wait_for_close()
                if MODE == "tempfail_data_once" and bump("dot_seen") == 1:
                    self.send(b"451 4.3.0 queue file write error, try again\r\n")
                    rcpts = []
                    continue
                message_id = ""
                for l in body:
                    if not l:
                        break
                    if l.lower().startswith(b"message-id:"):
                        message_id = l.split(b":", 1)[1].strip().decode("utf-8", "replace")
                if DELAY:
                    time.sleep(DELAY)
                text = b"\r\n".join(body) + b"\r\n"
                # The whole message, for the tests that look inside (up to 64 KB).
                message = text.decode("latin-1") if len(text) <= 65536 else None
                record(event="accepted", message_id=message_id, rcpts=rcpts, message=message)
                self.send(b"250 2.0.0 accepted\r\n")
                rcpts = []
                if MODE == "idle_chatter":
                    time.sleep(0.3)
                    self.send(b"250 2.0.0 still here\r\n")
            elif verb == b"RSET":
                rcpts = []
                self.send(b"250 2.0.0 ok\r\n")
            elif verb == b"NOOP":
                self.send(b"250 2.0.0 ok\r\n")
            elif verb == b"QUIT":
                self.send(b"221 2.0.0 bye\r\n")
                return
            else:
                self.send(b"500 5.5.2 what?\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    server = Server(("127.0.0.1", 0), Session)
    print(server.server_address[1], flush=True)
    timer = threading.Timer(LIFETIME, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
