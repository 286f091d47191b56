"""Validate a message's ARC chain with Debian's python3-dkim (`dkim.arc_verify`), an
independent implementation. Usage: arc_verify.py MESSAGE RECORDS.json, where RECORDS.json
maps DNS names (`sel._domainkey.example.org`) to TXT record values. Prints the chain
validation status (`pass`, `fail`, `none`) and the reason; exits 3 when the dkim module is
missing."""

import json
import sys

try:
    import dkim
except ImportError as e:
    print("missing python module: %s" % e)
    sys.exit(3)

records = json.load(open(sys.argv[2]))


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    record = records.get(name.rstrip(".").lower())
    return record.encode() if record is not None else None


cv, results, reason = dkim.arc_verify(open(sys.argv[1], "rb").read(), dnsfunc=dnsfunc)
print(cv.decode(), reason)
