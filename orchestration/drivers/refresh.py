"""`kfor refresh` and `kfor replay`.

refresh  the warehouse's session (lock, recovery), then core.decide.decide(): an unchanged page or
         a failed fetch ends there (its record in the fetch log, an observation in the instance,
         no dbt); a changed page is a run of the `refresh` job in this process, which writes the
         fetch's final record. The outcome is that record.
replay   one run of the same job in mode `replay`: the warehouse rebuilt from every published
         version in the archive."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from orchestration.core.archive import Archive, FetchLogDamaged, RawFolderTaken
from orchestration.core.decide import Decision, RefreshError, decide, new_record
from orchestration.core.lock import RefreshBusy
from orchestration.core.outcome import conclude, outcome_of, send_alert
from orchestration.core.recovery import LogBehind
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings
from orchestration.drivers.launch import failure_of, get_instance, innermost_error, launch

log = logging.getLogger("kfor")


def refresh(settings: Settings, wait: float = 0.0, say=print, verbose: bool = False,
            retry: bool = False) -> Decision:
    """Decide, and build a changed page by a run of the `refresh` job in this process. Raises
    RefreshError (already logged and alerted) when it did not publish or confirm the page."""
    with failures_concluded(settings), warehouse_session(settings, wait=wait, say=say):
        try:
            decision = decide(settings, retry=retry)
        except RefreshError as e:  # recorded already; no run shows it, so an observation does
            if e.record:
                observe(settings, e.record)
            raise
        for warning in decision.warnings:
            say(warning)
        if not decision.changed:
            observe(settings, decision.record)
            return decision
        try:
            result = launch(settings, "refresh", "cli", verbose=verbose,
                            mode="refresh", fetch_id=decision.record["fetch_id"])
        except Exception as e:  # the run could not start: its fetch ends failed, once
            outcome, cause = outcome_of(e)
            record = conclude(settings, decision.record, outcome, cause)
            raise RefreshError(record["outcome"], record["message"], record) from e
        final = ended(settings, decision.record["fetch_id"])
        if final.get("outcome") == "unchanged":
            decision.changed = False
        elif final.get("outcome") != "published":
            raise RefreshError(final.get("outcome") or "failed: the run did not finish",
                               final.get("message") or "", final)
        for event in result.get_step_failure_events():  # the exports: the page is published
            if event.step_key == "exports":
                error = innermost_error(event.event_specific_data.error)
                say(f"warning: the exports failed: {error.message.strip().splitlines()[0]}")
        return decision


def ended(settings: Settings, fetch_id: str) -> dict:
    """The fetch's final record, as the run wrote it."""
    return next((r for r in Archive(settings.raw_dir).fetches() if r["fetch_id"] == fetch_id), {})


def observe(settings: Settings, record: dict) -> None:
    """A check that started no run, shown in the Dagster instance (best effort: the fetch log,
    already written, is the record)."""
    from orchestration.assets.page import page_observation

    try:
        get_instance(settings).report_runless_asset_event(page_observation(record))
    except Exception as e:  # noqa: BLE001 - the instance is the view, never the record
        log.warning("the check could not be shown in the Dagster instance: %s", e)


@contextmanager
def failures_concluded(settings: Settings):
    """Any exception that ends a refresh outside decide() (the lock, recovery, the run) is a
    failed refresh: logged and alerted, and raised as RefreshError. A log that cannot be trusted
    (damaged, behind the published warehouse, or another warehouse's) is alerted but not
    appended to."""
    try:
        yield
    except (RefreshError, RefreshBusy):
        raise  # recorded where it was raised / nothing to record: another refresh runs
    except (FetchLogDamaged, LogBehind, RawFolderTaken) as e:
        send_alert(settings, {"event": "refresh_failed", "outcome": "failed: fetch log",
                              "message": str(e), "warehouse": settings.warehouse_name})
        raise RefreshError(f"failed: {e}", str(e)) from e
    except Exception as e:
        outcome, cause = outcome_of(e)
        record = conclude(settings, new_record(settings.source_url), outcome, cause)
        observe(settings, record)
        raise RefreshError(record["outcome"], record["message"], record) from e


def replay(settings: Settings, wait: float = 0.0, say=print, verbose: bool = False) -> dict:
    """One run of the `refresh` job that rebuilds the warehouse from every published version in
    the archive. Returns how many it replayed."""
    with warehouse_session(settings, wait=wait, say=say):
        result = launch(settings, "refresh", "replay", verbose=verbose, mode="replay")
        if not result.success:
            outcome, cause = failure_of(result)
            raise RefreshError(outcome, cause)
    published = Archive(settings.raw_dir).published()
    return {"versions": len({r["content_sha256"] for r in published}),
            "publications": len(published)}
