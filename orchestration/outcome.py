"""How a refresh ends: its fetch-log record gets its outcome (published | unchanged |
rejected: <check> | failed: <cause>), once, and a refresh that did not publish is posted to
KFOR_WEBHOOK_URL. `conclude()` is the only function that writes an outcome or sends an alert; it
runs in the refreshing process, so no alert depends on the Dagster daemon."""

from __future__ import annotations

import json
import logging
import urllib.request

from .archive import Archive
from .settings import Settings

log = logging.getLogger("kfor")
SUCCESS = ("published", "unchanged")


def conclude(settings: Settings, record: dict, outcome: str, message: str | None = None,
             run_id: str | None = None, alert: bool = True) -> dict:
    """Log the fetch with its outcome and alert when it did not succeed (an import, run by hand,
    reports its refused captures in its summary instead: alert=False); returns the record."""
    record = {**record, "outcome": outcome, "message": message or record.get("message")}
    Archive(settings.raw_dir).append(record)
    if alert and outcome not in SUCCESS:
        send_alert(settings, alert_payload(settings, record, run_id))
    return record


def alert_payload(settings: Settings, record: dict, run_id: str | None = None) -> dict:
    outcome = record["outcome"]
    return {"event": "refresh_rejected" if outcome.startswith("rejected") else "refresh_failed",
            "run_id": run_id, "outcome": outcome, "message": record.get("message") or outcome,
            "url": record.get("url"), "fetch_id": record.get("fetch_id"),
            "fetched_at": record.get("fetched_at"), "warehouse": str(settings.warehouse)}


def send_alert(settings: Settings, payload: dict, timeout: float = 5.0) -> bool:
    """POST the payload as JSON. An alert that cannot be delivered is logged, never raised:
    alerting must not turn a clear failure into a crash."""
    if not settings.webhook_url:
        return False
    request = urllib.request.Request(settings.webhook_url, data=json.dumps(payload).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (OSError, ValueError) as e:
        log.warning("could not deliver the alert to %s: %s", settings.webhook_url, e)
        return False


def outcome_of(error: BaseException | None) -> tuple[str, str]:
    """The fetch-log outcome and one line of explanation for an exception that ended a refresh:
    a failing check or an unreadable page is a rejection, anything else a failure."""
    from .parsing import ParseError

    checks = getattr(error, "checks", None)
    if checks:
        return f"rejected: {checks[0]}", str(error)
    if isinstance(error, ParseError):
        return f"rejected: parse:{error.check}", error.message
    cause = f"{type(error).__name__}: {error}" if error else "unknown error"
    return f"failed: {cause.splitlines()[0][:200]}", cause
