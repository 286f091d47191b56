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
