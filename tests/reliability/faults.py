"""Misbehaving HTTP handlers for tests/support/http_server.PageServer routes
(`server.route(path, handler=...)`), and a webhook receiver that records POST bodies.

Every handler gets the BaseHTTPRequestHandler of one request; PageServer has already counted the
hit. Handlers that stall wait on STOP (set when the test's server shuts down) with a bound, so no
thread outlives a test by more than a few seconds."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler

from support.http_server import LocalServer

HTML = "text/html; charset=utf-8"


def _head(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.flush()


def reset():
    """Read the request, then abort the connection with a TCP RST (SO_LINGER 0), no response."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True
        h.connection.close()
    return handler


def stall(seconds: float, stop: threading.Event, *, after_headers: bool = True,
          body: bytes = b"<html>"):
    """Send the status line and headers (or nothing at all), then go silent for `seconds`."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        if after_headers:
            _head(h, 200, {"Content-Type": HTML, "Content-Length": str(len(body))})
        stop.wait(seconds)
        h.close_connection = True
    return handler


def trickle(body: bytes, piece: int, interval: float, stop: threading.Event):
    """A complete, honest response whose body comes `piece` bytes every `interval` seconds: no
    single read waits long, but the whole takes len(body) / piece * interval seconds."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {"Content-Type": HTML, "Content-Length": str(len(body))})
        try:
            for i in range(0, len(body), piece):
                if stop.wait(interval):
                    break
                h.wfile.write(body[i:i + piece])
                h.wfile.flush()
        except OSError:  # the client gave up
            pass
        h.close_connection = True
    return handler


def slow_headers(interval: float, stop: threading.Event, count: int = 2000):
    """The status line, then a long header one byte every `interval` seconds."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(count):
                if stop.wait(interval):
                    break
                h.wfile.write(b"a")
                h.wfile.flush()
        except OSError:  # the client gave up
            pass
        h.close_connection = True
    return handler


def truncated(body: bytes, missing: int = 1000):
    """Content-Length promises `missing` more bytes than are sent; then the connection closes."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {"Content-Type": HTML, "Content-Length": str(len(body) + missing)})
        h.wfile.write(body)
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_WR)
    return handler


def chunked(body: bytes, piece: int = 65536, content_type: str = HTML):
    """A chunked response: no Content-Length, so only counting the bytes can enforce a cap."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        try:
            for i in range(0, len(body), piece):
                part = body[i:i + piece]
                h.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except OSError:  # the client stopped reading at its cap
            h.close_connection = True
    return handler


def redirect(location: str, status: int = 302):
    def handler(h: BaseHTTPRequestHandler) -> None:
        _head(h, status, {"Location": location, "Content-Length": "0"})
    return handler


def sequence(*handlers):
    """The n-th request gets the n-th handler; the last one answers every later request."""
    lock, count = threading.Lock(), [0]

    def handler(h: BaseHTTPRequestHandler) -> None:
        with lock:
            i = min(count[0], len(handlers) - 1)
            count[0] += 1
        handlers[i](h)
    return handler


def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None):
    headers = {"Content-Type": HTML, **(headers or {})}

    def handler(h: BaseHTTPRequestHandler) -> None:
        _head(h, status, {**headers, "Content-Length": str(len(body))})
        if body:
            h.wfile.write(body)
    return handler


class WebhookReceiver(LocalServer):
    """A local HTTP endpoint that records the JSON body of every POST (alerts)."""

    def __init__(self, status: int = 200):
        self.posts: list[dict] = []
        self.received = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = {"_unparsed": raw.decode(errors="replace")}
                with receiver.received:
                    receiver.posts.append({"path": self.path, "json": payload,
                                           "content_type": self.headers.get("Content-Type")})
                    receiver.received.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler, default_path="/alerts")

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        end = time.monotonic() + timeout
        with self.received:
            while len(self.posts) < n and time.monotonic() < end:
                self.received.wait(end - time.monotonic())
        return list(self.posts)
