"""Taking the replay's markup off a capture saved without --raw: the bundled snapshot, made into
a realistic replay (the archive's scripts, toolbar and comments inserted, every href and src
rewritten), cleans back to the snapshot with absolute links, and so to the raw capture's version
key."""

from __future__ import annotations

from datetime import datetime

import pytest
from capture_data import PAGE_URL, REFERENCE
from hypothesis import given, settings
from hypothesis import strategies as st
from playback_fixture import absolute_links, as_playback, links, without_main
from support import pages

from orchestration.captures import clean_playback, is_playback, replay_timestamp, replay_url
from orchestration.parsing import ParseError, parse_page

timestamps = st.datetimes(min_value=datetime(1996, 1, 1),
                          max_value=datetime(2030, 12, 31)).map(
    lambda d: d.strftime("%Y%m%d%H%M%S"))


def key(body: bytes) -> str:
    return parse_page(body, "text/html; charset=utf-8", REFERENCE).content_sha256


@pytest.fixture(scope="module")
def keys(snapshot):
    return {"main": key(snapshot), "body": key(without_main(snapshot))}


@settings(max_examples=12, deadline=None)
@given(ts=timestamps, seed=st.integers(0, 2**32), layout=st.sampled_from(["main", "body"]),
       by_waybackpack=st.booleans())
def test_a_cleaned_replay_has_the_raw_captures_version_key(snapshot, keys, ts, seed, layout,
                                                           by_waybackpack):
    raw = snapshot if layout == "main" else without_main(snapshot)
    replay, expected_links = as_playback(raw, ts, PAGE_URL, seed, by_waybackpack)
    assert is_playback(replay, ts)
    cleaned = clean_playback(replay)
    assert key(cleaned) == keys[layout]
    # byte for byte the capture, its links made absolute; nothing of the archive's left
    assert cleaned == absolute_links(raw, PAGE_URL)
    assert links(cleaned) == expected_links
    for residue in (b"archive.org", b"__wm", b"/_static/", b"WAYBACK", b"Wayback", b"/web/"):
        assert residue not in cleaned


def test_the_toolbar_left_in_would_change_the_key(snapshot, keys):
    """The control: in a layout without <main> the toolbar's text is article text."""
    replay, _ = as_playback(without_main(snapshot), "20191001000000", PAGE_URL)
    try:  # the toolbar's date line is a second "Last updated" to the parser: refused outright
        assert key(replay) != keys["body"]
    except ParseError as e:
        assert e.check == "last_updated_conflict"


@pytest.mark.parametrize("raw", [pages.v1(), pages.v2(), pages.v3()], ids=["v1", "v2", "v3"])
def test_a_raw_capture_is_no_replay_and_is_left_alone(raw):
    assert not is_playback(raw) and not is_playback(raw, "20231120000000")
    assert clean_playback(raw) == raw


FLAGS = ["", "im_", "js_", "cs_", "if_", "fr_", "id_", "oe_"]
PREFIXES = ["https://web.archive.org", "http://web.archive.org", "//web.archive.org", "",
            "https://web.archive.org:443", "https://wayback.archive.org"]
ORIGINALS = ["https://www.nato.int/cps/en/natohq/topics.htm", "http://www.nato.int/a/b.css?v=2",
             "//www.nato.int/img/x.jpg", "https://example.org/"]


@settings(max_examples=60, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), ts=st.from_regex(r"\A[0-9]{4,14}\Z"),
       flag=st.sampled_from(FLAGS), original=st.sampled_from(ORIGINALS),
       attr=st.sampled_from(["href", "src", "action", "data-src", "srcset", "style"]),
       quote=st.sampled_from(['"', "'"]))
def test_every_form_of_a_rewritten_link_is_restored(prefix, ts, flag, original, attr, quote):
    value = f"{prefix}/web/{ts}{flag}/{original}"
    if attr == "style":
        value, want = f"background:url({value})", f"background:url({original})"
    elif attr == "srcset":
        value, want = f"{value} 1x, {value} 2x", f"{original} 1x, {original} 2x"
    else:
        want = original
    tag = f"<a {attr}={quote}{value}{quote}>"
    assert clean_playback(tag.encode()) == f"<a {attr}={quote}{want}{quote}>".encode()


@pytest.mark.parametrize("folded,restored", [
    ("/web/2019im_/https:/www.nato.int/x.jpg", "https://www.nato.int/x.jpg"),
    ("https://web.archive.org/web/2019/http:/www.nato.int/", "http://www.nato.int/"),
])
def test_a_folded_double_slash_is_restored(folded, restored):
    assert clean_playback(f'<img src="{folded}">'.encode()) == f'<img src="{restored}">'.encode()


def test_links_in_scripts_and_styles_are_restored_and_text_is_not_touched():
    body = (b"<style>body{background:url(/web/2019im_/https://www.nato.int/bg.png)}</style>"
            b'<script>var u="https://web.archive.org/web/2019js_/https://www.nato.int/a.js";</script>'
            b"<p>Archived at https://web.archive.org/web/2019/https://www.nato.int/ (text)</p>")
    assert clean_playback(body) == (
        b"<style>body{background:url(https://www.nato.int/bg.png)}</style>"
        b'<script>var u="https://www.nato.int/a.js";</script>'
        b"<p>Archived at https://web.archive.org/web/2019/https://www.nato.int/ (text)</p>")


def test_old_style_insertions_are_removed():
    body = (b"<html><head>"
            b'<script type="text/javascript" src="/static/js/analytics.js"></script>\n'
            b'<script type="text/javascript">archive_analytics.values.server_name="wwwb-app1";'
            b"</script>\n"
            b'<link type="text/css" rel="stylesheet" href="/static/css/banner-styles.css"/>\n'
            b"<title>T</title></head><body>\n<!-- BEGIN WAYBACK TOOLBAR INSERT -->\n"
            b'<div id="wm-ipp">1 capture</div>\n<!-- END WAYBACK TOOLBAR INSERT -->\n'
            b"<p>x</p></body></html>")
    assert is_playback(body)
    assert clean_playback(body) == b"<html><head><title>T</title></head><body>\n<p>x</p></body></html>"


def test_a_page_that_links_to_the_archive_is_no_replay_of_its_own():
    body = b'<p><a href="https://web.archive.org/web/2009/https://www.nato.int/">old</a></p>'
    assert not is_playback(body, "20191001000000")
    assert is_playback(body.replace(b"/2009/", b"/20191001000000/"), "20191001000000")


def test_replay_urls():
    assert replay_url("http://127.0.0.1:8/web/", "20191001000000", PAGE_URL) == \
        f"http://127.0.0.1:8/web/20191001000000id_/{PAGE_URL}"
    assert replay_timestamp(f"https://web.archive.org/web/20191003101010id_/{PAGE_URL}") == \
        "20191003101010"
    assert replay_timestamp(f"https://web.archive.org/web/20191303101010id_/{PAGE_URL}") is None
    assert replay_timestamp(PAGE_URL) is None
