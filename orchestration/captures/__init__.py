"""Archived captures of the page, from three kinds of source, as one kind of item.

    waybackpack_captures(DIR)        a directory written by waybackpack (waybackpack.py)
    warc_captures(FILE)              a WARC file (warc.py)
    saved_page_captures(FILE, URL)   one saved .htm/.html page (saved.py)
    CdxDownload(CdxQuery(...), ...)  the Wayback CDX API and its replays, politely (cdx.py)

Each yields Capture, Revisit and Skipped items (model.py) and takes the refresh's FetchPolicy (its
size cap and redirect rules). Bodies replayed with the archive's markup are cleaned back to the
captured page (wayback.py). Nothing here parses, archives or logs: that is the importer's."""

from .cdx import WAYBACK_CDX, WAYBACK_REPLAY, CdxDownload, CdxQuery, list_captures
from .model import (
    Capture,
    CaptureSourceError,
    Item,
    Origin,
    Revisit,
    Skipped,
    warc_time,
    wayback_time,
    wayback_timestamp,
)
from .polite import DEFAULT_RATE, RateLimiter, ResumeState
from .saved import saved_page_captures
from .warc import warc_captures
from .wayback import clean_playback, is_playback, replay_timestamp, replay_url
from .waybackpack import waybackpack_captures

__all__ = ["DEFAULT_RATE", "WAYBACK_CDX", "WAYBACK_REPLAY", "Capture", "CaptureSourceError",
           "CdxDownload", "CdxQuery", "Item", "Origin", "RateLimiter", "ResumeState", "Revisit", "Skipped",
           "clean_playback", "is_playback", "list_captures", "replay_timestamp",
           "replay_url", "saved_page_captures", "warc_captures", "warc_time", "wayback_time",
           "wayback_timestamp", "waybackpack_captures"]
