"""Captures in a WARC file, read with warcio: gzip-compressed per record or not (warcio tells), HTTP
chunked transfer coding and gzip/deflate/br content coding decoded (`content_stream()`).

- A `response` record with HTTP 200 is a Capture at its WARC-Date, of its WARC-Target-URI, with
  the HTTP Content-Type and the WARC-Payload-Digest. Its decoded body obeys the refresh's size cap
  (the cap counts decoded bytes, so a compressed bomb stops at it).
- A `revisit` record carries no body: it is a Revisit of its payload digest (WARC-Refers-To-*).
- A response that is not a 200 or not HTML (a redirect, a stylesheet of the same crawl), one over
  the cap or one whose body cannot be decoded is a Skipped with the reason.
- warcinfo, request, metadata, resource and conversion records hold no capture of a page and are
  passed over. A file damaged part-way yields what came before, then a Skipped naming the offset."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ..fetch import HTML_TYPES, FetchPolicy
from .model import Capture, CaptureSourceError, Item, Origin, Revisit, Skipped, warc_time
from .wayback import clean_playback, is_playback


def warc_captures(path: Path, policy: FetchPolicy | None = None) -> Iterator[Item]:
    """Yield a Capture, Revisit or Skipped for every response and revisit record, in file order."""
    policy = policy or FetchPolicy()
    path = Path(path)
    try:
        f = open(path, "rb")  # noqa: SIM115 -- closed below, after the generator's last record
    except OSError as e:
        raise CaptureSourceError(f"cannot read the WARC file {path}: {e.strerror or e}") from None
    with f:
        records = ArchiveIterator(f)
        offset = 0
        try:
            for record in records:
                if record.rec_type not in ("response", "revisit"):
                    continue
                item = _item(record, path, policy)
                offset = records.get_record_offset()
                yield _at(item, offset)
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as e:
            yield Skipped(Origin("warc", path=str(path), offset=offset),
                          f"the WARC file is damaged after offset {offset}: {_one_line(e)}")


def _item(record, path: Path, policy: FetchPolicy) -> Item:
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI")
    origin = Origin("warc", path=str(path))
    try:
        captured_at = warc_time(headers.get_header("WARC-Date") or "")
    except ValueError:
        return Skipped(origin, f"bad WARC-Date {headers.get_header('WARC-Date')!r}", url)
    digest = headers.get_header("WARC-Payload-Digest")
    if record.rec_type == "revisit":
        if not digest:
            return Skipped(origin, "a revisit record without a WARC-Payload-Digest", url, captured_at)
        refers = headers.get_header("WARC-Refers-To-Date")
        try:
            refers_to_date = warc_time(refers) if refers else None
        except ValueError:
            refers_to_date = None
        return Revisit(url, captured_at, digest, origin,
                       headers.get_header("WARC-Refers-To-Target-URI"), refers_to_date)
    http = record.http_headers
    if http is None:
        return Skipped(origin, "a response record without HTTP headers", url, captured_at)
    status = http.get_statuscode()
    if status != "200":
        return Skipped(origin, f"HTTP {status} response, not a page", url, captured_at)
    content_type = http.get_header("Content-Type")
    if content_type and not content_type.lower().startswith(HTML_TYPES):
        return Skipped(origin, f"{content_type!r}, not HTML", url, captured_at)
    try:
        body = record.content_stream().read(policy.max_bytes + 1)
    except Exception as e:  # zlib, brotli or chunking errors of a damaged body
        return Skipped(origin, f"cannot decode the body: {_one_line(e)}", url, captured_at)
    if len(body) > policy.max_bytes:
        return Skipped(origin, f"body is over the {policy.max_bytes}-byte cap", url, captured_at)
    cleaned = is_playback(body)
    return Capture(url, captured_at, clean_playback(body) if cleaned else body, content_type, origin,
                   digest, cleaned)


def _at(item: Item, offset: int) -> Item:
    """The item with its record's offset in its origin."""
    return replace(item, origin=replace(item.origin, offset=offset))


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__
