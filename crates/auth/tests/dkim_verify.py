"""Verify every DKIM-Signature of a message with Debian's python3-dkim, an independent
verifier. Usage: dkim_verify.py MESSAGE RECORDS.json, where RECORDS.json maps DNS names
(`sel._domainkey.example.com`) to TXT record values. Prints one line per signature,
`<index> pass` or `<index> fail <reason>`; exits 3 when the dkim module is missing."""

import json
import logging
import sys

try:
    import dkim
    import nacl.signing  # noqa: F401  (ed25519-sha256, RFC 8463)
except ImportError as e:
    print("missing python module: %s" % e)
    sys.exit(3)

message = open(sys.argv[1], "rb").read()
records = json.load(open(sys.argv[2]))


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    record = records.get(name.rstrip(".").lower())
    return record.encode() if record is not None else None


class Reasons(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


reasons = Reasons()
logger = logging.getLogger("dkim-verify")
logger.addHandler(reasons)
logger.setLevel(logging.DEBUG)

d = dkim.DKIM(message, logger=logger)
count = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
for idx in range(count):
    reasons.lines.clear()
    try:
        ok = d.verify(idx=idx, dnsfunc=dnsfunc)
    except Exception as e:  # a verifier error is a failure to report, not a crash
        ok = False
        reasons.lines.append("%s: %s" % (type(e).__name__, e))
    if ok:
        print("%d pass" % idx)
    else:
        why = [l for l in reasons.lines if "mismatch" in l or "Error" in l or "fail" in l]
        print("%d fail %s" % (idx, " | ".join(why or reasons.lines[-2:])))
