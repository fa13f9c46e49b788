"""A lone saved page: one `.htm`/`.html` file a browser (or `curl -o`) saved, read as one capture.

The file says nothing of when it was captured: the time is given (`kfor import --captured-at`) or
else the file's modification time (rule I3), and `how` says which, for the import's summary. Its
URL is the one a browser's "saved from url=(NNNN)URL" comment names, else the URL the caller gives
(the configured source). Read through fetch() as a file:// URL (the refresh's size cap, regular
files only); a saved Wayback replay loses the archive's markup (wayback.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..core.fetch import FetchError, FetchPolicy, fetch
from .model import Capture, CaptureSourceError, Item, Origin, Skipped
from .wayback import clean_playback, is_playback

# Internet Explorer's mark of the web, which other browsers' "save as" kept: the URL after the
# length in parentheses.
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)\s*([^\s>]+?)\s*-->", re.I)
SNIFF = 4096


def saved_page_captures(path: Path, url: str, captured_at: datetime | None = None,
                        policy: FetchPolicy | None = None) -> Iterator[Item]:
    """Yield the one Capture (or a Skipped saying why it cannot be read) of the saved page."""
    policy = policy or FetchPolicy()
    path = Path(path)
    origin = Origin("saved", path=str(path))
    if captured_at is None:
        try:
            captured_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError as e:
            raise CaptureSourceError(f"cannot read the saved page {path}: {e.strerror or e}") \
                from None
    try:
        body = fetch(path.resolve().as_uri(), policy=policy).body or b""
    except FetchError as e:
        yield Skipped(origin, e.cause, url, captured_at)
        return
    named = _SAVED_FROM.search(body[:SNIFF])
    if named:
        url = named.group(1).decode("ascii", "replace")
    cleaned = is_playback(body)
    yield Capture(url, captured_at, clean_playback(body) if cleaned else body, None, origin,
                  cleaned=cleaned)
