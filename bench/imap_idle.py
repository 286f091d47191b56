#!/usr/bin/env python3
"""imap_idle.py HOST PORT USER PASS --connections N --pids-cmd CMD

Opens N IMAP connections (asyncio, plain TCP), each LOGIN + SELECT INBOX + IDLE (RFC 2177),
and measures the server's memory: the summed VmRSS of the processes CMD prints (one PID per
line; re-run at each measurement, so Dovecot's per-connection processes are counted) before
the first connection and once all N are idling. Then one more connection APPENDs a message
to INBOX and the script times how long each idling connection takes to see `* n EXISTS`
(the IDLE push). Prints a human line per figure and a final JSON line.
Raise `ulimit -n` above N first (the script tries to).
"""
import argparse
import asyncio
import json
import resource
import subprocess
import time


def mem_kb(cmd, path="status", key="VmRSS:"):
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
    total = 0
    for pid in out.split():
        try:
            with open(f"/proc/{pid}/{path}") as f:
                for line in f:
                    if line.startswith(key):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_kb(cmd):
    """Summed VmRSS (pages shared between processes, e.g. libraries, count once each)."""
    return mem_kb(cmd)


def pss_kb(cmd):
    """Summed proportional set size: shared pages divided among the processes sharing them."""
    return mem_kb(cmd, "smaps_rollup", "Pss:")


async def expect(reader, tag_or_plus):
    """Reads lines until one starts with tag_or_plus; returns it."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if line.startswith(tag_or_plus):
            return line


async def idle_client(host, port, user, password, ready, pushed, t0_box):
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    await reader.readline()  # greeting
    writer.write(f'a LOGIN "{user}" "{password}"\r\n'.encode())
    line = await expect(reader, b"a ")
    if b"OK" not in line:
        raise RuntimeError(f"login failed: {line!r}")
    writer.write(b"b SELECT INBOX\r\n")
    await expect(reader, b"b ")
    writer.write(b"c IDLE\r\n")
    await expect(reader, b"+")
    ready.release()
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.startswith(b"* ") and line.rstrip().endswith(b"EXISTS") and t0_box:
            pushed.append(time.perf_counter() - t0_box[0])
            writer.write(b"DONE\r\n")
            await expect(reader, b"c ")
            writer.write(b"d LOGOUT\r\n")
            await writer.drain()
            writer.close()
            return


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--pids-cmd", required=True)
    ap.add_argument("--parallel", type=int, default=200, help="logins in flight at once")
    ap.add_argument("--push-timeout", type=float, default=30.0)
    ap.add_argument("--settle", type=float, default=12.0,
                    help="seconds to wait after the last IDLE before measuring RSS (lets "
                         "threads and processes that served the logins go idle or exit; "
                         "tokio's blocking threads exit after 10 s)")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.connections + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))

    res = {"connections": a.connections}
    res["rss_before_kb"] = rss_kb(a.pids_cmd)
    res["pss_before_kb"] = pss_kb(a.pids_cmd)
    ready = asyncio.Semaphore(0)
    pushed = []
    t0_box = []
    gate = asyncio.Semaphore(a.parallel)

    async def one():
        async with gate:
            inner = asyncio.Semaphore(0)
            task = asyncio.create_task(idle_client(a.host, a.port, a.user, a.password, inner, pushed, t0_box))
            await inner.acquire()
            ready.release()
            return task

    t = time.perf_counter()
    tasks = await asyncio.gather(*(one() for _ in range(a.connections)))
    res["connect_all_s"] = round(time.perf_counter() - t, 3)
    for _ in range(a.connections):
        await ready.acquire()
    await asyncio.sleep(a.settle)
    res["rss_idle_kb"] = rss_kb(a.pids_cmd)
    res["pss_idle_kb"] = pss_kb(a.pids_cmd)
    res["pss_per_connection_kb"] = round((res["pss_idle_kb"] - res["pss_before_kb"]) / a.connections, 1)
    per = (res["rss_idle_kb"] - res["rss_before_kb"]) / a.connections
    res["rss_per_connection_kb"] = round(per, 1)
    print(f"{a.connections} IDLE connections up in {res['connect_all_s']} s; "
          f"RSS {res['rss_before_kb']} KiB -> {res['rss_idle_kb']} KiB "
          f"({per:.1f} KiB per connection)", flush=True)

    # The push: one APPEND, then every idler should see EXISTS.
    reader, writer = await asyncio.open_connection(a.host, a.port)
    await reader.readline()
    writer.write(f'x LOGIN "{a.user}" "{a.password}"\r\n'.encode())
    await expect(reader, b"x ")
    msg = b"From: push@remote.test\r\nSubject: push\r\n\r\npush\r\n"
    t0_box.append(time.perf_counter())
    writer.write(b"y APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
    await expect(reader, b"y ")
    try:
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), a.push_timeout)
    except asyncio.TimeoutError:
        pass
    pushed.sort()
    res["pushed"] = len(pushed)
    if pushed:
        res["push_p50_s"] = round(pushed[len(pushed) // 2], 3)
        res["push_max_s"] = round(pushed[-1], 3)
    print(f"IDLE push: {len(pushed)}/{a.connections} saw EXISTS; "
          f"p50 {res.get('push_p50_s')} s, max {res.get('push_max_s')} s", flush=True)
    writer.write(b"z LOGOUT\r\n")
    writer.close()
    for task in tasks:
        task.cancel()
    print(json.dumps(res))


if __name__ == "__main__":
    asyncio.run(main())
