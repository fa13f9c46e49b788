"""Captures in a WARC file, read with warcio: gzip-compressed per record or not (warcio tells), HTTP
chunked transfer coding and gzip or deflate content coding decoded, strictly (a body that does not
decode, or stops short, is named, never read as far as it goes).

- A `response` record with HTTP 200 is a Capture at its WARC-Date, of its WARC-Target-URI, with
  the HTTP Content-Type and the WARC-Payload-Digest. Its decoded body obeys the refresh's size cap
  (the cap counts decoded bytes, so a compressed bomb stops at it).
- A `revisit` record carries no body: it is a Revisit of its payload digest (WARC-Refers-To-*).
- A response that is not a 200 or not HTML (a redirect, a stylesheet of the same crawl), one over
  the cap, one cut short or one whose body cannot be decoded is a Skipped with the reason.
- warcinfo, request, metadata, resource and conversion records hold no capture of a page and are
  passed over. A file damaged part-way yields what came before, then a Skipped naming the offset."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataException, ChunkedDataReader

from ..core.fetch import HTML_TYPES, FetchPolicy
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
        if not _starts_like_a_warc(f):
            raise CaptureSourceError(
                f"{path} is not a WARC file (no WARC record at its start) and not an HTML page: "
                "give a waybackpack directory, a WARC file, a saved .htm/.html page or the "
                "page's URL")
        records = ArchiveIterator(f)
        offset, seen = 0, 0
        try:
            for record in records:
                seen += 1
                if record.rec_type not in ("response", "revisit"):
                    continue
                item = _item(record, path, policy)
                offset = records.get_record_offset()
                yield _at(item, offset)
        except Exception as e:  # warcio fails on a torn file in many ways (ArchiveLoadFailed, ...)
            yield Skipped(Origin("warc", path=str(path), offset=offset),
                          f"the WARC file is damaged after offset {offset}: "
                          f"{type(e).__name__}: {_one_line(e)}")
            return
        if not seen:  # warcio ends a gzip member torn inside the first record without a word
            yield Skipped(Origin("warc", path=str(path), offset=0),
                          "the WARC file is damaged: its first record is incomplete")


def _starts_like_a_warc(f) -> bool:
    """The file starts with a WARC record ("WARC/1.x"), plain or in a gzip member; rewinds `f`.
    A damaged WARC still starts like one (its damage is reported by offset); anything else (a
    saved page that is not HTML, a PDF, a zip) is no WARC at all."""
    head = f.read(512)
    f.seek(0)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith(b"WARC/")


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
        body = _body(record, policy.max_bytes)
    except _Unreadable as e:
        return Skipped(origin, str(e), url, captured_at)
    cleaned = is_playback(body)
    return Capture(url, captured_at, clean_playback(body) if cleaned else body, content_type, origin,
                   digest, cleaned)


class _Unreadable(Exception):
    """Why a response's body cannot be had (one line)."""


def _body(record, max_bytes: int) -> bytes:
    """The response's body, chunking and content coding undone, strictly: warcio's own decoding
    falls back to the undecoded bytes, or to a part of them, on a body that does not decode, and
    the refresh fails such a body (fetch: "cannot decode the body")."""
    http = record.http_headers
    stream = record.raw_stream
    if (http.get_header("Transfer-Encoding") or "").strip().lower() == "chunked":
        stream = ChunkedDataReader(stream, raise_exceptions=True)
    try:
        encoded = stream.read(max_bytes + 1)
    except ChunkedDataException:  # a chunk header that is not one (or none where one must be)
        raise _Unreadable("cannot decode the body: it is not valid chunked transfer coding") from None
    if len(encoded) > max_bytes:
        raise _Unreadable(f"body is over the {max_bytes}-byte cap")
    missing = getattr(record.raw_stream, "limit", 0)  # warcio reads a torn record without a word
    if missing:
        raise _Unreadable(f"the record is cut short: {missing} of its {record.length} bytes are "
                          "missing")
    coding = (http.get_header("Content-Encoding") or "").strip().lower()
    if coding in ("", "identity"):
        return encoded
    if coding not in _WBITS:
        raise _Unreadable(f"cannot decode the body: content coding {coding!r} is not supported")
    body = _decompress(encoded, coding, max_bytes)
    if len(body) > max_bytes:  # counted decoded: a compressed bomb stops at the cap
        raise _Unreadable(f"body is over the {max_bytes}-byte cap")
    return body


# zlib's window bits per content coding: gzip; deflate as the zlib format, else raw (as browsers)
_WBITS = {"gzip": (16 + zlib.MAX_WBITS,), "x-gzip": (16 + zlib.MAX_WBITS,),
          "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS)}


def _decompress(data: bytes, coding: str, max_bytes: int) -> bytes:
    error = None
    for wbits in _WBITS[coding]:
        decompressor = zlib.decompressobj(wbits)
        try:
            body = decompressor.decompress(data, max_bytes + 1)
        except zlib.error as e:
            error = e
            continue
        if len(body) <= max_bytes and not decompressor.eof:
            raise _Unreadable(f"cannot decode the body: the {coding} stream is cut short")
        return body
    raise _Unreadable(f"cannot decode the body: {error}")


def _at(item: Item, offset: int) -> Item:
    """The item with its record's offset in its origin."""
    return replace(item, origin=replace(item.origin, offset=offset))


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__
