"""An HTTPS server for MTA-STS policies (serve_outbound.rs):

    https_policy.py ADDR CERT KEY DIR

serves DIR/<Host header>.txt at /.well-known/mta-sts.txt over TLS on ADDR:443, 404
elsewhere; prints "ready" once listening."""
import http.server
import os
import ssl
import sys

addr, cert, key, root = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        path = os.path.join(root, host + ".txt")
        if self.path != "/.well-known/mta-sts.txt" or not os.path.exists(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer((addr, 443), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
