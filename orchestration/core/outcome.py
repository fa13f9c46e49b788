"""How a refresh ends: its fetch-log record gets its outcome (published | unchanged |
rejected: <check> | failed: <cause>), once, and a refresh that did not publish is posted to
KFOR_WEBHOOK_URL. `conclude()` is the only function that writes an outcome or sends an alert; it
runs in the refreshing process, so no alert depends on the Dagster daemon.

- A failure is never lost with its log line: when the fetch log cannot be written (a full disk),
  the alert is still sent and the outcome says so, "... (the fetch log could not be written:
  [Errno 28] No space left on device: '<raw>/fetch_log.jsonl')".
- Freshness is the age of the newest successful fetch of the source itself (FRESH_SOURCES): an
  archive fallback, a rollback or an import never makes the page fresh. A fallback once the
  freshness window has passed alerts as `refresh_stale`.
- One-line causes keep what a reader needs: an OSError is written errno, the OS's words, then the
  path; a cause too long for one line loses its middle, never its end."""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime

from orchestration.core.archive import BUILDING, Archive, redacted
from orchestration.core.redact import origin_of, redact_text
from orchestration.core.settings import Settings

log = logging.getLogger("kfor")
SUCCESS = ("published", "unchanged")
FRESH_SOURCES = ("live", "file")  # fetches of the source itself; not archive, rollback, import
LINE_LIMIT = 400  # characters of an outcome line; the fetch log and stderr share it
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_concluded: set[str] = set()  # fetch ids this process has concluded: an outcome is written once


def intend(settings: Settings, record: dict) -> dict:
    """The intent record of a changed page, appended before its build is launched: recovery
    (core.recovery) turns it into `published` or `failed: interrupted` if no run concludes it."""
    record = {**record, "outcome": BUILDING}
    Archive(settings.raw_dir).append(record)
    return record


def conclude(settings: Settings, record: dict, outcome: str, message: str | None = None,
             run_id: str | None = None, alert: bool = True) -> dict:
    """Log the fetch with its outcome and alert when it did not succeed (or, for an archive
    fallback, when the page is stale; an import, run by hand, reports its refused captures in its
    summary instead: alert=False); returns the record as concluded. A fetch is concluded once
    per process: a second call returns the record unchanged. A failure whose log line cannot be
    written is still alerted, its outcome saying so; a success that cannot be logged raises."""
    record = {**record, "outcome": outcome, "message": message or record.get("message")}
    if record["fetch_id"] in _concluded:
        return record
    archive = Archive(settings.raw_dir)
    stale = stale_fallback(settings, archive, record)
    try:
        archive.append(record)
    except OSError as e:
        if outcome in SUCCESS:
            raise
        note = f" (the fetch log could not be written: {describe(e)})"
        record.update(outcome=one_line(outcome, LINE_LIMIT - len(note)) + note,
                      message=f"{record['message'] or outcome}{note}")
    _concluded.add(record["fetch_id"])
    if alert and outcome not in SUCCESS:
        send_alert(settings, alert_payload(settings, record, run_id))
    elif stale:
        send_alert(settings, alert_payload(settings, record, run_id, event="refresh_stale",
                                           message=f"{record.get('message') or outcome}; {stale}"))
    return record


def alert_export_failed(settings: Settings, cause: str, run_id: str | None = None) -> None:
    """A publish whose exports (Parquet, plots) failed: the warehouse stays published; one warning
    line (the driver prints it) and this one alert."""
    send_alert(settings, {"event": "export_failed", "run_id": run_id,
                          "outcome": "published", "message": f"the exports failed: {cause}",
                          "warehouse": settings.warehouse_name})


def alert_payload(settings: Settings, record: dict, run_id: str | None = None,
                  event: str | None = None, message: str | None = None) -> dict:
    """What the webhook receives: its url, outcome and message redacted as the fetch log writes
    them, and the configured source's secrets scrubbed wherever they appear (orchestration.redact)."""
    record = {**record, **redacted(record)}
    outcome = redact_text(record["outcome"], settings.source_url)
    event = event or ("refresh_rejected" if outcome.startswith("rejected") else "refresh_failed")
    return {"event": event, "run_id": run_id, "outcome": outcome,
            "message": redact_text(message or record.get("message") or outcome,
                                   settings.source_url, record.get("url")),
            "url": record.get("url"), "fetch_id": record.get("fetch_id"),
            "fetched_at": record.get("fetched_at"), "source": record.get("source"),
            "warehouse": settings.warehouse_name}


def send_alert(settings: Settings, payload: dict, timeout: float = 5.0) -> bool:
    """POST the payload as JSON. An alert that cannot be delivered is logged, never raised:
    alerting must not turn a clear failure into a crash. The warning names the webhook by its
    scheme, host and port only: a webhook's path and query are its credential."""
    if not settings.webhook_url:
        return False
    request = urllib.request.Request(settings.webhook_url, data=json.dumps(payload).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (OSError, ValueError) as e:
        log.warning("could not deliver the alert to the webhook at %s (KFOR_WEBHOOK_URL): %s",
                    origin_of(settings.webhook_url), webhook_cause(e, settings.webhook_url))
        return False


def webhook_cause(error: BaseException, url: str) -> str:
    """Why an alert was not delivered, without the webhook's URL or any part of its path (urllib
    quotes the URL in some errors: "unknown url type: '...'")."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    reason = getattr(error, "reason", None) if isinstance(error, urllib.error.URLError) else error
    text = redact_text(f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException)
                       else str(reason), url)
    for part in sorted({p for p in re.split(r"[/?#&=]", url or "") if len(p) >= 4}, key=len,
                       reverse=True):
        if part not in origin_of(url):  # a path segment or a value: any of them may be the secret
            text = text.replace(part, "...")
    return one_line(text)


# -- freshness ---------------------------------------------------------------------------------

def last_fresh_fetch(records: Iterable[dict]) -> dict | None:
    """The newest successful fetch of the source itself (live or file, never an archive fallback,
    a rollback or an import)."""
    found = None
    for record in records:
        if record.get("outcome") in SUCCESS and record.get("source") in FRESH_SOURCES:
            found = record
    return found


def hours_since(fetched_at: str, now: datetime | None = None) -> float:
    then = datetime.strptime(fetched_at, TIME_FORMAT).replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - then).total_seconds() / 3600


def freshness(settings: Settings, records: Iterable[dict]) -> tuple[float | None, bool]:
    """(hours since the newest fresh fetch or None, stale?)."""
    last = last_fresh_fetch(records)
    age = hours_since(last["fetched_at"]) if last else None
    return age, age is None or age > settings.freshness_hours


def staleness(settings: Settings, records: Iterable[dict]) -> str | None:
    """Words saying the page is stale, or None while it is fresh."""
    age, stale = freshness(settings, records)
    if not stale:
        return None
    since = "no live fetch has succeeded yet" if age is None else \
        f"the last live fetch was {age:.1f} h ago"
    return f"stale: {since} (stale after {settings.freshness_hours:g} h)"


def stale_fallback(settings: Settings, archive: Archive, record: dict) -> str | None:
    """For a successful archive fallback, the words saying the page is stale (else None)."""
    if record.get("source") != "archive" or record["outcome"] not in SUCCESS:
        return None
    return staleness(settings, archive.fetches())


# -- one line of cause -------------------------------------------------------------------------

def outcome_of(error: BaseException | None) -> tuple[str, str]:
    """The fetch-log outcome and one line of explanation for an exception that ended a refresh:
    a failing check or an unreadable page is a rejection, anything else a failure (its
    explanation whole, on one line; the outcome cut to LINE_LIMIT)."""
    from orchestration.parsing import ParseError

    checks = getattr(error, "checks", None)
    if checks:
        return f"rejected: {checks[0]}", str(error)
    if isinstance(error, ParseError):
        return f"rejected: parse:{error.check}", error.message
    # the message too is one line (the fetch log's, the alert's): a server's error says its
    # HINT or DETAIL on lines of their own
    cause = " ".join((describe(error) if error else "unknown error").split())
    return one_line(f"failed: {cause}"), cause


def describe(error: BaseException) -> str:
    """`Type: message`, an OSError as errno, the OS's words and the path(s) in that order, so a
    cut keeps the cause; an error caused by an OSError adds the OS's words when it lacks them."""
    if isinstance(error, OSError) and error.errno is not None:
        words = error.strerror or ""
        text = f"[Errno {error.errno}] {words}"
        if error.filename is not None:
            text += f": {str(error.filename)!r}"
        if error.filename2 is not None:
            text += f" -> {str(error.filename2)!r}"
        return f"{type(error).__name__}: {text}"
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__ or error.__context__
    if isinstance(cause, OSError) and cause.strerror and cause.strerror not in text:
        text += f" ([Errno {cause.errno}] {cause.strerror})"
    return text


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """The text on one line (whitespace runs as one space); past `limit` characters its middle
    is cut, so both the beginning (what failed) and the end (why, where) survive."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    keep = limit - 5
    head = keep * 2 // 3
    return f"{text[:head]} ... {text[len(text) - (keep - head):]}"
