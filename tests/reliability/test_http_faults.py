"""HTTP faults from a real server on 127.0.0.1, against orchestration.core.fetch.fetch (retries counted
by server hits, waits recorded by an injected `sleep`) and, for a selection, against `kfor refresh
--source URL` as a process: one line naming the cause, a non-zero exit, the published warehouse
byte-identical, nothing half-written, the fetch log saying `failed: <cause>`."""

from __future__ import annotations

import email.utils
import gzip
import time
from datetime import UTC, datetime, timedelta

import pytest
from support import pages
from support.warehouse import file_sha256

from orchestration.core.fetch import FetchError, FetchPolicy, Validators, fetch

from . import faults
from .harness import assert_refused, kfor, leftovers, log_records

HTML = "text/html; charset=utf-8"
V1 = pages.v1()
# Tiny backoff and short timeouts: every test here takes well under two seconds.
FAST = dict(connect_timeout=1.0, read_timeout=0.5, deadline=5.0, max_attempts=3, backoff=0.01)


def policy(**overrides) -> FetchPolicy:
    return FetchPolicy(**{**FAST, **overrides})


def fetch_fails(url: str, pol: FetchPolicy | None = None, **kwargs) -> tuple[FetchError, list]:
    waits: list[float] = []
    with pytest.raises(FetchError) as info:
        fetch(url, policy=pol or policy(), sleep=waits.append, **kwargs)
    error = info.value
    assert error.cause and "\n" not in error.cause and str(error) == error.cause
    return error, waits


# -- retried: 5xx, 429, resets, timeouts, truncation --------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_retryable_status_is_retried_up_to_max_attempts(server, status):
    url = server.route("/p", status=status, body=b"busy")
    error, waits = fetch_fails(url)
    assert server.hits["/p"] == 3
    assert error.attempts == 3 and error.status == status and not error.unreachable
    assert error.cause == f"HTTP {status} from {url} (after 3 attempts)"
    assert waits == [0.01, 0.02]  # exponential backoff between attempts, none after the last


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_transient_status_then_success(server, status):
    url = server.route("/p", handler=faults.sequence(faults.respond(status, b"busy"),
                                                     faults.respond(200, V1)))
    waits: list[float] = []
    result = fetch(url, policy=policy(), sleep=waits.append)
    assert result.body == V1 and result.status == 200 and result.attempts == 2
    assert server.hits["/p"] == 2 and waits == [0.01]


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_seconds_is_honoured(server, status):
    url = server.route("/p", status=status, body=b"later", headers={"Retry-After": "7"})
    error, waits = fetch_fails(url, policy(max_attempts=4, deadline=60.0))
    assert server.hits["/p"] == 4 and error.attempts == 4
    assert waits == [7.0, 7.0, 7.0]  # the header's wait, not the 0.01 s backoff


def test_retry_after_http_date_is_honoured(server):
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=9), usegmt=True)
    url = server.route("/p", status=503, body=b"later", headers={"Retry-After": when})
    _, waits = fetch_fails(url, policy(deadline=60.0))
    assert server.hits["/p"] == 3 and len(waits) == 2
    assert all(6.0 <= w <= 9.0 for w in waits), waits


def test_retry_after_beyond_the_deadline_gives_up_at_once(server):
    url = server.route("/p", status=503, body=b"later", headers={"Retry-After": "3600"})
    error, waits = fetch_fails(url, policy(deadline=5.0))
    assert server.hits["/p"] == 1 and waits == []
    assert error.cause == f"HTTP 503 from {url} (the 5 s deadline leaves no time to retry)"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_not_retried(server, status):
    url = server.route("/p", status=status, body=b"no")
    error, waits = fetch_fails(url)
    assert server.hits["/p"] == 1 and waits == []
    assert error.cause == f"HTTP {status} from {url}" and error.status == status


def test_connection_reset_is_retried(server):
    url = server.route("/p", handler=faults.reset())
    error, waits = fetch_fails(url)
    assert server.hits["/p"] == 3 and len(waits) == 2
    assert error.cause.startswith("connection to 127.0.0.1 broke: ")
    assert error.cause.endswith("(after 3 attempts)")
    assert not error.unreachable  # the server answered: no offline fallback


def test_connection_reset_then_success(server):
    url = server.route("/p", handler=faults.sequence(faults.reset(), faults.respond(200, V1)))
    assert fetch(url, policy=policy(), sleep=lambda s: None).body == V1
    assert server.hits["/p"] == 2


def test_nothing_listening_is_unreachable(server):
    server.httpd.server_close()  # the port is closed: connection refused
    error, waits = fetch_fails(server.url("/p"))
    assert error.unreachable and error.cause.startswith("cannot connect to 127.0.0.1")
    assert len(waits) == 2


@pytest.mark.parametrize("after_headers", [True, False], ids=["stalled-body", "stalled-headers"])
def test_read_timeout_is_retried(server, stop, after_headers):
    url = server.route("/p", handler=faults.stall(5.0, stop, after_headers=after_headers))
    started = time.monotonic()
    error, waits = fetch_fails(url, policy(read_timeout=0.3))
    assert server.hits["/p"] == 3 and len(waits) == 2
    assert error.cause.startswith(f"timed out reading {url}")
    assert time.monotonic() - started < 2.0


def test_the_overall_deadline_bounds_stalled_attempts(server, stop):
    """Attempts that each stall just under the read timeout cannot add up past the deadline."""
    url = server.route("/p", handler=faults.stall(5.0, stop))
    started = time.monotonic()
    error, _ = fetch_fails(url, policy(read_timeout=0.4, deadline=1.0, max_attempts=10))
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 0.25, f"{elapsed:.2f} s for a 1 s deadline ({error.cause})"


def test_a_slow_trickle_trips_the_overall_deadline(server, stop):
    """200 bytes every 50 ms: no read waits anywhere near the 0.5 s read timeout, but the whole
    page would take ~4.6 s; the 1 s deadline ends it, once (no retry can finish in time)."""
    url = server.route("/p", handler=faults.trickle(V1, 200, 0.05, stop))
    started = time.monotonic()
    error, waits = fetch_fails(url, policy(read_timeout=0.5, deadline=1.0))
    elapsed = time.monotonic() - started
    assert server.hits["/p"] == 1 and waits == []
    assert error.cause.startswith(f"the 1 s deadline passed while reading {url}")
    assert elapsed < 1.3, elapsed


def test_a_trickle_of_headers_trips_the_overall_deadline(server, stop):
    """The same trickle before the body (one header byte every 50 ms): the deadline still holds."""
    url = server.route("/p", handler=faults.slow_headers(0.05, stop))
    started = time.monotonic()
    error, _ = fetch_fails(url, policy(read_timeout=0.5, deadline=1.0))
    assert error.cause.startswith(f"the 1 s deadline passed while reading {url}"), error.cause
    assert time.monotonic() - started < 1.3


def test_a_trickle_that_finishes_in_time_is_fine(server, stop):
    url = server.route("/p", handler=faults.trickle(V1, 4096, 0.02, stop))
    assert fetch(url, policy=policy()).body == V1


def test_truncated_body_is_retried_and_named(server):
    url = server.route("/p", handler=faults.truncated(V1[:5000]))
    error, waits = fetch_fails(url)
    assert server.hits["/p"] == 3 and len(waits) == 2
    assert error.cause.startswith("truncated body"), error.cause
    assert error.cause.endswith("(after 3 attempts)")


def test_truncated_then_complete(server):
    url = server.route("/p", handler=faults.sequence(faults.truncated(V1[:5000]),
                                                     faults.respond(200, V1)))
    assert fetch(url, policy=policy(), sleep=lambda s: None).body == V1


# -- conditional GET -------------------------------------------------------------------------------

def test_a_conditional_get_sends_the_validators_and_reads_a_304(server):
    url = server.route("/p", body=V1, headers={"Content-Type": HTML, "ETag": '"v1"',
                                                "Last-Modified": "Mon, 20 Nov 2023 16:24:00 GMT"})
    first = fetch(url, policy=policy())
    assert first.validators == Validators('"v1"', "Mon, 20 Nov 2023 16:24:00 GMT")
    assert "If-None-Match" not in server.requests[-1]["headers"]
    again = fetch(url, first.validators, policy=policy())
    sent = server.requests[-1]["headers"]
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == (
        '"v1"', "Mon, 20 Nov 2023 16:24:00 GMT")
    assert again.not_modified and again.body is None and again.status == 304
    assert again.validators.etag == '"v1"'
    changed = fetch(url, Validators('"v0"'), policy=policy())  # the server's ETag moved on
    assert not changed.not_modified and changed.body == V1


# -- refused at once: content type, size cap, redirects, schemes --------------------------------

@pytest.mark.parametrize("content_type", ["application/pdf", "application/json", "image/png",
                                          "text/plain; charset=utf-8"])
def test_non_html_content_type_is_refused(server, content_type):
    url = server.route("/p", body=V1, headers={"Content-Type": content_type})
    error, waits = fetch_fails(url)
    assert server.hits["/p"] == 1 and waits == []
    assert error.cause == f"{url} answered with {content_type!r}, not HTML"


@pytest.mark.parametrize("content_type", ["text/html", "TEXT/HTML; charset=UTF-8",
                                          "application/xhtml+xml"])
def test_html_content_types_are_accepted(server, content_type):
    url = server.route("/p", body=V1, headers={"Content-Type": content_type})
    assert fetch(url, policy=policy()).body == V1


def test_body_over_the_cap_with_content_length(server):
    url = server.route("/p", body=b"<p>" + b"x" * 20_000)
    error, waits = fetch_fails(url, policy(max_bytes=10_000))
    assert server.hits["/p"] == 1 and waits == []
    assert error.cause == "body of 20003 bytes is over the 10000-byte cap"


def test_body_over_the_cap_without_content_length(server):
    url = server.route("/p", handler=faults.chunked(b"<p>" + b"x" * 200_000, piece=4096))
    error, waits = fetch_fails(url, policy(max_bytes=10_000))
    assert server.hits["/p"] == 1 and waits == []
    assert error.cause == "body is over the 10000-byte cap"


def test_a_compressed_bomb_is_capped_after_decoding(server):
    bomb = gzip.compress(b"<p>" + b"a" * 2_000_000)  # ~2 KB on the wire
    url = server.route("/p", body=bomb, headers={"Content-Type": HTML,
                                                 "Content-Encoding": "gzip"})
    error, _ = fetch_fails(url, policy(max_bytes=100_000))
    assert error.cause == "body is over the 100000-byte cap"


def test_a_body_exactly_at_the_cap_is_accepted(server):
    url = server.route("/p", body=V1)
    assert fetch(url, policy=policy(max_bytes=len(V1))).body == V1


def test_a_broken_compressed_body_is_a_fetch_error(server):
    """Content-Encoding: gzip over bytes that are not gzip: a FetchError naming it, not a crash."""
    url = server.route("/p", body=b"this is not gzip at all" * 10,
                       headers={"Content-Type": HTML, "Content-Encoding": "gzip"})
    error, _ = fetch_fails(url)
    assert "decod" in error.cause.lower(), error.cause


def test_redirect_loop(server):
    server.route("/a", handler=faults.redirect("/b"))
    url_b = server.route("/b", handler=faults.redirect(server.url("/a")))
    error, waits = fetch_fails(server.url("/a"))
    assert error.cause == (f"redirect loop: {server.url('/a')} -> {url_b} -> {server.url('/a')}")
    assert server.hits["/a"] == 1 and server.hits["/b"] == 1 and waits == []


def test_too_many_redirects(server):
    for i in range(10):
        server.route(f"/r{i}", handler=faults.redirect(f"/r{i + 1}"))
    error, _ = fetch_fails(server.url("/r0"), policy(max_redirects=5))
    assert error.cause == f"more than 5 redirects from {server.url('/r0')}"
    assert sum(server.hits.values()) == 6


def test_a_redirect_is_followed_on_the_same_host(server):
    server.route("/old", handler=faults.redirect("/new", status=301))
    url = server.route("/new", body=V1)
    result = fetch(server.url("/old"), policy=policy())
    assert result.body == V1 and result.url == url


def other_host(server, path: str) -> str:
    """The same server by another host name: 127.0.0.1 and localhost are two hosts to a client."""
    return f"http://localhost:{server.port}{path}"


def test_redirect_to_another_host_is_refused(server):
    server.route("/p", handler=faults.redirect(other_host(server, "/elsewhere")))
    server.route("/elsewhere", body=V1)
    error, waits = fetch_fails(server.url("/p"))
    assert error.cause == (f"redirect to another host refused: {other_host(server, '/elsewhere')} "
                           "(allow it with KFOR_ALLOWED_HOSTS)")
    assert server.hits["/elsewhere"] == 0 and waits == []


def test_redirect_to_an_allowed_host_is_followed(server):
    server.route("/p", handler=faults.redirect(other_host(server, "/elsewhere")))
    server.route("/elsewhere", body=V1)
    result = fetch(server.url("/p"), policy=policy(allowed_hosts=("localhost",)))
    assert result.body == V1 and server.hits["/elsewhere"] == 1


def test_kfor_allowed_hosts_configures_the_default_policy(server, monkeypatch):
    """A refresh fetches with the settings' policy: KFOR_ALLOWED_HOSTS must reach it."""
    from orchestration.core import settings

    monkeypatch.setenv("KFOR_ALLOWED_HOSTS", "example.org, localhost")
    settings.get.cache_clear()
    server.route("/p", handler=faults.redirect(other_host(server, "/elsewhere")))
    server.route("/elsewhere", body=V1)
    assert fetch(server.url("/p"), policy=settings.get().fetch_policy()).body == V1


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/page.htm",
                                    "javascript:alert(1)"])
def test_redirect_to_a_non_http_scheme_is_refused(server, target):
    server.route("/p", handler=faults.redirect(target))
    error, _ = fetch_fails(server.url("/p"))
    assert error.cause.startswith("redirect to a non-http URL refused: ")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/topics_48818.htm", "javascript:alert(1)",
                                 "data:text/html,<h1>x</h1>", "gopher://127.0.0.1/",
                                 "/tmp/page.html", "topics_48818.htm"])
def test_unsupported_schemes_are_refused(url):
    error, _ = fetch_fails(url)
    assert error.cause.startswith("unsupported URL scheme ")
    assert error.cause.endswith(": only http, https and file are allowed")


def test_file_scheme_is_accepted_and_capped(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(V1)
    assert fetch(page.as_uri()).body == V1
    error, _ = fetch_fails(page.as_uri(), policy(max_bytes=1000))
    assert error.cause == f"{page} is {len(V1)} bytes, over the 1000-byte cap"


def test_file_scheme_refuses_devices():
    """/dev/zero reports size 0 and never ends: reading it would fill memory past any cap."""
    error, _ = fetch_fails("file:///dev/zero", policy(max_bytes=1000))
    assert error.cause == "/dev/zero is not a regular file"


# -- through `kfor refresh`: one line, non-zero exit, nothing changed ---------------------------

def _refuse(server, published_v1, raw_dir, url, outcome, **env):
    before = file_sha256(published_v1)
    n = len(log_records(raw_dir))
    out = kfor("refresh", "--source", url, env=env or None)
    record = assert_refused(out, published_v1, raw_dir, before, outcome)
    assert len(log_records(raw_dir)) == n + 1
    assert record["url"] == url and record["body_sha256"] is None
    return out, record


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_cli_500_retried_then_fails_cleanly(server, published_v1, raw_dir):
    # Retry-After: 0 spares the default 1 + 2 + 4 s backoff (fetch-level tests cover the backoff)
    url = server.route("/p", status=500, body=b"oops", headers={"Retry-After": "0"})
    out, record = _refuse(server, published_v1, raw_dir, url,
                          f"failed: HTTP 500 from {url} (after 4 attempts)")
    assert server.hits["/p"] == 4 and record["attempts"] == 4 and record["status"] == 500
    assert out.stderr.strip() == f"failed: HTTP 500 from {url} (after 4 attempts)"


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_cli_429_honours_retry_after(server, published_v1, raw_dir):
    url = server.route("/p", status=429, body=b"slow down", headers={"Retry-After": "1"})
    started = time.monotonic()
    _refuse(server, published_v1, raw_dir, url, f"failed: HTTP 429 from {url} (after 4 attempts)")
    assert server.hits["/p"] == 4
    assert time.monotonic() - started >= 3.0  # three waits of one second


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
@pytest.mark.parametrize("status", [403, 404])
def test_cli_client_error_is_not_retried(server, published_v1, raw_dir, status):
    url = server.route("/p", status=status, body=b"no")
    _refuse(server, published_v1, raw_dir, url, f"failed: HTTP {status} from {url}")
    assert server.hits["/p"] == 1


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_cli_non_html(server, published_v1, raw_dir):
    url = server.route("/p", body=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})
    _refuse(server, published_v1, raw_dir, url,
            f"failed: {url} answered with 'application/pdf', not HTML")


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_cli_size_cap(server, published_v1, raw_dir):
    big = b"<p>" + b"x" * 5_000_000
    url = server.route("/p", body=big)
    _refuse(server, published_v1, raw_dir, url,
            f"failed: body of {len(big)} bytes is over the 5000000-byte cap")
    url = server.route("/chunked", handler=faults.chunked(big))
    _refuse(server, published_v1, raw_dir, url, "failed: body is over the 5000000-byte cap")


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_cli_redirect_loop(server, published_v1, raw_dir):
    server.route("/a", handler=faults.redirect("/b"))
    server.route("/b", handler=faults.redirect("/a"))
    _refuse(server, published_v1, raw_dir, server.url("/a"), "failed: redirect loop: ")


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_cli_redirect_to_another_host(server, published_v1, raw_dir):
    server.route("/p", handler=faults.redirect(other_host(server, "/elsewhere")))
    server.route("/elsewhere", body=pages.v1())
    _refuse(server, published_v1, raw_dir, server.url("/p"),
            "failed: redirect to another host refused: ")
    # allowed by configuration: followed, and the page (v1 again) is found unchanged
    out = kfor("refresh", "--source", server.url("/p"), env={"KFOR_ALLOWED_HOSTS": "localhost"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("unchanged: ")
    assert log_records(raw_dir)[-1]["outcome"] == "unchanged"
    assert not leftovers(published_v1, raw_dir)


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
@pytest.mark.parametrize("url", ["ftp://127.0.0.1/topics_48818.htm", "javascript:alert(1)"])
def test_cli_unsupported_scheme(published_v1, raw_dir, url):
    out, _ = _refuse(None, published_v1, raw_dir, url, "failed: unsupported URL scheme ")
    assert "only http, https and file are allowed" in out.stderr
