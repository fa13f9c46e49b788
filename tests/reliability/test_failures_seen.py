"""Every failure is seen (issue 10): an offline fallback never passes for a fresh fetch and alerts
once the page is stale; a TLS failure is a failure, not "offline"; whatever raises, a failed refresh
is logged once and alerted, with one line that keeps the OS's words and the path (and says so when
the log itself cannot be written); validators of unchanged fetches are kept and sent; a warehouse
of any name publishes; page text in the Dagster preview is inert."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from html import unescape
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import pages
from support.tls import TLSPageServer
from support.warehouse import file_sha256

from orchestration.core import layout as paths
from orchestration.core import settings as kfor_settings
from orchestration.core.archive import Archive
from orchestration.core.decide import RefreshError, decide, validated_record
from orchestration.core.fetch import FetchError, FetchPolicy, fetch
from orchestration.core.outcome import LINE_LIMIT, freshness, one_line, outcome_of

from .harness import KFOR, assert_refused, kfor, leftovers, log_records

HTML = "text/html; charset=utf-8"
SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
FAST = FetchPolicy(connect_timeout=1.0, read_timeout=1.0, deadline=5.0, max_attempts=2,
                   backoff=0.01)
TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def offline(monkeypatch):
    """NATO's live URL, as far as this process knows, on a closed local port: every fetch of the
    default source fails to connect, as without DNS or network. No setting is added for it."""
    url = f"http://127.0.0.1:{closed_port()}/cps/en/natohq/topics_48818.htm"
    monkeypatch.setattr(paths, "LIVE_URL", url)
    monkeypatch.setattr("orchestration.core.fetch.FetchPolicy.backoff", 0.01)
    kfor_settings.get.cache_clear()
    return url


def age_log(raw_dir: Path, hours: float) -> None:
    """Make every fetch in the log `hours` old (the log is JSON lines; fetched_at is UTC)."""
    log = raw_dir / "fetch_log.jsonl"
    then = (datetime.now(UTC) - timedelta(hours=hours)).strftime(TIME)
    log.write_text("".join(json.dumps({**r, "fetched_at": then}) + "\n" for r in log_records(raw_dir)))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    from orchestration.drivers.cli import main

    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- 1. offline: an archive fallback is never a fresh fetch ------------------------------------

@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_an_offline_fallback_ten_days_after_the_last_live_fetch_alerts_and_is_stale(
        offline, published_v1, raw_dir, receiver, capsys):
    """On 049884d this exits 0 quietly and `kfor status` says "fetched 0.0 h ago"."""
    age_log(raw_dir, hours=240)
    before = file_sha256(published_v1)
    code, out, err = run_cli(capsys, "refresh")
    assert code == 0 and out.startswith("unchanged: "), (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: cannot connect to 127.0.0.1"), err
    assert "offline, so using the archived version published" in lines[0]
    assert "stale: the last live fetch was 240.0 h ago (stale after 48 h)" in lines[0], lines[0]
    record = log_records(raw_dir)[-1]
    assert (record["source"], record["outcome"]) == ("archive", "unchanged")
    assert "offline, so using" in record["message"] and "stale:" in record["message"]
    assert file_sha256(published_v1) == before

    alerts = receiver.wait_for(1)
    assert len(alerts) == 1 and alerts[0]["json"]["event"] == "refresh_stale", alerts
    assert alerts[0]["json"]["fetch_id"] == record["fetch_id"]
    assert "240.0 h ago" in alerts[0]["json"]["message"]

    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert status["stale"] is True and 239.9 < status["hours_since_last_successful_fetch"] < 240.2
    assert status["refreshes"][-1]["source"] == "archive"
    code, out, _ = run_cli(capsys, "status")
    assert "last successful fetch of the source 240.0 h ago" in out and "-> STALE" in out, out


@pytest.mark.slow  # in CI's slow run: keeps `make test` within its three minutes
def test_an_offline_fallback_within_the_window_warns_but_does_not_alert_or_refresh_the_age(
        offline, published_v1, raw_dir, receiver, capsys):
    age_log(raw_dir, hours=5)
    code, out, err = run_cli(capsys, "refresh")
    assert code == 0 and "offline, so using" in err and "stale" not in err, err
    assert log_records(raw_dir)[-1]["source"] == "archive"
    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert status["stale"] is False
    assert 4.9 < status["hours_since_last_successful_fetch"] < 5.2  # not 0.0: the fallback
    assert receiver.wait_for(1, timeout=1) == []


SOURCES = st.sampled_from(["live", "file", "archive", "rollback", "import", None])
OUTCOMES = st.sampled_from(["published", "unchanged", "rejected: parse:empty_body",
                            "failed: HTTP 404 from u"])


@st.composite
def fetch_logs(draw):
    now = datetime.now(UTC)
    return [{"fetch_id": f"f{i}", "source": draw(SOURCES), "outcome": draw(OUTCOMES),
             "fetched_at": (now - timedelta(hours=draw(st.floats(0, 2000)))).strftime(TIME)}
            for i in range(draw(st.integers(0, 8)))]


@SETTINGS
@given(log=fetch_logs(), others=fetch_logs(), window=st.integers(1, 500), data=st.data())
def test_fallbacks_rollbacks_and_imports_never_change_the_freshness(log, others, window, data):
    """Freshness is the age of the newest successful fetch of the source itself: records of
    other sources (archive fallbacks, rollbacks, imports), of any outcome and time, inserted
    anywhere in the log, change nothing."""
    conf = kfor_settings.Settings(freshness_hours=window)
    mixed = list(log)
    for record in (r for r in others if r["source"] not in ("live", "file")):
        mixed.insert(data.draw(st.integers(0, len(mixed))), record)
    age, stale = freshness(conf, log)
    mixed_age, mixed_stale = freshness(conf, mixed)
    fresh = [r for r in log if r["source"] in ("live", "file")
             and r["outcome"] in ("published", "unchanged")]
    assert (age is None) == (not fresh) == (mixed_age is None)
    assert stale == mixed_stale == (age is None or age > window)
    if age is not None:
        assert abs(age - mixed_age) < 0.01


# -- 2. TLS failures are failures, never "offline" ---------------------------------------------

def test_an_untrusted_certificate_is_a_tls_failure_not_unreachable(tls_files, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system store: not our self-signed
    with TLSPageServer(*tls_files) as s:
        s.httpd.handle_error = lambda request, client_address: None
        url = s.route("/p.htm", body=pages.v1(), headers={"Content-Type": HTML})
        with pytest.raises(FetchError) as info:
            fetch(url, policy=FAST, sleep=lambda _: None)
    error = info.value
    assert not error.unreachable
    assert error.cause.startswith("TLS certificate of 127.0.0.1 not trusted: "), error.cause
    assert "CERTIFICATE_VERIFY_FAILED" in error.cause and error.attempts == 1


def serve_raw(reply: bytes):
    """A TCP server on 127.0.0.1 that reads what the client sends, answers `reply` (not a TLS
    handshake) and closes. Returns (url, stop)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.2)
    done = threading.Event()

    def loop():
        while not done.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(4096)
                    conn.sendall(reply)
                except OSError:
                    pass
        sock.close()

    threading.Thread(target=loop, daemon=True).start()
    return f"https://127.0.0.1:{sock.getsockname()[1]}/p.htm", done.set


@SETTINGS
@given(reply=st.one_of(st.binary(min_size=0, max_size=64),
                       st.sampled_from([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                                        b"\x15\x03\x03\x00\x02\x02\x28",  # a TLS alert
                                        b"\x16\x03\x01\x00\x05hello"])))
def test_a_broken_tls_handshake_is_a_tls_failure_not_unreachable(reply):
    """Whatever a server sends instead of a TLS handshake (plain HTTP, an alert, garbage, nothing),
    the fetch fails naming TLS and never takes the offline path."""
    url, stop = serve_raw(reply)
    try:
        with pytest.raises(FetchError) as info:
            fetch(url, policy=FAST, sleep=lambda _: None)
    finally:
        stop()
    assert not info.value.unreachable, info.value.cause
    assert info.value.cause.startswith("TLS handshake with 127.0.0.1 failed: "), info.value.cause


def test_a_tls_failure_of_the_live_url_fails_and_alerts_instead_of_going_offline(
        tls_files, monkeypatch, published_v1, raw_dir, receiver, capsys):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    before = file_sha256(published_v1)
    with TLSPageServer(*tls_files) as s:
        s.httpd.handle_error = lambda request, client_address: None
        url = s.route("/cps/en/natohq/topics_48818.htm", body=pages.v1(),
                      headers={"Content-Type": HTML})
        monkeypatch.setattr(paths, "LIVE_URL", url)
        code, out, err = run_cli(capsys, "refresh")
    assert code == 1 and out == "", (out, err)
    assert err.strip().startswith("failed: TLS certificate of 127.0.0.1 not trusted"), err
    record = log_records(raw_dir)[-1]
    assert record["outcome"].startswith("failed: TLS ") and record["source"] == "live"
    assert file_sha256(published_v1) == before
    assert [a["json"]["event"] for a in receiver.wait_for(1)] == ["refresh_failed"]


# -- 3. every failed refresh is logged and alerted, whatever raised ----------------------------

def assert_seen(proc, receiver, warehouse_path, raw_dir, published_sha, records_before: int,
                outcome_prefix: str) -> dict:
    """One new fetch-log record with a failed outcome, one alert naming it, exit 1, one line,
    the published file byte-identical."""
    record = assert_refused(proc, warehouse_path, raw_dir, published_sha, outcome_prefix)
    assert len(log_records(raw_dir)) == records_before + 1
    alerts = receiver.wait_for(1)
    assert len(receiver.wait_for(2, timeout=0.5)) == 1
    alert = alerts[0]["json"]
    assert alert["event"] == "refresh_failed" and alert["outcome"] == record["outcome"], alert
    assert alert["fetch_id"] == record["fetch_id"]
    return record


def not_modified(h: BaseHTTPRequestHandler) -> None:
    h.send_response(304)
    h.send_header("ETag", '"x"')
    h.end_headers()


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_304_without_validators_is_logged_and_alerted(server, published_v1, raw_dir,
                                                         warehouse_path, receiver):
    """v1 was published without validators, so the request is unconditional: a 304 confirms
    nothing (on 049884d: a TypeError, nothing logged)."""
    url = server.route("/p.htm", handler=not_modified)
    sha, n = file_sha256(published_v1), len(log_records(raw_dir))
    out = kfor("refresh", "--source", url)
    assert_seen(out, receiver, warehouse_path, raw_dir, sha, n,
                "failed: 304 Not Modified with no published version")
    assert "If-None-Match" not in server.requests[-1]["headers"]


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_304_with_nothing_published_is_logged_and_alerted(server, raw_dir, warehouse_path,
                                                            receiver):
    url = server.route("/p.htm", handler=not_modified)
    out = kfor("refresh", "--source", url)
    assert_seen(out, receiver, warehouse_path, raw_dir, None, 0,
                "failed: 304 Not Modified with no published version")


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_tampered_archive_file_is_logged_and_alerted(server, published_v1, raw_dir,
                                                       warehouse_path, receiver):
    page = raw_dir / "pages" / f"{hashlib.sha256(pages.v1()).hexdigest()}.html"
    page.write_bytes(page.read_bytes() + b"<!-- edited -->")
    url = server.route("/p.htm", body=pages.v1(), headers={"Content-Type": HTML})
    sha, n = file_sha256(published_v1), len(log_records(raw_dir))
    out = kfor("refresh", "--source", url)
    record = assert_seen(out, receiver, warehouse_path, raw_dir, sha, n,
                         "failed: ArchiveDamaged: archived page ")
    assert str(page) in record["outcome"] and "does not match its SHA-256" in record["outcome"]
    assert record["body_sha256"] == hashlib.sha256(pages.v1()).hexdigest()


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_garbage_published_file_is_rebuilt_from_the_archive_and_said(server, published_v1,
                                                                       raw_dir, warehouse_path,
                                                                       receiver):
    """Not a failure any more (it crashed with no record on 049884d): the archive and the log are
    the source of truth, so the refresh rebuilds the history from them, says so, and keeps the
    garbage aside for inspection (test_damage.py has the rest)."""
    published_v1.write_bytes(garbage := os.urandom(300_000))
    url = server.route("/p.htm", body=pages.v2(), headers={"Content-Type": HTML})
    out = kfor("refresh", "--source", url)
    assert out.returncode == 0, out.stderr
    assert "is not a readable warehouse" in out.stderr and "rebuilding it" in out.stderr
    assert log_records(raw_dir)[-1]["outcome"] == "published"
    aside = [p for p in warehouse_path.parent.iterdir() if ".corrupt-" in p.name]
    assert [p.read_bytes() == garbage for p in aside] == [True]


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_read_write_reader_holding_the_lock_is_logged_and_alerted(server, published_v1,
                                                                    raw_dir, warehouse_path,
                                                                    receiver):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
        "sys.stdin.read()"), str(published_v1)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        url = server.route("/p.htm", body=pages.v2(), headers={"Content-Type": HTML})
        sha, n = file_sha256(published_v1), len(log_records(raw_dir))
        out = kfor("refresh", "--source", url)
        record = assert_seen(out, receiver, warehouse_path, raw_dir, sha, n,
                             "failed: WarehouseLocked: the published file ")
        assert "Could not set lock on file" in record["outcome"], record["outcome"]
        assert not [p for p in warehouse_path.parent.iterdir() if ".corrupt-" in p.name]
    finally:
        holder.communicate("", timeout=30)


def _limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG ("File too large") instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


FILE_LIMIT = 600_000  # above what the Dagster instance and the log write in a test, below the page


def big_page() -> bytes:
    """v2 with a comment that takes it past FILE_LIMIT (under the 5 MB cap)."""
    body = pages.v2().replace(b"</body>", b"<!--" + b"x" * (FILE_LIMIT + 100_000) + b"--></body>")
    assert len(body) > FILE_LIMIT
    return body


def refresh_with_file_limit(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([KFOR, "refresh", "--source", url], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                          preexec_fn=_limit_file_size(FILE_LIMIT))


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_full_disk_while_archiving_is_logged_and_alerted_with_the_os_words_and_path(
        server, published_v1, raw_dir, warehouse_path, receiver):
    body = big_page()
    target = raw_dir / "pages" / f"{hashlib.sha256(body).hexdigest()}.html"
    url = server.route("/p.htm", body=body, headers={"Content-Type": HTML})
    sha, n = file_sha256(published_v1), len(log_records(raw_dir))
    out = refresh_with_file_limit(url)
    record = assert_seen(out, receiver, warehouse_path, raw_dir, sha, n, "failed: OSError: ")
    assert record["outcome"] == (f"failed: OSError: [Errno {errno.EFBIG}] "
                                 f"{os.strerror(errno.EFBIG)}: {str(target)!r}")
    assert not target.exists()


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_full_disk_that_stops_the_log_itself_is_alerted_and_says_so(
        server, published_v1, raw_dir, warehouse_path, receiver):
    """The log is past the size limit, so its append fails too: the line and the alert say so."""
    log = raw_dir / "fetch_log.jsonl"
    filler = {"fetch_id": "filler", "fetched_at": "2020-01-01T00:00:00.000000Z", "url": "u",
              "outcome": "failed: filler", "message": "x" * FILE_LIMIT}
    with log.open("a") as f:
        f.write(json.dumps(filler) + "\n")
    log_before = log.read_bytes()
    url = server.route("/p.htm", body=big_page(), headers={"Content-Type": HTML})
    sha = file_sha256(published_v1)
    out = refresh_with_file_limit(url)
    assert out.returncode == 1 and out.stdout == "", out
    line, = out.stderr.strip().splitlines()
    note = (f"(the fetch log could not be written: OSError: [Errno {errno.EFBIG}] "
            f"{os.strerror(errno.EFBIG)}: {str(log)!r})")
    assert line.startswith("failed: OSError: [Errno 27] File too large: ") and line.endswith(note)
    assert log.read_bytes() == log_before  # cut back: no half line
    assert file_sha256(published_v1) == sha
    assert not [p for p in leftovers(warehouse_path, raw_dir) if p.endswith(".tmp")]
    alert, = receiver.wait_for(1)
    assert alert["json"]["event"] == "refresh_failed" and alert["json"]["outcome"] == line
    assert alert["json"]["message"].endswith(note)


DAMAGE = st.one_of(
    st.binary(min_size=1, max_size=5000).map(lambda b: ("garbage", b)),
    st.integers(1, 4096).map(lambda n: ("truncated", n)),
    st.just(("empty", b"")))


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(damage=DAMAGE, tamper=st.sampled_from(["append", "flip", "truncate"]))
def test_any_damage_that_raises_is_concluded_once_by_decide(published_v1, raw_dir, receiver,
                                                            tmp_path_factory, damage, tamper):
    """Generated damage to the published file and to the archived page (decide() in this
    process, against the real archive, published file and instance): each ends as one logged
    failure and one alert, never as a bare exception."""
    work = tmp_path_factory.mktemp("damage")
    kind, value = damage
    published = work / "kfor.duckdb"
    original = published_v1.read_bytes()
    published.write_bytes(value if kind != "truncated" else original[:value])
    raw = work / "raw"
    raw.mkdir()
    (raw / "fetch_log.jsonl").write_bytes((raw_dir / "fetch_log.jsonl").read_bytes())
    page = work / "raw" / "pages" / f"{hashlib.sha256(pages.v1()).hexdigest()}.html"
    page.parent.mkdir()
    body = pages.v1()
    page.write_bytes({"append": body + b" ", "flip": bytes([body[0] ^ 1]) + body[1:],
                      "truncate": body[:-1]}[tamper])
    source = work / "p.html"
    source.write_bytes(body)
    conf = kfor_settings.get()
    from dataclasses import replace

    conf = replace(conf, warehouse=published, raw_dir=raw, source_url=source.as_uri())
    sent = len(receiver.posts)
    published_sha = file_sha256(published)
    with pytest.raises(RefreshError) as info:
        decide(conf)
    records = Archive(raw).fetches()
    assert len(records) == 2 and records[-1]["outcome"].startswith("failed: "), records[-1]
    assert info.value.outcome == records[-1]["outcome"] and "\n" not in info.value.outcome
    assert len(receiver.wait_for(sent + 1)) == sent + 1
    assert receiver.posts[-1]["json"]["fetch_id"] == records[-1]["fetch_id"]
    assert file_sha256(published) == published_sha


# -- 4. one-line causes keep the OS's words and the path ----------------------------------------

def real_enospc(path: str) -> OSError:
    """A real ENOSPC from the kernel (/dev/full), re-raised as the archive does: with the path."""
    try:
        with open("/dev/full", "wb", buffering=0) as f:
            f.write(b"x")
    except OSError as e:
        return OSError(e.errno, e.strerror, path)
    raise AssertionError("/dev/full accepted a write")


@SETTINGS
@given(depth=st.integers(1, 60), name=st.text("abcdefghij._-", min_size=1, max_size=40))
def test_a_full_disk_keeps_no_space_left_and_the_path_however_long_the_path(tmp_path, depth,
                                                                             name):
    path = str(Path(tmp_path, *["raw"] * depth, f"{name}.html"))
    outcome, cause = outcome_of(real_enospc(path))
    assert len(outcome) <= LINE_LIMIT and "\n" not in outcome
    assert outcome.startswith("failed: OSError: [Errno 28] No space left on device: '"), outcome
    assert outcome.endswith(f"{name}.html'"), outcome
    assert path in cause


def test_real_os_errors_keep_errno_words_and_paths(tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(OSError) as mkdir:
        os.mkdir(missing)
    outcome, _ = outcome_of(mkdir.value)
    assert outcome == f"failed: FileNotFoundError: [Errno 2] No such file or directory: '{missing}'"
    with pytest.raises(OSError) as rename:
        os.rename(tmp_path / "a", tmp_path / "b")
    assert outcome_of(rename.value)[0].endswith(f"'{tmp_path / 'a'}' -> '{tmp_path / 'b'}'")
    try:  # an error raised from an OSError keeps the OS's words
        try:
            with open("/dev/full", "wb", buffering=0) as full:
                full.write(b"x")
        except OSError as e:
            raise RuntimeError("could not write the page") from e
    except RuntimeError as e:
        assert outcome_of(e)[0] == ("failed: RuntimeError: could not write the page "
                                    "([Errno 28] No space left on device)")


def test_a_cause_on_several_lines_is_logged_and_alerted_on_one():
    """A Postgres server's error puts its HINT on a line of its own (a full tablespace)."""
    error = RuntimeError('could not extend file "pg_tblspc/1/2": No space left on device\n'
                         "HINT:  Check free disk space.\n")
    outcome, cause = outcome_of(error)
    assert cause == ('RuntimeError: could not extend file "pg_tblspc/1/2": No space left on '
                     "device HINT: Check free disk space.")
    assert outcome == f"failed: {cause}"


def test_a_raw_dir_that_cannot_be_created_names_its_path(tmp_path):
    """A raw dir under a file (as good as a full one: mkdir fails) gives the errno and path."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(OSError) as info:
        Archive(blocker / "raw").store(pages.v1())
    outcome, _ = outcome_of(info.value)
    assert outcome == (f"failed: NotADirectoryError: [Errno 20] Not a directory: "
                       f"'{blocker / 'raw' / 'pages'}'"), outcome


@SETTINGS
@given(text=st.text(min_size=0, max_size=3000))
def test_one_line_keeps_both_ends_within_the_limit(text):
    line = one_line(text)
    assert len(line) <= LINE_LIMIT and "\n" not in line
    flat = " ".join(text.split())
    if len(flat) <= LINE_LIMIT:
        assert line == flat
    else:
        assert flat.startswith(line[:200]) and flat.endswith(line[-100:])


# -- 5. validators of unchanged fetches are kept and sent ---------------------------------------

class Validating:
    """A page that answers 304 to If-None-Match of its ETag or If-Modified-Since of its
    Last-Modified, counting the conditional requests it gets."""

    def __init__(self, body: bytes, etag: str, last_modified: str):
        self.body, self.etag, self.last_modified = body, etag, last_modified
        self.conditional = 0
        self.not_modified = 0

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        sent_etag, sent_since = h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")
        self.conditional += bool(sent_etag or sent_since)
        headers = {"ETag": self.etag, "Last-Modified": self.last_modified}
        if sent_etag == self.etag or (sent_etag is None and sent_since == self.last_modified):
            self.not_modified += 1
            h.send_response(304)
            body = b""
        else:
            h.send_response(200)
            headers["Content-Type"] = HTML
            body = self.body
        headers["Content-Length"] = str(len(body))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_validators_of_unchanged_fetches_are_kept_and_sent(server, published_v1, raw_dir):
    """v1 was published without validators. The server now sends some: the next check sends them
    back and gets a 304, recorded as unchanged with the body it confirms. A markup-only edit (a
    new ETag, the same version) is kept too, and its 304 confirms the new body."""
    page = Validating(pages.v1(), '"v1-a"', "Mon, 18 Nov 2023 10:00:00 GMT")
    url = server.route("/p.htm", handler=page)
    for _ in range(2):
        out = kfor("refresh", "--source", url)
        assert out.returncode == 0 and out.stdout.startswith("unchanged: "), out.stderr
    assert (page.conditional, page.not_modified) == (1, 1)
    sent = server.requests[-1]["headers"]
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == ('"v1-a"', page.last_modified)
    first, confirmed = log_records(raw_dir)[-2:]
    assert (first["status"], first["etag"], first["outcome"]) == (200, '"v1-a"', "unchanged")
    assert (confirmed["status"], confirmed["outcome"]) == (304, "unchanged")
    assert confirmed["body_sha256"] == hashlib.sha256(pages.v1()).hexdigest()
    assert confirmed["content_sha256"] == first["content_sha256"]

    edited = pages.v1().replace(b"</body>", b"<!-- markup only --></body>")
    page.body, page.etag = edited, '"v1-b"'
    for _ in range(2):
        assert kfor("refresh", "--source", url).returncode == 0
    assert (page.conditional, page.not_modified) == (3, 2)
    markup, again = log_records(raw_dir)[-2:]
    assert (markup["status"], markup["etag"]) == (200, '"v1-b"')
    assert (again["status"], again["outcome"]) == (304, "unchanged")
    assert again["body_sha256"] == hashlib.sha256(edited).hexdigest() == markup["body_sha256"]
    assert again["content_sha256"] == first["content_sha256"]


LOG_URLS = st.sampled_from(["http://a/p", "http://b/p"])


@st.composite
def validator_logs(draw):
    return [{"fetch_id": f"f{i}", "url": draw(LOG_URLS), "outcome": draw(OUTCOMES),
             "content_sha256": draw(st.sampled_from(["v1", "v2"])), "body_sha256": f"b{i}",
             "etag": draw(st.sampled_from([None, f'"e{i}"'])),
             "last_modified": draw(st.sampled_from([None, f"day {i}"]))}
            for i in range(draw(st.integers(0, 10)))]


@SETTINGS
@given(log=validator_logs(), published=st.sampled_from([None, "v1", "v2"]), url=LOG_URLS)
def test_validators_come_only_from_a_success_of_this_url_holding_the_published_version(
        log, published, url):
    meta = {"content_sha256": published} if published else None
    found = validated_record(log, meta, url)
    if found is None:
        return
    assert found["outcome"] in ("published", "unchanged") and found["url"] == url
    assert found["content_sha256"] == published and (found["etag"] or found["last_modified"])
    later = log[log.index(found) + 1:]
    assert not any(r["outcome"] == "published" for r in later if r is not found)
    assert not any(r["outcome"] in ("published", "unchanged") and r["url"] == url
                   and r["content_sha256"] == published and (r["etag"] or r["last_modified"])
                   for r in later)


# -- 6. guards: an inert preview ----------------------------------------

# (a warehouse named other than kfor.duckdb: e2e/test_side_by_side.py's kfor-staging.duckdb)

NASTY = ("Juan &lt;script&gt;alert`x`&lt;/script&gt; *Ortu&ntilde;o* _of_ | ~~Ortega~~ "
         "[click][evil] &lt;https://e.vil/steal&gt; https://e.vil www.e.vil")


def test_page_text_in_the_dagster_preview_renders_inert():
    """The commanders' preview (markdown in the Dagster UI) shows page text as text: no markup,
    link or autolink survives, and the cell reads back character for character."""
    from dataclasses import replace
    from html import unescape as html_unescape

    from markdown_it import MarkdownIt

    from orchestration.assets.raw import commander_preview
    from orchestration.core.reference import load_reference
    from orchestration.parsing import parse_page

    page = parse_page(pages.v1(), HTML, load_reference())
    name = html_unescape(NASTY)
    commanders = [replace(c, full_name=name) if c.ordinal == 3 else c for c in page.commanders]
    text = commander_preview(replace(page, commanders=commanders))
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)
    for tag in ("<script", "<em", "<strong", "<code", "<a ", "<s>", "<del", "<img"):
        assert tag not in html, (tag, html)
    assert "https://" not in text and "www." not in text  # no autolink literal (GFM) either
    row = next(part for part in html.split("<tr>") if "<td>3</td>" in part)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert len(cells) == 5, row
    rank = next(c.rank for c in commanders if c.ordinal == 3)
    assert unescape(cells[1]) == f"{rank} {name}", cells[1]  # shown as text, character for character
