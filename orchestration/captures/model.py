"""What a source of archived captures yields: a Capture (a body at a capture time), a Revisit (the
archive saw the same payload again and kept no body) or a Skipped (a record or file that yields no
capture, and why). Each names where it came from (an Origin), so a log line can point at it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core.redact import redact_text

_TIMESTAMP = re.compile(r"\d{14}")


class CaptureSourceError(RuntimeError):
    """A whole source cannot be read (no such directory, the CDX API cannot list the captures):
    nothing of it can be imported. One bad capture is a Skipped, never this."""


@dataclass(frozen=True)
class Origin:
    """Where an item came from. `source` is waybackpack, warc, cdx or saved (a lone saved page);
    `path` the file (a waybackpack capture, a WARC file, the saved page), `offset` the WARC
    record's byte offset, `endpoint` the CDX API and `replay_url` the URL the body was downloaded
    from. Its text (what the fetch log and messages say) is redacted: an endpoint may carry a
    token."""

    source: str
    path: str | None = None
    offset: int | None = None
    endpoint: str | None = None
    replay_url: str | None = None

    def __str__(self) -> str:
        if self.source == "warc":
            return f"warc {self.path} at offset {self.offset}"
        if self.source == "cdx":
            return redact_text(f"cdx {self.endpoint}: {self.replay_url}", self.endpoint,
                               self.replay_url)
        return f"{self.source} {self.path}"


@dataclass(frozen=True)
class Capture:
    """One archived body of a URL. `captured_at` is UTC; `digest` is the archive's payload digest
    ("sha1:<base32>", from WARC-Payload-Digest or the CDX) when the source gives one; `cleaned` says
    that the archive's toolbar and rewritten links were removed from the body (wayback.py)."""

    url: str
    captured_at: datetime
    body: bytes
    content_type: str | None
    origin: Origin
    digest: str | None = None
    cleaned: bool = False

    @property
    def timestamp(self) -> str:
        return wayback_timestamp(self.captured_at)

    @property
    def body_sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class Revisit:
    """The archive saw `url` again at `captured_at` with the payload `digest` it had already kept
    (a WARC revisit record, or a CDX row whose digest an earlier capture of this import had): a
    sighting of that earlier capture's body, which the importer finds by its digest."""

    url: str
    captured_at: datetime
    digest: str
    origin: Origin
    refers_to_url: str | None = None
    refers_to_date: datetime | None = None

    @property
    def timestamp(self) -> str:
        return wayback_timestamp(self.captured_at)


@dataclass(frozen=True)
class Skipped:
    """A file, record or CDX row that yields no capture, and why (one line)."""

    origin: Origin
    reason: str
    url: str | None = None
    captured_at: datetime | None = None


Item = Capture | Revisit | Skipped


def wayback_time(timestamp: str) -> datetime:
    """A 14-digit Wayback timestamp (YYYYMMDDhhmmss, UTC) as an aware datetime. Raises ValueError
    naming the timestamp when it is not 14 digits or not a real time."""
    if not _TIMESTAMP.fullmatch(timestamp):
        raise ValueError(f"{timestamp!r} is not a 14-digit capture time (YYYYMMDDhhmmss)")
    try:
        return datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{timestamp!r} is not a real capture time") from None


def wayback_timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def warc_time(value: str) -> datetime:
    """A WARC-Date (ISO 8601, "2019-10-01T00:00:00Z", fractions of a second allowed) in UTC."""
    when = datetime.fromisoformat(value.strip())
    if when.tzinfo is None:  # WARC dates are UTC; a date without a zone says nothing else
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
