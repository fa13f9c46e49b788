"""A Wayback Machine on 127.0.0.1 for tests: a CDX API answering what cdx-toolkit asks
(`GET /cdx/search/cdx?url=...&output=json&page=N[&from=...&to=...]`, the Internet Archive's JSON:
a list of rows after a header row, paginated, an empty body past the last page) and the replay
URLs `/web/<timestamp>id_/<url>`. Every request is counted and timed."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from support.http_server import LocalServer

FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


def sha1_digest(body: bytes) -> str:
    """The CDX digest of a payload: its SHA-1 in base32."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode()


@dataclass
class Replay:
    timestamp: str
    url: str
    body: bytes
    status: str = "200"  # the CDX row's statuscode
    digest: str | None = None  # default: the body's
    # HTTP statuses to answer with before the body (a 500 that a retry gets past)
    failures: list[int] = field(default_factory=list)
    content_type: str = "text/html; charset=utf-8"

    @property
    def path(self) -> str:
        return f"/web/{self.timestamp}id_/{self.url}"

    def row(self) -> list[str]:
        return ["gov,nato)/x", self.timestamp, self.url, "text/html", self.status,
                self.digest or sha1_digest(self.body), str(len(self.body))]


class ArchiveServer(LocalServer):
    def __init__(self, page_size: int = 3):
        self.replays: dict[str, Replay] = {}
        self.page_size = page_size
        self.hits: Counter[str] = Counter()
        self.times: list[tuple[float, str]] = []  # (monotonic time, path) of every request
        self.cdx_queries: list[dict] = []
        self.cdx_failures: list[int] = []
        self.handlers: dict[str, Callable] = {}  # path -> a handler that answers it instead
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.hits[self.path] += 1
                server.times.append((time.monotonic(), self.path))
                parts = urlsplit(self.path)
                if parts.path == "/cdx/search/cdx":
                    return server._cdx(self, parse_qs(parts.query))
                if self.path in server.handlers:
                    return server.handlers[self.path](self)
                replay = server.replays.get(self.path)
                if replay is None:
                    return _send(self, 404, b"not found", "text/plain")
                if replay.failures:
                    return _send(self, replay.failures.pop(0), b"busy", "text/plain")
                return _send(self, 200, replay.body, replay.content_type)

        super().__init__(Handler)
        # a short poll: shutting the server down at the end of a test takes 0.05 s, not 0.5 s
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def endpoint(self) -> str:
        return self.url("/cdx/search/cdx")

    @property
    def replay_prefix(self) -> str:
        return self.url("/web")

    def add(self, replay: Replay) -> Replay:
        self.replays[replay.path] = replay
        return replay

    def replay_hits(self) -> Counter[str]:
        return Counter({p: n for p, n in self.hits.items() if p.startswith("/web/")})

    def _cdx(self, handler, query: dict) -> None:
        self.cdx_queries.append({k: v[0] for k, v in query.items()})
        if self.cdx_failures:
            return _send(handler, self.cdx_failures.pop(0), b"busy", "text/plain")
        url = query["url"][0]
        lo, hi = query.get("from", [""])[0], query.get("to", [""])[0]
        rows = sorted(r.row() for r in self.replays.values() if r.url == url
                      and r.timestamp[:len(lo)] >= lo and (not hi or r.timestamp[:len(hi)] <= hi))
        page = int(query.get("page", ["0"])[0])
        chunk = rows[page * self.page_size:(page + 1) * self.page_size]
        if page > 0 and not chunk:
            return _send(handler, 200, b"", "text/plain")  # past the last page
        _send(handler, 200, json.dumps([FIELDS, *chunk]).encode(), "application/json")


def _send(handler, status: int, body: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
