"""Captures listed by a Wayback CDX API for a URL and a date range, downloaded politely.

The listing goes through cdx-toolkit (`CDXFetcher(source=<endpoint>)`, the JSON output; it paces
and retries its own CDX requests). Each capture is then downloaded from its `id_` replay URL (the
bytes as captured, none of the replay's markup) by orchestration.core.fetch.fetch, with the refresh's
FetchPolicy: the same size cap, redirect rules, retries and backoff. On top of that:

- a rate limit: at most `rate` requests a second, retries included (default 1);
- deduplication: a row whose CDX digest an earlier capture of this download had is not downloaded
  again but yielded as a Revisit of that digest (the same payload, seen again at its own time);
- resumability: a state file under `state_dir` records each capture once the consumer says it is
  handled (`done(item)`); a rerun skips those (ResumeState);
- progress: one line per capture, "12/40 captures: <timestamp> <url>: <what happened>".

A capture that cannot be downloaded (over the cap, a 404, a 500 after every retry) is yielded as a
Skipped with fetch()'s one-line cause and never stops the others.

The endpoint and the replay prefix may carry a token: what this module says or writes (progress
lines, errors, cdx-toolkit's own log lines, the state file) names them redacted
(orchestration.redact); only the requests use them as given."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cdx_toolkit

from ..core.fetch import RETRY_STATUS, FetchError, FetchPolicy, fetch
from ..core.redact import redact_text, redact_url
from .model import Capture, CaptureSourceError, Item, Origin, Revisit, Skipped, wayback_time
from .polite import DEFAULT_RATE, RateLimiter, ResumeState, to_stderr
from .wayback import clean_playback, is_playback, replay_timestamp, replay_url

WAYBACK_CDX = "https://web.archive.org/cdx/search/cdx"
WAYBACK_REPLAY = "https://web.archive.org/web"
LISTING_DEADLINE = 300.0  # seconds for the whole CDX listing
_OK_STATUS = {"200", "-"}  # "-": a revisit row, replayed as the payload it revisits


@dataclass(frozen=True)
class CdxQuery:
    """The captures of `url` from `from_ts` to `to_ts` (CDX timestamps, a prefix such as "2009" or
    "20190315" allowed) as `endpoint` lists them; bodies from `replay` (prefix/<ts>id_/<url>)."""

    url: str
    from_ts: str | None = None
    to_ts: str | None = None
    endpoint: str = WAYBACK_CDX
    replay: str = WAYBACK_REPLAY

    def about(self) -> dict:
        """What identifies the download (its state file's name and contents), URLs redacted."""
        return {"url": redact_url(self.url), "from": self.from_ts, "to": self.to_ts,
                "endpoint": redact_url(self.endpoint), "replay": redact_url(self.replay)}

    def redact(self, text: str) -> str:
        return redact_text(text, self.url, self.endpoint, self.replay)

    def state_file(self, state_dir: Path) -> Path:
        name = hashlib.sha256(json.dumps(self.about(), sort_keys=True).encode()).hexdigest()[:16]
        return Path(state_dir) / f"cdx-{name}.json"


@dataclass(frozen=True)
class _Row:
    timestamp: str
    url: str
    status: str
    digest: str | None

    @property
    def key(self) -> str:
        return f"{self.timestamp} {self.url}"


def list_captures(query: CdxQuery, deadline: float = LISTING_DEADLINE) -> list[_Row]:
    """Every row the CDX API lists for the query, oldest first, each (timestamp, url) once.

    cdx-toolkit retries a 5xx without a limit and a refused connection a hundred times a minute
    apart; the listing gets `deadline` seconds in all (it runs in a daemon thread, which a
    process that gave up on it leaves behind when it exits)."""
    params = {}
    if query.from_ts:
        params["from_ts"] = query.from_ts
    if query.to_ts:
        params["to"] = query.to_ts
    outcome: dict = {}

    def listing() -> None:
        try:
            fetcher = cdx_toolkit.CDXFetcher(source=query.endpoint)
            outcome["rows"] = list(fetcher.iter(query.url, **params))
        except Exception as e:  # requests' and cdx-toolkit's errors: any of them leaves no listing
            outcome["error"] = f"{type(e).__name__}: {e}"

    worker = threading.Thread(target=listing, name="cdx-listing", daemon=True)
    logs = _RedactedLogs(query)  # cdx-toolkit logs the endpoint, query string and all
    logs.on()
    worker.start()
    worker.join(deadline)
    if not worker.is_alive():  # a listing given up on keeps logging: its filter stays
        logs.off()
    what = f"cannot list the captures of {query.url} from {query.endpoint}"
    if worker.is_alive():
        raise CaptureSourceError(query.redact(f"{what}: no answer within {deadline:g} s"))
    if "error" in outcome:
        raise CaptureSourceError(query.redact(f"{what}: {' '.join(outcome['error'].split())[:300]}"))
    rows = {}
    for obj in outcome["rows"]:
        row = _Row(str(obj["timestamp"]), str(obj["url"]), str(obj.get("status", "")),
                   obj.get("digest") or None)
        rows.setdefault(row.key, row)
    return sorted(rows.values(), key=lambda r: (r.timestamp, r.url))


class _RedactingFilter(logging.Filter):
    def __init__(self, query: CdxQuery):
        super().__init__()
        self.query = query

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.query.redact(record.getMessage()), None
        return True


class _RedactedLogs:
    """While listing, every cdx-toolkit logger's records are redacted (a filter on each: a
    logger's filters do not see its children's records)."""

    def __init__(self, query: CdxQuery):
        self.filter = _RedactingFilter(query)
        self.loggers = [logging.getLogger("cdx_toolkit")] + [
            v for k, v in logging.root.manager.loggerDict.items()
            if k.startswith("cdx_toolkit.") and isinstance(v, logging.Logger)]

    def on(self) -> None:
        for logger in self.loggers:
            logger.addFilter(self.filter)

    def off(self) -> None:
        for logger in self.loggers:
            logger.removeFilter(self.filter)


class CdxDownload:
    """The captures a CdxQuery lists, downloaded one by one: iterate for a Capture, Revisit or
    Skipped per capture that no earlier run finished, and call done(item) once the item is
    handled (archived, logged): only then does the state file count it, so an interruption
    before that leaves it to the rerun, and nothing handled is downloaded twice.

        download = CdxDownload(CdxQuery(url, "2009", "2019"), state_dir, settings.fetch_policy())
        for item in download:
            handle(item)
            download.done(item)
    """

    def __init__(self, query: CdxQuery, state_dir: Path, policy: FetchPolicy | None = None,
                 rate: float = DEFAULT_RATE, progress: Callable[[str], None] = to_stderr,
                 sleep: Callable[[float], None] = time.sleep):
        self.query = query
        self.policy = policy or FetchPolicy()
        self.state = ResumeState(query.state_file(state_dir), query.about())
        self.limiter = RateLimiter(rate, sleep=sleep)
        self.progress = lambda line: progress(query.redact(line))
        self.total: int | None = None  # rows listed, once iteration started
        self.earlier: int | None = None  # of them, done by earlier runs
        self._pending: dict[int, tuple[Item, str, bool]] = {}

    def __iter__(self) -> Iterator[Item]:
        rows = list_captures(self.query)
        self.total = len(rows)
        self.earlier = sum(self.state.finished(r.key) for r in rows)
        self.progress(f"{self.total} captures of {self.query.url} listed by {self.query.endpoint}"
                      + (f"; {self.earlier} done earlier (state {self.state.path})"
                         if self.earlier else ""))
        digests = self.state.digests()  # digest -> the key of the capture that had it
        for n, row in enumerate(rows, start=1):
            if self.state.finished(row.key):
                continue
            item, retry = _one(row, self.query, digests, self.policy, self.limiter)
            if isinstance(item, Capture) and item.digest:
                digests.setdefault(item.digest, row.key)
            self.progress(f"{n}/{self.total} captures: {row.timestamp} {row.url}: {_said(item)}")
            self._pending[id(item)] = (item, row.key, retry)
            yield item

    def done(self, item: Item) -> None:
        """Record `item` (one this download yielded) as handled, atomically."""
        pending = self._pending.pop(id(item), None)
        if pending is None or pending[0] is not item:
            raise ValueError("done() takes an item this download yielded, once")
        _, key, retry = pending
        self.state.record(key, _outcome(item), getattr(item, "digest", None), retry)


def _one(row: _Row, query: CdxQuery, digests: dict[str, str], policy: FetchPolicy,
         limiter: RateLimiter) -> tuple[Item, bool]:
    """The row's item, and whether a rerun should try it again."""
    url = replay_url(query.replay, row.timestamp, row.url)
    origin = Origin("cdx", endpoint=query.endpoint, replay_url=url)
    try:
        captured_at = wayback_time(row.timestamp)
    except ValueError as e:
        return Skipped(origin, f"the CDX row's timestamp: {e}", row.url), False
    if row.status not in _OK_STATUS:
        return Skipped(origin, f"the archive holds an HTTP {row.status} response here, not a page",
                       row.url, captured_at), False
    if row.digest and row.digest in digests:
        first = digests[row.digest]
        first_ts, _, first_url = first.partition(" ")
        return Revisit(row.url, captured_at, row.digest, origin, first_url,
                       wayback_time(first_ts)), False
    limiter.wait()
    try:
        result = fetch(url, policy=policy, sleep=limiter.pause)
    except FetchError as e:
        retry = e.unreachable or e.status in RETRY_STATUS or e.attempts > 1
        return Skipped(origin, e.cause, row.url, captured_at), retry
    body = result.body or b""
    # the archive may answer with the nearest capture instead (a redirect to its own timestamp)
    final_ts = replay_timestamp(result.url)
    if final_ts and final_ts != row.timestamp:
        captured_at = wayback_time(final_ts)
    cleaned = is_playback(body)  # a replay that ignored id_: take its markup off
    return Capture(row.url, captured_at, clean_playback(body) if cleaned else body,
                   result.content_type, Origin("cdx", endpoint=query.endpoint, replay_url=result.url),
                   row.digest, cleaned), False


def _said(item: Item) -> str:
    if isinstance(item, Capture):
        return f"downloaded {len(item.body)} bytes" + (" (replay markup removed)" if item.cleaned else "")
    if isinstance(item, Revisit):
        return f"same payload as {item.refers_to_url} at {item.refers_to_date:%Y%m%d%H%M%S} ({item.digest})"
    return f"skipped: {item.reason}"


def _outcome(item: Item) -> str:
    if isinstance(item, Capture):
        return "ok"
    if isinstance(item, Revisit):
        return "revisit"
    return f"skipped: {item.reason}"
