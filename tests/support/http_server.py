"""A real HTTP server on 127.0.0.1 for tests: routes answer with fixed responses or with a
handler function that can misbehave (resets, trickles, truncation). Counts every request."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 (a free port, or `port`) for a handler class; a context
    manager."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], default_path: str = "/",
                 port: int = 0):
        handler.protocol_version = "HTTP/1.1"
        handler.log_message = lambda *args: None
        self.default_path = default_path
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        # a short poll: shutdown() waits up to one poll, and every test starts a server
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str | None = None) -> str:
        return f"http://127.0.0.1:{self.port}{path or self.default_path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class PageServer(LocalServer):
    def __init__(self, port: int = 0):
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.hits[self.path] += 1
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                route = server.routes.get(self.path)
                if route is None:
                    return self._send(404, b"not found", {"Content-Type": "text/plain"})
                if route.handler:
                    return route.handler(self)
                if route.headers.get("ETag") and self.headers.get("If-None-Match") == route.headers["ETag"]:
                    return self._send(304, b"", {"ETag": route.headers["ETag"]})
                return self._send(route.status, route.body, route.headers)

            def _send(self, status, body, headers):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        super().__init__(Handler, port=port)

    def route(self, path: str, **kwargs) -> str:
        self.routes[path] = Route(**kwargs)
        return self.url(path)
