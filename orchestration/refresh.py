"""One refresh, one path. Whoever starts it (`kfor refresh` from cron, the schedule, Materialize
in the UI, `kfor replay`), a refresh is:

    decide    under the refresh lock: fetch (conditional GET with the published version's
              validators), archive the body, compare its version key with the published one.
              Every check is observed on the `page` asset in the Dagster instance; an unchanged
              page or a failed fetch ends here, concluded in the fetch log (no dbt is loaded).
    build     a changed page is a run of the Dagster job `refresh` (raw -> dbt -> warehouse):
              the raw batch into a scratch copy, `dbt build` with every test as an asset check
              (audit), then seal and one atomic rename (publish). The run's resource concludes it.

`kfor refresh` decides before it starts the run (so an unchanged page costs no dbt), and passes the
fetch record in the run's config; the schedule and the UI start the run and it decides in its first
step. Both call `decide()`.

Outcomes (orchestration.outcome): published | unchanged | rejected: <check> | failed: <cause>."""

from __future__ import annotations

import logging
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestration.core import project as paths

from .core.archive import IMPORTED, Archive, sha256
from .core.fetch import FetchError, FetchResult, Validators, fetch
from .core.lock import refresh_lock
from .core.outcome import SUCCESS, TIME_FORMAT, conclude, outcome_of, staleness
from .core.publish import discard_build, holds_fetch, published_meta
from .core.redact import redact_url
from .core.reference import load_reference
from .core.settings import Settings
from .instance import (
    OUTCOME_TAG,
    PID_TAG,
    dead_runs,
    fetch_record_json,
    get_instance,
    mark_failed,
    observe,
    page_observation,
    unfinished_checks,
)
from .parsing import ParsedPage, ParseError, parse_page

log = logging.getLogger("kfor")


class RefreshError(Exception):
    """A refresh that did not publish: `outcome` is what the fetch log says, `record` the fetch."""

    def __init__(self, outcome: str, cause: str, record: dict | None = None):
        super().__init__(cause)
        self.outcome = outcome
        self.cause = cause
        self.record = record


@dataclass
class Check:
    record: dict  # the fetch-log record, without its outcome
    changed: bool
    page: ParsedPage | None = None
    warnings: list[str] = field(default_factory=list)


def now_utc() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def new_record(url: str, source: str | None = None) -> dict:
    """A fetch's record. Its URL is redacted (user-info, secret query values): the record reaches
    the fetch log, the warehouse, the instance and alerts; the fetch itself uses the real URL."""
    return {"fetch_id": uuid.uuid4().hex, "fetched_at": now_utc(), "url": redact_url(url),
            "source": source or ("file" if url.lower().startswith("file:") else "live")}


# -- decide ---------------------------------------------------------------------------------------

def check_page(settings: Settings, record: dict, fetcher=fetch) -> Check:
    """Fetch, archive and compare with the published version, filling in `record` (so whatever
    raises, the fetch is logged with what was learnt). Raises RefreshError for a failed fetch or
    an unreadable page. `fetcher(url, validators, policy)` is the fetch client."""
    archive = Archive(settings.raw_dir)
    archive.require_writable()  # a read-only archive fails before anything is fetched
    meta = published_meta(settings.warehouse)  # None when missing or damaged: rebuilt then
    confirmed = validated_record(archive.records(), meta, record["url"])
    validators = Validators(confirmed.get("etag"), confirmed.get("last_modified")) \
        if confirmed else None
    warnings: list[str] = []
    try:
        result = fetcher(settings.source_url, validators, settings.fetch_policy())
    except FetchError as e:
        record.update(status=e.status, attempts=e.attempts)
        if not (e.unreachable and settings.is_live_default):
            raise RefreshError(f"failed: {e.cause}", e.cause, record) from None
        result, origin = archived_fallback(archive)
        stale = staleness(settings, archive.records())
        offline = f"{e.cause}; offline, so using {origin}" + (f"; {stale}" if stale else "")
        record["message"] = offline
        warnings.append(f"warning: {offline}")
    record.update(source=result.source, status=result.status, etag=result.validators.etag,
                  last_modified=result.validators.last_modified,
                  content_type=result.content_type, attempts=result.attempts,
                  elapsed_ms=result.elapsed_ms)
    if result.not_modified:
        if not confirmed:
            raise RefreshError("failed: 304 Not Modified with no published version",
                               "the server answered 304 Not Modified to an unconditional request",
                               record)
        # the server confirms the body those validators came with
        record.update(body_sha256=confirmed["body_sha256"],
                      content_sha256=confirmed["content_sha256"],
                      etag=record["etag"] or confirmed.get("etag"),
                      last_modified=record["last_modified"] or confirmed.get("last_modified"))
        return Check(record, changed=False, warnings=warnings)
    record.update(body_sha256=sha256(result.body), bytes=len(result.body))  # logged if store fails
    archive.store(result.body)
    if meta and record["body_sha256"] == meta.get("body_sha256"):
        record["content_sha256"] = meta["content_sha256"]
        return Check(record, changed=False, warnings=warnings)
    try:
        page = parse_page(result.body, result.content_type, load_reference())
    except ParseError as e:
        raise RefreshError(f"rejected: parse:{e.check}", e.message, record) from None
    record["content_sha256"] = page.content_sha256
    changed = not meta or page.content_sha256 != meta.get("content_sha256")
    return Check(record, changed=changed, page=page, warnings=warnings)


def validated_record(records, meta: dict | None, url: str) -> dict | None:
    """The fetch whose validators the next conditional GET of `url` sends: the newest successful
    fetch of that URL (redacted, as logged) that holds the published version and has an ETag or
    a Last-Modified, so a 304 confirms what is published. None with nothing published."""
    if not meta:
        return None
    found = None
    for record in records:
        if (record.get("outcome") in SUCCESS and record.get("url") == url
                and record.get("content_sha256") == meta.get("content_sha256")
                and record.get("body_sha256") and (record.get("etag")
                                                   or record.get("last_modified"))):
            found = record
        elif record.get("outcome") == "published":
            found = None  # another version was published since (a rollback, another source)
    return found


def archived_fallback(archive: Archive) -> tuple[FetchResult, str]:
    """The newest version a refresh published (an imported capture is older by nature: never
    this), else the bundled snapshot (source = archive), and words saying which. A newest version
    whose page is missing or damaged raises: falling back to an older one would publish it over
    the newer."""
    published = [r for r in archive.published() if r.get("source") != IMPORTED]
    if published:
        record = published[-1]
        return (FetchResult(url=record["url"], source="archive", status=None,
                            body=archive.load(record["body_sha256"])),
                f"the archived version published {record['fetched_at'][:10]} "
                f"({record['content_sha256'][:12]})")
    snapshot = paths.bundled_snapshot()
    return (FetchResult(url=snapshot.as_uri(), source="archive", status=None,
                        body=snapshot.read_bytes()),
            f"the bundled snapshot {snapshot.relative_to(paths.PROJECT_ROOT)}")


def decide(settings: Settings, instance, fetcher=fetch, log_event=None,
           record: dict | None = None) -> Check:
    """The check, observed in the instance (through `log_event` inside a run, so the observation
    belongs to it); a failed fetch or an unchanged page is concluded here, and so is any other
    exception (raised as RefreshError). Call under the lock."""
    def seen(record: dict, state: str) -> None:
        if log_event:
            log_event(page_observation(record, state))
        else:
            observe(instance, record, state)

    record = record if record is not None else new_record(settings.source_url)
    try:
        check = check_page(settings, record, fetcher)
        seen(check.record, "changed" if check.changed else "unchanged")
        if not check.changed:
            conclude(settings, check.record, "unchanged")
    except RefreshError as e:
        concluded = conclude(settings, e.record or record, e.outcome, e.cause)
        observe_failure(seen, concluded)
        raise RefreshError(concluded["outcome"], concluded["message"], concluded) from None
    except Exception as e:
        concluded = conclude_failure(settings, record, e)
        observe_failure(seen, concluded)
        raise RefreshError(concluded["outcome"], concluded["message"], concluded) from e
    return check


def conclude_failure(settings: Settings, record: dict, error: BaseException) -> dict:
    """Log and alert an exception that ended a refresh (whatever raised it)."""
    outcome, cause = outcome_of(error)
    return conclude(settings, record, outcome, cause)


def observe_failure(seen, record: dict) -> None:
    """The failed check in the instance, after the fetch log and the alert have it: an instance
    that cannot be written (a full disk) must not hide the cause already concluded."""
    try:
        seen(record, record["outcome"].split(":")[0])
    except Exception as e:  # noqa: BLE001 - concluded already; the instance is secondary here
        log.info("the failed check could not be recorded in the Dagster instance: %s", e)


@contextmanager
def failures_concluded(settings: Settings, record: dict):
    """Any exception that ends a refresh before it concluded its fetch (opening the instance,
    recovery, starting the run) is concluded as a failure and raised as RefreshError."""
    try:
        yield
    except RefreshError:
        raise  # concluded where it was raised
    except Exception as e:
        concluded = conclude_failure(settings, record, e)
        raise RefreshError(concluded["outcome"], concluded["message"], concluded) from e


def recover(settings: Settings, instance, exclude_run: str | None = None) -> list[str]:
    """Under the lock, no other refresh runs: what a killed one left is settled. A check that never
    got an outcome is logged as published (when the published file holds it: the rename happened,
    the log append did not) or as failed: interrupted; a run still shown as running is marked
    failed; a scratch build is removed. Returns one note per repair."""
    notes = []
    logged = {r.get("fetch_id") for r in Archive(settings.raw_dir).records()}
    for record in unfinished_checks(instance, logged):
        done = holds_fetch(settings.warehouse, record["fetch_id"])
        if done:
            conclude(settings, record, done, "log completed after an interrupted refresh")
            notes.append("completed the fetch log of a refresh interrupted after it published")
        else:
            conclude(settings, record, "failed: interrupted", "the refresh process died")
            notes.append("logged an interrupted refresh as failed")
    for run in dead_runs(instance, exclude=exclude_run):
        mark_failed(instance, run, "the refresh process died; marked failed by the next refresh")
        notes.append(f"marked the interrupted run {run.run_id[:8]} failed")
    discard_build(settings)
    if notes:  # a refresh killed after its rename may not have finished the Parquet copy
        from .core.export import settle

        if settle(settings.warehouse, (published_meta(settings.warehouse) or {}).get("content_sha256")):
            notes.append("re-exported the Parquet copy of the published version")
    return notes


# -- the CLI's refresh and replay ----------------------------------------------------------------

def refresh(settings: Settings, wait: float = 0.0, say=print, verbose: bool = False) -> Check:
    """`kfor refresh`: decide, and build a changed page by a run of the `refresh` job in this
    process, recorded in the persistent instance. Raises RefreshError when it did not publish."""
    with refresh_lock(settings.lock_path, wait=wait):
        record = new_record(settings.source_url)
        with failures_concluded(settings, record):
            instance = get_instance(settings)
            for note in recover(settings, instance):
                say(f"note: {note}")
            check = decide(settings, instance, record=record)
            for warning in check.warnings:
                say(warning)
            if check.changed:
                run_job(settings, instance, {"fetch_record": fetch_record_json(check.record)},
                        fetch_id=check.record["fetch_id"], verbose=verbose)
    return check


def replay(settings: Settings, wait: float = 0.0, say=print, verbose: bool = False) -> dict:
    """`kfor replay`: one run of the `refresh` job that rebuilds the warehouse from every published
    version in the archive. Returns what the run's raw step loaded."""
    instance = get_instance(settings)
    with refresh_lock(settings.lock_path, wait=wait):
        for note in recover(settings, instance):
            say(f"note: {note}")
        run_job(settings, instance, {"mode": "replay"}, verbose=verbose)
    published = Archive(settings.raw_dir).published()
    return {"versions": len({r["content_sha256"] for r in published}),
            "publications": len(published)}


def run_job(settings: Settings, instance, config: dict, fetch_id: str | None = None,
            verbose: bool = False):
    """Execute the `refresh` job in this process on the persistent instance. Raises RefreshError
    with the outcome the run concluded when it did not succeed."""
    from . import dbt_build

    dbt_build.ensure_manifest()  # the definitions read it (a fresh checkout, a torn file)
    from .definitions import defs  # loads dagster-dbt and dbt: only for a build

    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=instance, raise_on_error=False, tags={PID_TAG: str(os.getpid())},
        run_config={"resources": {"refresh_run": {"config": config}},
                    # the run's events go to the instance; the console shows them with -v only
                    "loggers": {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}}})
    run = instance.get_run_by_id(result.run_id)
    outcome = run.tags.get(OUTCOME_TAG) if run else None
    if result.success and outcome in ("published", "audited"):
        return result
    # a run that ended without publishing (a step skipped) failed, whatever Dagster says
    outcome = outcome or "failed: the refresh run failed"
    record = next((r for r in reversed(list(Archive(settings.raw_dir).records()))
                   if fetch_id and r.get("fetch_id") == fetch_id), None)
    failures = result.get_step_failure_events()
    cause = (record or {}).get("message") or (
        failures[0].step_failure_data.error.message.strip() if failures else outcome)
    raise RefreshError(outcome, cause, record)
