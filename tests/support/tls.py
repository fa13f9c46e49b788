"""HTTPS for tests: a throwaway self-signed certificate for 127.0.0.1 and localhost (made by the
openssl command line, no Python package needed) and a PageServer that speaks TLS. Clients trust
the certificate through SSL_CERT_FILE (httpx honours it), so the fetch code runs unchanged."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

from support.http_server import PageServer


def self_signed(folder: Path) -> tuple[Path, Path] | None:
    """(certificate, key) in `folder`, or None when openssl is not installed."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TLSPageServer(PageServer):
    """A PageServer on https://127.0.0.1:<port> (a free port, or `port`). The TLS handshake runs
    in the request's thread."""

    def __init__(self, cert: Path, key: Path, port: int = 0):
        super().__init__(port=port)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True,
                                                do_handshake_on_connect=False)

    def url(self, path: str | None = None) -> str:
        port = "" if self.port == 443 else f":{self.port}"
        return f"https://127.0.0.1{port}{path or self.default_path}"
