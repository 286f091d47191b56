#!/usr/bin/env python3
"""imap_fetch_raw.py HOST PORT USER PASS

Server-side speed of FETCH 1:* (FLAGS ENVELOPE): LOGIN and SELECT INBOX, then the seconds
from sending the command to reading its tagged completion, with a client that only splits
the response into lines (imaplib's parsing, which bounds imap_bench.py's figure on large
mailboxes, is left out). Prints one JSON line: {"seconds": ..., "first_byte": ...,
"lines": ..., "bytes": ...}.
"""
import json
import socket
import sys
import time


def until_tagged(f, tag):
    """Reads lines up to the tagged response; returns (lines, bytes, seconds to first line)."""
    t = time.perf_counter()
    first = None
    lines = size = 0
    while True:
        line = f.readline()
        if first is None:
            first = time.perf_counter() - t
        if not line:
            raise SystemExit("connection closed before the tagged response")
        lines += 1
        size += len(line)
        if line.startswith(tag + b" "):
            if not line.startswith(tag + b" OK"):
                raise SystemExit(f"command failed: {line!r}")
            return lines, size, first


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    s = socket.create_connection((host, port))
    f = s.makefile("rb", buffering=1 << 16)
    f.readline()
    s.sendall(f"a LOGIN {user} {password}\r\n".encode())
    until_tagged(f, b"a")
    s.sendall(b"b SELECT INBOX\r\n")
    until_tagged(f, b"b")
    t = time.perf_counter()
    s.sendall(b"c FETCH 1:* (FLAGS ENVELOPE)\r\n")
    lines, size, first = until_tagged(f, b"c")
    seconds = time.perf_counter() - t
    s.sendall(b"d LOGOUT\r\n")
    s.close()
    print(json.dumps({"seconds": round(seconds, 4), "first_byte": round(first, 4),
                      "lines": lines, "bytes": size}))


if __name__ == "__main__":
    main()
