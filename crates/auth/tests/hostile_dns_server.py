"""A tiny authoritative DNS server for hostile answers (standard library only).

Serves on 127.0.0.1, UDP and TCP on one port, printed on the first line of stdout:
- big.test TXT: one SPF record of about 64 KB (254 strings of 255 bytes); over UDP the
  answer is truncated (TC=1, no records) so the client must ask again over TCP;
- sel._domainkey.big.test TXT: a 64 KB "DKIM key" that is no key;
- silent.test: never answered (the client must time out);
- every other name: NXDOMAIN.
Runs until killed.
"""
import socket
import struct
import sys
import threading


def big_strings(head):
    # Split head + padding into character-strings of at most 255 bytes (RFC 1035 3.3.14).
    data = head.encode()
    pad = b" ip4:198.51.100.1"
    while len(data) < 254 * 255:
        data += pad
    data = data[: 254 * 255]
    return [data[i : i + 255] for i in range(0, len(data), 255)]


TXT = {
    "big.test": big_strings("v=spf1 ip4:192.0.2.0/24"),
    "sel._domainkey.big.test": big_strings("v=DKIM1; k=rsa; p=" + "A" * 300),
}


def parse_question(msg):
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1 : i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, qclass = struct.unpack("!HH", msg[i + 1 : i + 5])
    return ".".join(labels).lower(), qtype, msg[12 : i + 5]


def answer(msg, tcp):
    qid, flags = struct.unpack("!HH", msg[:4])
    name, qtype, question = parse_question(msg)
    if name == "silent.test":
        return None
    rd = flags & 0x0100
    records = TXT.get(name) if qtype == 16 else None
    if name in TXT:
        rcode, ancount = 0, 0
    else:
        rcode, ancount = 3, 0
    body = b""
    tc = 0
    if records is not None:
        if tcp:
            rdata = b"".join(bytes([len(s)]) + s for s in records)
            body = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 300, len(rdata)) + rdata
            ancount = 1
        else:
            tc = 0x0200
    flags = 0x8000 | 0x0400 | tc | rd | rcode
    return struct.pack("!HHHHHH", qid, flags, 1, ancount, 0, 0) + question + body


def serve_udp(sock):
    while True:
        msg, peer = sock.recvfrom(4096)
        try:
            reply = answer(msg, False)
        except Exception:
            continue
        if reply is not None:
            sock.sendto(reply, peer)


def serve_tcp_client(conn):
    with conn:
        while True:
            head = conn.recv(2)
            if len(head) < 2:
                return
            (n,) = struct.unpack("!H", head)
            msg = b""
            while len(msg) < n:
                part = conn.recv(n - len(msg))
                if not part:
                    return
                msg += part
            try:
                reply = answer(msg, True)
            except Exception:
                return
            if reply is None:
                continue
            conn.sendall(struct.pack("!H", len(reply)) + reply)


def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_client, args=(conn,), daemon=True).start()


for _ in range(20):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        tcp.bind(("127.0.0.1", port))
    except OSError:
        udp.close()
        tcp.close()
        continue
    tcp.listen(16)
    break
else:
    sys.exit("no free port")

threading.Thread(target=serve_tcp, args=(tcp,), daemon=True).start()
print(port, flush=True)
serve_udp(udp)
