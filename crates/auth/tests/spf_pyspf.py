"""Evaluate SPF cases with Debian's python3-spf (pyspf), an independent implementation,
against the name server on 127.0.0.1 at the port given as the first argument.

Reads a JSON list of {"ip", "sender", "helo"} on stdin and writes a JSON list of
[result, explanation] in the same order.
"""
import json
import sys

import dns.resolver
import spf

resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = int(sys.argv[1])
dns.resolver.default_resolver = resolver

out = []
for case in json.load(sys.stdin):
    result, explanation = spf.check2(
        i=case["ip"], s=case["sender"], h=case["helo"], timeout=10
    )
    out.append([result, explanation])
json.dump(out, sys.stdout)
