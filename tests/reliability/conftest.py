"""Fixtures of the reliability suite: a page server whose misbehaving handlers stop with the test,
and a warehouse with v1 published (built once per session by a real `kfor refresh` from a served
page, then copied into each test's own warehouse/ and raw/)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from support.http_server import PageServer
from support.tls import TLSPageServer, self_signed

HTML = "text/html; charset=utf-8"


@pytest.fixture
def stop():
    """Set when the test ends: stalled and trickling handlers give up."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def server(stop):
    with PageServer() as s:
        # a client that gives up mid-response (the point of many tests) is not a server error
        s.httpd.handle_error = lambda request, client_address: None
        yield s
        stop.set()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    made = self_signed(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("openssl is not installed: no local HTTPS server")
    return made


@pytest.fixture
def tls_server(tls_files, monkeypatch, stop):
    """A page server on https://127.0.0.1:<port>, trusted by this test's clients (SSL_CERT_FILE,
    which `kfor` subprocesses inherit too)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))
    with TLSPageServer(*tls_files) as s:
        s.httpd.handle_error = lambda request, client_address: None
        yield s
        stop.set()
