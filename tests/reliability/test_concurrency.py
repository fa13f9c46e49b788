"""Concurrency: a second refresh while one runs is turned away (exit 3, "refresh already running
(pid N ...)") or, with --wait, waits its turn; read-only readers in other processes never block a
refresh, keep reading the file they opened, and new readers see the new version."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from support import pages
from support.warehouse import file_sha256, query

from orchestration.core.reference import load_reference
from orchestration.parsing import parse_page

from .faults import trickle
from .harness import kfor, leftovers, log_records, start_kfor, wait_until

HTML = "text/html; charset=utf-8"
READER = Path(__file__).with_name("reader.py")


def version_key(body: bytes) -> str:
    return parse_page(body, HTML, load_reference()).content_sha256


def lock_text(warehouse_path: Path) -> str:
    lock = warehouse_path.with_name(warehouse_path.name + ".lock")
    return lock.read_text() if lock.exists() else ""


def start_holding_refresh(server, warehouse_path: Path, body: bytes | None = None,
                          handler=None) -> tuple[subprocess.Popen, str]:
    """A refresh, started and holding the refresh lock."""
    if handler:
        url = server.route("/topics_48818.htm", handler=handler)
    else:
        url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": HTML})
    first = start_kfor("refresh", "--source", url)
    assert wait_until(lambda: lock_text(warehouse_path).startswith(f"pid {first.pid} ")
                      or first.poll() is not None, timeout=60)
    assert first.poll() is None, "the first refresh ended before it could be raced"
    return first, url


@pytest.mark.extended  # beyond CI's 20 minutes: the lock's own tests and test_pg_lock.py decide it
def test_a_second_refresh_is_turned_away(server, published_v1, raw_dir):
    v1_sha = file_sha256(published_v1)
    first, url = start_holding_refresh(server, published_v1, pages.v2())

    second = kfor("refresh", "--source", url)
    bounded_started = time.monotonic()
    bounded = kfor("refresh", "--source", url, "--wait", "1")
    bounded_took = time.monotonic() - bounded_started
    during = file_sha256(published_v1)
    out, err = first.communicate(timeout=300)

    for refused in (second, bounded):
        assert refused.returncode == 3, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and refused.stdout == ""
        assert lines[0].startswith(f"refresh already running (pid {first.pid} since "), lines
    assert 1.0 <= bounded_took < 10, bounded_took  # --wait 1 waited about one second, no more
    assert during == v1_sha  # v1 stayed published, untouched, while the first one built
    assert first.returncode == 0, err
    assert out.startswith("published: ")
    # the turned-away refreshes fetched nothing and logged nothing; nothing is half-written
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published", "published"]
    assert server.hits["/topics_48818.htm"] == 1
    assert query(published_v1, "SELECT content_sha256 FROM marts.meta") == \
        [(version_key(pages.v2()),)]
    assert not leftovers(published_v1, raw_dir)


@pytest.mark.slow  # in CI's slow run: keeps `make test` within its three minutes
def test_wait_takes_its_turn_then_finds_the_page_unchanged(server, stop, published_v1, raw_dir):
    # v1 again, trickled over ~3 s: the first refresh holds the lock while it fetches
    first, url = start_holding_refresh(server, published_v1,
                                       handler=trickle(pages.v1(), 1000, 0.15, stop))
    second = start_kfor("refresh", "--source", url, "--wait", "300")
    out1, err1 = first.communicate(timeout=300)
    first_done = time.monotonic()
    out2, err2 = second.communicate(timeout=300)

    assert first.returncode == 0, err1
    assert out1.startswith("unchanged: ")
    assert second.returncode == 0, err2
    assert out2.startswith(f"unchanged: page version {version_key(pages.v1())[:12]} "), out2
    assert err2 == ""
    assert time.monotonic() - first_done < 60
    assert server.hits["/topics_48818.htm"] == 2  # the waiter fetched only after its turn came
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published", "unchanged", "unchanged"]
    # the file is as of its build (one fetch); the fetch log has all three
    assert query(published_v1, "SELECT fetch_count FROM marts.fct_page_version") == [(1,)]
    assert not leftovers(published_v1, raw_dir)


class Reader:
    """A reader process holding one read-only connection open (tests/reliability/reader.py)."""

    def __init__(self, path: Path):
        self.proc = subprocess.Popen([sys.executable, str(READER), str(path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        assert self.proc.stdout.readline().strip() == "ready", self.proc.stderr.read()

    def ask(self, command: str):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(10)


REFRESHES = 3  # each a build: three pairs of held reader and refresh show it (issue 20)


def restamped(version, day: int):
    """v2 or v3 stamped `day` days after 1 Apr 2025: alternating, the page date still moves
    forward (a date going backwards is rejected, P4 of docs/rules.md)."""
    def body() -> bytes:
        text = version().decode("utf-8")
        stamp = re.search(r"Last updated: [^<]+", text)[0]
        d = date(2025, 4, 1) + timedelta(days=day)
        return text.replace(stamp, f"Last updated: {d.day} {d:%b}. {d.year} 12:00").encode("utf-8")
    return body


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_readers_keep_their_version_and_never_block_refreshes(server, published_v1, raw_dir):
    """One reader opened on v1 is held through every refresh; after each refresh a new reader
    opens (it must see the new version) and is held through the next refresh. Every pair of a
    held reader and a refresh: the reader's answers never change, the refresh never waits."""
    versions = [restamped([pages.v2, pages.v3][i % 2], i) for i in range(REFRESHES)]
    url = server.route("/topics_48818.htm", body=b"")
    v1_key = version_key(pages.v1())
    first_reader = Reader(published_v1)
    first_view = first_reader.ask("read")
    assert first_view[0] == v1_key and first_view[1] == 1 and first_view[2] == 28
    held, pairs, durations = None, 0, []
    try:
        for i, version in enumerate(versions, start=1):
            body = version()
            server.routes["/topics_48818.htm"].body = body
            started = time.monotonic()
            out = kfor("refresh", "--source", url, timeout=300)
            durations.append(time.monotonic() - started)
            assert out.returncode == 0, f"refresh {i}: {out.stderr}"
            assert out.stdout.startswith("published: "), out.stdout
            pairs += 1  # the first reader, through refresh i
            # the first reader still reads v1, consistently, from the file it opened
            assert first_reader.ask("read") == first_view
            if held is not None:  # the reader opened after the previous refresh
                reader, view = held
                assert reader.ask("read") == view
                stats = reader.ask("stats")
                assert stats["errors"] == [] and stats["distinct"] == [view]
                reader.close()
                pairs += 1
            # a new reader sees the new version, complete
            view_now = query(published_v1, "SELECT content_sha256, (SELECT count(*) FROM "
                                           "marts.fct_command_tenure) FROM marts.meta")
            assert view_now == [(version_key(body), 29)], i
            new = Reader(published_v1)
            held = (new, new.ask("read"))
            assert held[1][0] == version_key(body)
        stats = first_reader.ask("stats")
        assert stats["errors"] == [], stats["errors"]
        assert stats["distinct"] == [first_view], stats["distinct"]
        assert stats["reads"] > 10 * REFRESHES
    finally:
        first_reader.close()
        if held:
            held[0].close()
    assert pairs == 2 * REFRESHES - 1
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published"] * (REFRESHES + 1)
    assert not leftovers(published_v1, raw_dir)
    # readers never blocked a refresh: every one took about as long as an unread refresh
    assert max(durations) < 120, durations
