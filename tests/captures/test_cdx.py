"""The CDX source against a Wayback Machine on 127.0.0.1 (archive_server.py): the listing through
cdx-toolkit, each capture downloaded by orchestration.core.fetch.fetch from its id_ replay URL, politely
(rate limit, retries, resumable, progress), duplicates by CDX digest not downloaded twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from archive_server import ArchiveServer, Replay
from capture_data import PAGE_URL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playback_fixture import as_playback
from support import pages

from orchestration.captures import (
    Capture,
    CaptureSourceError,
    CdxDownload,
    CdxQuery,
    RateLimiter,
    Revisit,
    Skipped,
    list_captures,
    wayback_time,
)
from orchestration.core.fetch import FetchPolicy

FAST = FetchPolicy(backoff=0.01, deadline=10)
PROJECT = Path(__file__).resolve().parents[2]


def query(archive: ArchiveServer, **kw) -> CdxQuery:
    return CdxQuery(PAGE_URL, endpoint=archive.endpoint, replay=archive.replay_prefix, **kw)


def run(download: CdxDownload, stop_after: int | None = None) -> list:
    """Handle every item (or the first `stop_after`), saying done() for each."""
    handled = []
    for item in download:
        handled.append(item)
        download.done(item)
        if stop_after is not None and len(handled) == stop_after:
            break
    return handled


def series(archive: ArchiveServer, n: int, start: int = 2019) -> list[Replay]:
    return [archive.add(Replay(f"{start + i // 12}{i % 12 + 1:02d}01000000", PAGE_URL,
                               pages.synthetic(i + 1)))
            for i in range(n)]


def test_every_listed_capture_is_downloaded_once_and_reported(archive, tmp_path):
    v1 = archive.add(Replay("20191001000000", PAGE_URL, pages.v1()))
    v2 = archive.add(Replay("20200101120000", PAGE_URL, pages.v2()))
    again = archive.add(Replay("20200601000000", PAGE_URL, pages.v1()))  # v1's digest again
    moved = archive.add(Replay("20210101000000", PAGE_URL, b"", status="301"))
    v3 = archive.add(Replay("20220101000000", PAGE_URL, pages.v3()))
    lines: list[str] = []
    items = run(CdxDownload(query(archive), tmp_path / "state", FAST, rate=100, progress=lines.append))

    assert [type(i) for i in items] == [Capture, Capture, Revisit, Skipped, Capture]
    first, second, revisit, skipped, third = items
    assert (first.body, second.body, third.body) == (v1.body, v2.body, v3.body)
    assert first.captured_at == wayback_time("20191001000000") and first.url == PAGE_URL
    assert first.digest == v1.row()[5] and first.content_type == "text/html; charset=utf-8"
    assert first.origin.replay_url == archive.url(v1.path) and not first.cleaned
    assert first.origin.endpoint == archive.endpoint
    assert (revisit.digest, revisit.refers_to_url) == (v1.row()[5], PAGE_URL)
    assert revisit.refers_to_date == first.captured_at
    assert revisit.captured_at == wayback_time(again.timestamp)
    assert skipped.reason == "the archive holds an HTTP 301 response here, not a page"
    # each body downloaded once; the duplicate and the 301 not at all
    assert archive.replay_hits() == {v1.path: 1, v2.path: 1, v3.path: 1}
    assert archive.hits[again.path] == archive.hits[moved.path] == 0
    # the listing went page by page (2 rows a page), as cdx-toolkit asks
    assert [q["page"] for q in archive.cdx_queries] == ["0", "1", "2", "3"]
    assert {q["output"] for q in archive.cdx_queries} == {"json"}
    assert lines[0] == f"5 captures of {PAGE_URL} listed by {archive.endpoint}"
    assert lines[1] == f"1/5 captures: 20191001000000 {PAGE_URL}: downloaded {len(v1.body)} bytes"
    assert lines[3].startswith(f"3/5 captures: 20200601000000 {PAGE_URL}: same payload as")
    assert lines[5].startswith("5/5 captures: 20220101000000")


def test_the_date_range_reaches_the_cdx_api(archive, tmp_path):
    series(archive, 6)  # 2019-01 .. 2019-06
    items = run(CdxDownload(query(archive, from_ts="201902", to_ts="20190415"), tmp_path, FAST,
                            rate=100, progress=lambda _: None))
    assert [i.timestamp for i in items] == ["20190201000000", "20190301000000", "20190401000000"]
    assert (archive.cdx_queries[0]["from"], archive.cdx_queries[0]["to"]) == ("201902", "20190415")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.integers(1, 6), data=st.data())
def test_a_rerun_after_an_interruption_fetches_nothing_twice(tmp_path_factory, total, data):
    stop = data.draw(st.integers(0, total), label="stop after")
    state = tmp_path_factory.mktemp("state")
    with ArchiveServer(page_size=4) as archive:
        replays = series(archive, total)
        first = run(CdxDownload(query(archive), state, FAST, rate=200, progress=lambda _: None),
                    stop_after=stop) if stop else []
        lines: list[str] = []
        second = run(CdxDownload(query(archive), state, FAST, rate=200, progress=lines.append))
        assert [i.timestamp for i in first + second] == [r.timestamp for r in replays]
        assert archive.replay_hits() == {r.path: 1 for r in replays}
        if stop:
            assert lines[0].endswith(f"; {stop} done earlier (state {state}/"
                                     f"{query(archive).state_file(state).name})")


def test_an_item_not_said_done_is_fetched_again_by_the_rerun(archive, tmp_path):
    replays = series(archive, 3)
    download = CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None)
    taken = []
    for item in download:  # the second is handed over, then the consumer stops before done()
        taken.append(item)
        if len(taken) == 2:
            break
        download.done(item)
    again = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None))
    assert [i.timestamp for i in again] == [replays[1].timestamp, replays[2].timestamp]
    assert archive.replay_hits() == {replays[0].path: 1, replays[1].path: 2, replays[2].path: 1}
    with pytest.raises(ValueError, match="an item this download yielded, once"):
        download.done(taken[0])


def test_a_download_killed_mid_capture_resumes_where_it_stopped(archive, tmp_path):
    """A real interruption: SIGKILL while the fourth body is being sent. The state file is whole
    (written atomically) and the rerun asks for the first three no more."""
    replays = series(archive, 6)
    slow = replays[3]

    def stall(handler):  # headers, then nothing: the client waits in the body
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(slow.body)))
        handler.end_headers()
        handler.wfile.write(slow.body[:100])
        handler.wfile.flush()
        time.sleep(30)

    archive.handlers = {slow.path: stall}
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["CDXT_DEFAULT_MIN_RETRY_INTERVAL"] = "0"
        from orchestration.captures import CdxDownload, CdxQuery
        from orchestration.core.fetch import FetchPolicy
        q = CdxQuery({PAGE_URL!r}, endpoint={archive.endpoint!r}, replay={archive.replay_prefix!r})
        d = CdxDownload(q, {str(tmp_path)!r}, FetchPolicy(read_timeout=60, deadline=60), rate=200,
                        progress=lambda line: print(line, flush=True))
        for item in d:
            d.done(item)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT),
                                                                   os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while archive.hits[slow.path] == 0 and time.monotonic() < deadline:
            assert proc.poll() is None, "the download ended before the stalled capture"
            time.sleep(0.05)
        assert archive.hits[slow.path] == 1
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    state_file = query(archive).state_file(tmp_path)
    assert len(json.loads(state_file.read_text())["done"]) == 3
    archive.handlers = {}
    rest = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None))
    assert [i.timestamp for i in rest] == [r.timestamp for r in replays[3:]]
    assert archive.replay_hits() == {**{r.path: 1 for r in replays}, slow.path: 2}
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_a_500_is_retried_and_the_capture_downloaded(archive, tmp_path):
    busy = archive.add(Replay("20191001000000", PAGE_URL, pages.v1(), failures=[500, 503]))
    items = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None))
    assert [type(i) for i in items] == [Capture] and items[0].body == busy.body
    assert archive.hits[busy.path] == 3


def test_a_500_after_every_retry_is_reported_and_tried_again_by_the_rerun(archive, tmp_path):
    down = archive.add(Replay("20191001000000", PAGE_URL, pages.v1(), failures=[500] * 4))
    fine = archive.add(Replay("20200101000000", PAGE_URL, pages.v2()))
    lines: list[str] = []
    items = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lines.append))
    assert [type(i) for i in items] == [Skipped, Capture]
    url = archive.url(down.path)
    assert items[0].reason == f"HTTP 500 from {url} (after 4 attempts)"
    assert lines[1] == (f"1/2 captures: {down.timestamp} {PAGE_URL}: skipped: HTTP 500 from {url} "
                        "(after 4 attempts)")
    again = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None))
    assert [type(i) for i in again] == [Capture] and again[0].body == down.body
    assert archive.replay_hits() == {down.path: 5, fine.path: 1}


def test_a_capture_over_the_cap_is_rejected_and_the_others_downloaded(archive, tmp_path):
    policy = FetchPolicy(backoff=0.01, max_bytes=200_000)
    small = archive.add(Replay("20191001000000", PAGE_URL, pages.v1()))
    big = archive.add(Replay("20200101000000", PAGE_URL, pages.v2() + b" " * 200_000))
    last = archive.add(Replay("20210101000000", PAGE_URL, pages.v3()))
    items = run(CdxDownload(query(archive), tmp_path, policy, rate=200, progress=lambda _: None))
    assert [type(i) for i in items] == [Capture, Skipped, Capture]
    assert items[1].reason == f"body of {len(big.body)} bytes is over the 200000-byte cap"
    assert items[1].url == PAGE_URL and items[1].captured_at == wayback_time(big.timestamp)
    # a rejection by the cap is final: the rerun does not ask again
    assert run(CdxDownload(query(archive), tmp_path, policy, rate=200, progress=lambda _: None)) == []
    assert archive.replay_hits() == {small.path: 1, big.path: 1, last.path: 1}


def test_downloads_keep_the_rate(archive, tmp_path):
    replays = series(archive, 5)
    replays[1].failures = [503]  # a retry is a request too
    run(CdxDownload(query(archive), tmp_path, FetchPolicy(backoff=0.0), rate=5,
                    progress=lambda _: None))
    starts = [t for t, path in archive.times if path.startswith("/web/")]
    assert len(starts) == 6
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # The limiter spaces the starts in the client; a request reaches the server a little after
    # (a new connection takes longer than the retry on an open one, more so on a busy machine),
    # so one gap can look shorter by that much, the span of all of them hardly. Unlimited, the
    # retry would follow its 503 within a few milliseconds.
    assert starts[-1] - starts[0] >= 5 * 0.2 - 0.1, gaps
    assert min(gaps) >= 0.05, gaps


def test_a_retry_waits_its_backoff_and_then_the_rate():
    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2, clock=lambda: now[0], sleep=sleep)
    limiter.wait()
    limiter.pause(0.1)  # fetch's backoff before its second attempt
    assert slept == [0.1, 0.4] and now[0] == 0.5


@settings(max_examples=50, deadline=None)
@given(rate=st.floats(0.5, 50), work=st.lists(st.floats(0, 2), min_size=1, max_size=8))
def test_the_rate_limiter_spaces_every_start(rate, work):
    now = [0.0]
    starts = []
    limiter = RateLimiter(rate, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    for seconds in work:
        limiter.wait()
        starts.append(now[0])
        now[0] += seconds / rate  # the request itself takes some time
    assert all(b - a >= 1 / rate - 1e-9 for a, b in zip(starts, starts[1:], strict=False))
    # and never waits when the last start is long enough ago
    assert starts[0] == 0.0


def test_a_redirect_to_another_host_is_refused_like_a_refresh(archive, tmp_path):
    away = archive.add(Replay("20191001000000", PAGE_URL, b""))
    archive.handlers = {away.path: redirect("http://localhost:1/elsewhere")}
    items = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None))
    assert items[0].reason == ("redirect to another host refused: http://localhost:1/elsewhere "
                               "(allow it with KFOR_ALLOWED_HOSTS)")


def test_a_redirect_to_the_nearest_capture_takes_its_time(archive, tmp_path):
    asked = archive.add(Replay("20191001000000", PAGE_URL, b""))
    nearest = archive.add(Replay("20191003101010", PAGE_URL, pages.v1()))
    archive.replays.pop(nearest.path)  # not listed: only reached by the redirect
    archive.handlers = {asked.path: redirect(nearest.path), nearest.path: serve(nearest.body)}
    items = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None))
    assert items[0].captured_at == wayback_time("20191003101010")
    assert items[0].origin.replay_url == archive.url(nearest.path)


def test_a_replay_that_ignores_id_is_cleaned(archive, tmp_path, snapshot):
    body, _ = as_playback(snapshot, "20191001000000", PAGE_URL)
    archive.add(Replay("20191001000000", PAGE_URL, body))
    items = run(CdxDownload(query(archive), tmp_path, FAST, rate=200, progress=lambda _: None))
    assert items[0].cleaned and b"__wm" not in items[0].body


def test_a_cdx_api_that_fails_for_a_while_is_retried(archive):
    series(archive, 2)
    archive.cdx_failures = [503, 500]
    assert len(list_captures(query(archive))) == 2


def test_a_cdx_api_that_never_answers_stops_the_listing_with_one_line(archive):
    archive.cdx_failures = [500] * 10_000
    started = time.monotonic()
    with pytest.raises(CaptureSourceError) as e:
        list_captures(query(archive), deadline=1)
    assert str(e.value) == (f"cannot list the captures of {PAGE_URL} from {archive.endpoint}: "
                            "no answer within 1 s")
    assert time.monotonic() - started < 3
    archive.cdx_failures = []


def test_a_cdx_api_without_captures_lists_none(archive, tmp_path):
    assert run(CdxDownload(query(archive), tmp_path, FAST, progress=lambda _: None)) == []


def test_a_state_file_of_another_download_is_refused(archive, tmp_path):
    series(archive, 1)
    state = query(archive).state_file(tmp_path)
    state.write_text('{"version": 1, "about": {"url": "other"}, "done": {}}')
    with pytest.raises(ValueError, match=r"cannot be used \(it belongs to another download\); move "
                                         "it aside to start this download again"):
        CdxDownload(query(archive), tmp_path, FAST)
    state.write_text('{"version": 1, "ab')  # torn: never half-written by us, but refused clearly
    with pytest.raises(ValueError, match=r"the resume state .* cannot be used \(Unterminated string"):
        CdxDownload(query(archive), tmp_path, FAST)


def redirect(location: str):
    def handler(h):
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return handler


def serve(body: bytes):
    def handler(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return handler
