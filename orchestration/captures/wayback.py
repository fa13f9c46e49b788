"""The Wayback Machine's replay markup, and how to take it off again.

A capture replayed without the `id_` flag (what waybackpack saves without `--raw`) is not the page
the archive captured: the archive adds its own scripts and styles at the top of <head> (up to
`<!-- End Wayback Rewrite JS Include -->`), its toolbar after <body> (`<!-- BEGIN WAYBACK TOOLBAR
INSERT --> ... <!-- END WAYBACK TOOLBAR INSERT -->`), two comments after </html> ("FILE ARCHIVED
ON ...", "playback timings"), and rewrites every link to a replay URL:
`https://web.archive.org/web/20191001000000/https://www.nato.int/...`, `.../20191001000000im_/...`
(im_, js_, cs_, if_, fr_ ... flags), `//web.archive.org/web/...` or `/web/...`. waybackpack takes
the toolbar off itself and makes `/web/...` links absolute, but leaves the rest.

`clean_playback` undoes all of it, on bytes (no decoding, so the page's charset and every byte of
its text stay as they were): the page's text, and so its version key, is the raw capture's. A
rewritten link becomes the absolute URL it was rewritten from (a link the page wrote relative,
`/cps/en/...`, comes back absolute: the replay no longer says which it was). Links are un-rewritten
only inside tags, scripts and styles, never in the text, where the archive rewrites nothing."""

from __future__ import annotations

import re

from .model import wayback_time

# Markers only the replay writes: any one of them makes a body a replay.
_MARKERS = re.compile(
    rb"<!--\s*(?:BEGIN|END) WAYBACK TOOLBAR INSERT\s*-->|<!--\s*End Wayback Rewrite JS Include"
    rb"|__wm\.(?:init|wombat|bt|rw)\(|<!--\s*FILE ARCHIVED ON|JAVASCRIPT APPENDED BY WAYBACK MACHINE",
    re.I)
_NL = rb"[ \t]*(?:\r?\n)?"  # the line break the archive writes after what it inserts
_TOOLBAR = re.compile(rb"<!--\s*BEGIN WAYBACK TOOLBAR INSERT\s*-->.*?<!--\s*END WAYBACK TOOLBAR "
                      rb"INSERT\s*-->" + _NL, re.I | re.S)
_ARCHIVE_ASSET = (rb"(?:(?:https?:)?//(?:web-static\.|web\.)?archive\.org)?"
                  rb"/(?:_static|static|includes)/")
_INJECTED = [
    # its scripts, by their source ...
    re.compile(rb"<script\b[^>]*\bsrc\s*=\s*[\"']?" + _ARCHIVE_ASSET + rb"[^>]*>\s*</script\s*>" + _NL,
               re.I),
    # ... or by what they call (the wombat rewriter, the toolbar, analytics, the Flash shim)
    re.compile(rb"<script\b[^>]*>(?:(?!</script).)*?(?:__wm\.|archive_analytics|window\.RufflePlayer)"
               rb"(?:(?!</script).)*</script\s*>" + _NL, re.I | re.S),
    re.compile(rb"<link\b[^>]*\bhref\s*=\s*[\"']?" + _ARCHIVE_ASSET + rb"[^>]*>" + _NL, re.I),
    re.compile(rb"<!--\s*End Wayback Rewrite JS Include\s*-->" + _NL, re.I),
    re.compile(rb"\s*<!--\s*FILE ARCHIVED ON\b.*?-->", re.I | re.S),
    re.compile(rb"\s*<!--\s*playback timings\b.*?-->", re.I | re.S),
]
# A replay URL: the archive's prefix, a timestamp, an optional flag, then the original URL: absolute,
# scheme-relative, or with its "//" folded to "/" (group 1 is then its scheme).
_REPLAY = re.compile(
    rb"(?:(?:https?:)?//(?:web|wayback)\.archive\.org(?::\d+)?)?/web/\d{1,14}(?:[a-z]{2}_)?/"
    rb"(?:(https?:)/(?!/)|(?=(?:https?:)?//))", re.I)
# What the archive rewrites links in: comments, scripts and styles whole, and tags.
_MARKUP = re.compile(rb"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>|</?[A-Za-z][^>]*>",
                     re.I | re.S)
# A replay URL as fetch() ends on it: prefix/<timestamp><flag>/<original>
_REPLAY_URL = re.compile(r"/web/(?P<ts>\d{14})(?P<flag>[a-z]{2}_)?/(?P<url>.+)$")


def is_playback(body: bytes, timestamp: str | None = None) -> bool:
    """Whether `body` carries the replay's markup: one of its markers, or (once waybackpack has
    taken the markers off) a link rewritten to a replay of this capture's own `timestamp`."""
    if _MARKERS.search(body):
        return True
    if timestamp:
        own = re.compile(rb"(?:archive\.org)?/web/" + re.escape(timestamp.encode()) + rb"(?:[a-z]{2}_)?/")
        return any(own.search(m.group(0)) for m in _MARKUP.finditer(body))
    return False


def clean_playback(body: bytes) -> bytes:
    """The body without the replay's insertions and with every rewritten link restored."""
    body = _TOOLBAR.sub(b"", body)
    for pattern in _INJECTED:
        body = pattern.sub(b"", body)
    return _MARKUP.sub(lambda m: _unrewrite(m.group(0)), body)


def _unrewrite(markup: bytes) -> bytes:
    return _REPLAY.sub(lambda m: m.group(1) + b"//" if m.group(1) else b"", markup)


def replay_url(prefix: str, timestamp: str, url: str, flag: str = "id_") -> str:
    """The archive's URL of the capture of `url` at `timestamp`; `id_` asks for the bytes as
    captured, without any of the replay's markup."""
    return f"{prefix.rstrip('/')}/{timestamp}{flag}/{url}"


def replay_timestamp(url: str) -> str | None:
    """The 14-digit timestamp a replay URL names (after any redirect to the nearest capture), or
    None when `url` is no replay URL or names no real time."""
    m = _REPLAY_URL.search(url)
    if not m:
        return None
    try:
        wayback_time(m.group("ts"))
    except ValueError:
        return None
    return m.group("ts")
