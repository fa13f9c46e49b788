"""A directory as waybackpack writes it: DIR/<14-digit UTC capture time>/<host>/<path>, captures of
the page under several paths, raw and not, and what does not fit the layout, named."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from capture_data import PAGE_URL, REFERENCE
from hypothesis import given, settings
from hypothesis import strategies as st
from playback_fixture import as_playback
from support import pages

from orchestration.captures import (
    Capture,
    CaptureSourceError,
    Skipped,
    wayback_time,
    waybackpack_captures,
)
from orchestration.core.fetch import FetchPolicy
from orchestration.parsing import parse_page

NATOHQ = "www.nato.int/cps/en/natohq/topics_48818.htm"
NATOLIVE = "www.nato.int/cps/en/natolive/topics_48818.htm"


def put(root: Path, relative: str, body: bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def test_a_waybackpack_directory_with_several_paths(tmp_path, snapshot):
    replay, _ = as_playback(snapshot, "20231201000000", PAGE_URL, by_waybackpack=True)
    put(tmp_path, f"20091015120000/{NATOLIVE}", pages.v1())
    put(tmp_path, f"20190301000000/{NATOHQ}", pages.v2())
    put(tmp_path, "20200101000000/www.nato.int/index.html", pages.v3())  # the URL ended in "/"
    put(tmp_path, f"20231201000000/{NATOHQ}", replay)  # saved without --raw
    put(tmp_path, "20240101000000/www.nato.int:8080/cps/big.htm", b"<p>" + b"x" * 300_000)
    put(tmp_path, "20240201000000/stray.htm", pages.v1())  # no host directory
    put(tmp_path, "notes/readme.txt", b"mine")  # not a capture time
    put(tmp_path, "20191301000000/www.nato.int/x.htm", pages.v1())  # month 13
    put(tmp_path, "2019030100000/www.nato.int/x.htm", pages.v1())  # 13 digits
    put(tmp_path, ".DS_Store", b"")
    put(tmp_path, f"20190301000000/{NATOHQ}.swp".replace("topics", ".topics"), b"")

    items = list(waybackpack_captures(tmp_path, FetchPolicy(max_bytes=200_000)))
    got = [(type(i).__name__, i.url, i.captured_at) for i in items]
    assert got == [
        ("Capture", f"http://{NATOLIVE}", wayback_time("20091015120000")),
        ("Skipped", None, None),  # 2019030100000
        ("Capture", f"http://{NATOHQ}", wayback_time("20190301000000")),
        ("Skipped", None, None),  # 20191301000000
        ("Capture", "http://www.nato.int/index.html", wayback_time("20200101000000")),
        ("Capture", f"http://{NATOHQ}", wayback_time("20231201000000")),
        ("Skipped", "http://www.nato.int:8080/cps/big.htm", wayback_time("20240101000000")),
        ("Skipped", None, wayback_time("20240201000000")),
        ("Skipped", None, None),  # notes
    ]
    old, v2, v3, cleaned = (i for i in items if isinstance(i, Capture))
    assert (old.body, v2.body, v3.body) == (pages.v1(), pages.v2(), pages.v3())
    assert not old.cleaned and cleaned.cleaned and b"__wm" not in cleaned.body
    assert old.origin.source == "waybackpack"
    assert old.origin.path == str(tmp_path / "20091015120000" / NATOLIVE)
    reasons = [i.reason for i in items if isinstance(i, Skipped)]
    assert reasons == [
        "not a capture-time directory: '2019030100000' is not a 14-digit capture time "
        "(YYYYMMDDhhmmss)",
        "not a capture-time directory: '20191301000000' is not a real capture time",
        f"{tmp_path}/20240101000000/www.nato.int:8080/cps/big.htm is 300003 bytes, over the "
        "200000-byte cap",
        "not under a <host> directory",
        "not a capture-time directory: 'notes' is not a 14-digit capture time (YYYYMMDDhhmmss)",
    ]
    # the capture saved without --raw has the raw one's version key
    raw_key = parse_page(snapshot, None, REFERENCE).content_sha256
    assert parse_page(cleaned.body, None, REFERENCE).content_sha256 == raw_key


def test_what_cannot_be_read_is_named(tmp_path):
    with pytest.raises(CaptureSourceError, match="is not a directory of waybackpack captures"):
        list(waybackpack_captures(tmp_path / "missing"))
    put(tmp_path, "20190301000000", b"a file, not a directory")
    (tmp_path / "20200101000000" / "www.nato.int").mkdir(parents=True)
    (tmp_path / "20200101000000" / "www.nato.int" / "fifo.htm").symlink_to("/dev/zero")
    items = list(waybackpack_captures(tmp_path))
    assert [i.reason for i in items] == [
        "a capture time must be a directory of <host>/<path>",
        "/dev/zero is not a regular file"]


@pytest.mark.parametrize(("layout", "given", "says"), [
    ([], ".", r"is empty: expected a waybackpack directory: DIR/<14-digit capture time>/<host>/"),
    ([f"20191020000000/{NATOHQ}"], "20191020000000",
     r"20191020000000 is one capture time of a waybackpack directory: give .*/pack \("),
    ([f"20191020000000/{NATOHQ}"], "20191020000000/www.nato.int",
     r"is inside the capture time 20191020000000 of a waybackpack directory: give .*/pack \("),
    ([f"captures/20191020000000/{NATOHQ}"], ".",
     r"holds waybackpack directories one level down: give .*/pack/captures \("),
    (["notes/readme.txt", "a.htm"], ".", r"no capture-time folder in .*/pack: expected"),
])
def test_the_wrong_folder_says_what_was_expected(tmp_path, layout, given, says):
    """Issue 16: an empty folder and the wrong level of the tree were read as nothing (or as
    entries to skip one by one) and the import exited 0."""
    root = tmp_path / "pack"
    root.mkdir()
    for relative in layout:
        put(root, relative, pages.v1())
    with pytest.raises(CaptureSourceError, match=says):
        list(waybackpack_captures((root / given).resolve()))


segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)


timestamps = st.datetimes(datetime(1996, 1, 1), datetime(2099, 12, 31)).map(
    lambda d: d.strftime("%Y%m%d%H%M%S"))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(timestamps,
                          st.sampled_from(["www.nato.int", "nato.int", "www.nato.int:80"]),
                          st.lists(segment, min_size=1, max_size=4)),
                min_size=1, max_size=6, unique_by=lambda c: (c[0], c[1], tuple(c[2]))))
def test_every_file_is_a_capture_of_its_path_at_its_time(layout):
    with tempfile.TemporaryDirectory() as root:
        for n, (ts, host, parts) in enumerate(layout):
            put(Path(root), "/".join([ts, host, *parts]) + ".htm", b"<p>%d</p>" % n)
        items = list(waybackpack_captures(Path(root)))
    assert all(isinstance(i, Capture) for i in items)
    want = sorted((ts, f"http://{host}/" + "/".join(parts) + ".htm", b"<p>%d</p>" % n)
                  for n, (ts, host, parts) in enumerate(layout))
    assert sorted((i.timestamp, i.url, i.body) for i in items) == want
    assert [i.timestamp for i in items] == sorted(i.timestamp for i in items)
