"""A lone saved page (issue 16): one capture, dated by the time given or else by the file's
modification time (rule I3), of the URL its "saved from" comment names or else the one given."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from capture_data import PAGE_URL
from playback_fixture import as_playback
from support import pages

from orchestration.captures import Capture, Skipped, saved_page_captures
from orchestration.core.fetch import FetchPolicy

SOURCE = "https://www.nato.int/cps/en/natohq/topics_48818.htm"


def test_the_files_modification_time_dates_it(tmp_path):
    page = tmp_path / "kosovo.htm"
    page.write_bytes(pages.v1())
    os.utime(page, (1_700_000_000, 1_700_000_000))
    [item] = saved_page_captures(page, SOURCE)
    assert isinstance(item, Capture) and item.body == pages.v1() and item.url == SOURCE
    assert item.captured_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert item.origin.source == "saved" and item.origin.path == str(page)
    assert str(item.origin) == f"saved {page}"


def test_a_given_time_wins_and_a_saved_from_comment_names_the_url(tmp_path):
    page = tmp_path / "kosovo.html"
    url = "http://nato.int/cps/en/natolive/topics_48818.htm"
    page.write_bytes(b"<!-- saved from url=(%04d)%s -->\n" % (len(url), url.encode()) + pages.v1())
    when = datetime(2012, 10, 15, 8, 0, tzinfo=UTC)
    [item] = saved_page_captures(page, SOURCE, when)
    assert (item.url, item.captured_at) == (url, when)


def test_a_saved_replay_loses_the_archives_markup(tmp_path, snapshot):
    page = tmp_path / "replay.html"
    page.write_bytes(as_playback(snapshot, "20231201000000", PAGE_URL)[0])
    [item] = saved_page_captures(page, SOURCE)
    assert item.cleaned and b"WAYBACK" not in item.body


def test_a_page_over_the_cap_is_skipped_with_its_cause(tmp_path):
    page = tmp_path / "big.htm"
    page.write_bytes(b"<p>" + b"x" * 2000)
    [item] = saved_page_captures(page, SOURCE, policy=FetchPolicy(max_bytes=1000))
    assert isinstance(item, Skipped) and item.reason.endswith("over the 1000-byte cap")
