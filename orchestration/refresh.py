"""The light page check that the CLI and the Dagster schedule share: fetch (conditional GET with the
published version's validators), archive, compare; on an unchanged page, re-publish only the fetch
bookkeeping. It imports neither Dagster nor dbt: an unchanged refresh never pays for them.

Outcomes written to the fetch log: published | unchanged | rejected: <check> | failed: <cause>."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import paths
from .archive import Archive
from .fetch import FetchError, FetchPolicy, FetchResult, Validators, fetch
from .parsing import ParsedPage, ParseError, parse_page
from .publish import (
    after_publish,
    build_path,
    discard_build,
    publish,
    published_meta,
    seal,
    start_build,
)
from .reference import load_reference

log = logging.getLogger("kfor")
PENDING_NAME = "pending_fetch.json"


class RefreshError(Exception):
    """A refresh that did not publish: `outcome` is what the fetch log says, `record` the logged
    fetch (when there is one)."""

    def __init__(self, outcome: str, cause: str, record: dict | None = None):
        super().__init__(cause)
        self.outcome = outcome
        self.cause = cause
        self.record = record

    def alert(self) -> dict:
        """The webhook payload for this failure."""
        record = self.record or {}
        return {"event": "refresh_rejected" if self.outcome.startswith("rejected")
                else "refresh_failed", "outcome": self.outcome, "message": self.cause,
                "url": record.get("url"), "fetch_id": record.get("fetch_id"),
                "fetched_at": record.get("fetched_at"), "warehouse": str(paths.warehouse_path())}


@dataclass
class PageCheck:
    record: dict  # the fetch-log record; outcome filled in when the refresh ends
    changed: bool
    page: ParsedPage | None = None
    warnings: list[str] = field(default_factory=list)


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record(url: str) -> dict:
    return {"fetch_id": uuid.uuid4().hex, "fetched_at": now_utc(), "url": url,
            "source": "file" if url.lower().startswith("file:") else "live"}


def check_page(url: str | None = None, published: Path | None = None,
               archive: Archive | None = None, policy: FetchPolicy | None = None,
               fetcher=fetch) -> PageCheck:
    """Fetch, archive and compare with the published version. Logs and raises RefreshError for a
    failed fetch or an unreadable page; returns a PageCheck otherwise (nothing logged yet).
    `fetcher(url, validators, policy)` is the fetch client (orchestration.fetch.fetch by default)."""
    url = url or paths.source_url()
    archive = archive or Archive()
    meta = published_meta(published)
    validators = Validators(meta.get("etag"), meta.get("last_modified")) if meta else None
    record = new_record(url)
    warnings: list[str] = []
    try:
        result = fetcher(url, validators, policy)
    except FetchError as e:
        record.update(status=e.status, attempts=e.attempts)
        if not (e.unreachable and url == paths.LIVE_URL):
            finish(archive, record, f"failed: {e.cause}")
            raise RefreshError(record["outcome"], e.cause, record) from None
        result, origin = archived_fallback(archive)
        warnings.append(f"warning: {e.cause}; offline, so using {origin}")
    record.update(source=result.source, status=result.status, etag=result.validators.etag,
                  last_modified=result.validators.last_modified,
                  content_type=result.content_type, attempts=result.attempts,
                  elapsed_ms=result.elapsed_ms)
    if result.not_modified:
        record.update(body_sha256=meta["body_sha256"], content_sha256=meta["content_sha256"],
                      etag=record["etag"] or meta.get("etag"),
                      last_modified=record["last_modified"] or meta.get("last_modified"))
        return PageCheck(record, changed=False, warnings=warnings)
    record.update(body_sha256=archive.store(result.body), bytes=len(result.body))
    if meta and record["body_sha256"] == meta.get("body_sha256"):
        record["content_sha256"] = meta["content_sha256"]
        return PageCheck(record, changed=False, warnings=warnings)
    try:
        page = parse_page(result.body, result.content_type, load_reference())
    except ParseError as e:
        finish(archive, record, f"rejected: parse:{e.check}", e.message)
        raise RefreshError(record["outcome"], e.message, record) from None
    record["content_sha256"] = page.content_sha256
    changed = not meta or page.content_sha256 != meta.get("content_sha256")
    return PageCheck(record, changed=changed, page=page, warnings=warnings)


def archived_fallback(archive: Archive) -> tuple[FetchResult, str]:
    """The newest published version in the archive, else the bundled snapshot (source = archive),
    and words saying which."""
    for record in reversed(archive.published()):
        try:
            body = archive.load(record["body_sha256"])
        except (FileNotFoundError, RuntimeError):
            continue
        return (FetchResult(url=record["url"], source="archive", status=None, body=body),
                f"the archived version published {record['fetched_at'][:10]} "
                f"({record['content_sha256'][:12]})")
    snapshot = paths.bundled_snapshot()
    return (FetchResult(url=snapshot.as_uri(), source="archive", status=None,
                        body=snapshot.read_bytes()),
            f"the bundled snapshot {snapshot.relative_to(paths.PROJECT_ROOT)}")


def finish(archive: Archive, record: dict, outcome: str, message: str | None = None) -> dict:
    """Write the fetch's outcome to the log (once)."""
    record["outcome"] = outcome
    if message:
        record["message"] = message
    archive.append(record)
    return record


def publish_unchanged(check: PageCheck, published: Path | None = None,
                      archive: Archive | None = None) -> dict:
    """An unchanged page: log the fetch and re-publish only the bookkeeping columns
    (fct_page_version.last_fetched_at, fetch_count) by the same copy-and-rename as a publish."""
    import duckdb

    from . import raw_tables

    published = published or paths.warehouse_path()
    archive = archive or Archive()
    record = dict(check.record, outcome="unchanged")
    build = start_build(published)
    write_pending(record, published)
    con = duckdb.connect(str(build))
    try:
        raw_tables.load_fetch_log(con, [*archive.records(), record])
        con.execute(
            f"""UPDATE {paths.MARTS_SCHEMA}.fct_page_version AS v SET
                    last_fetched_at = f.last_fetched_at, fetch_count = f.fetch_count
                FROM (SELECT content_sha256,
                             max(strptime(fetched_at, '%Y-%m-%dT%H:%M:%S.%fZ')) AS last_fetched_at,
                             count(*) AS fetch_count
                      FROM {paths.RAW_SCHEMA}.fetch_log
                      WHERE outcome IN ('published', 'unchanged') GROUP BY 1) AS f
                WHERE v.content_sha256 = f.content_sha256""")
    finally:
        con.close()
    seal(build)
    publish(build, published, keep=paths.keep_published())
    archive.append(record)
    clear_pending(published)
    # the bookkeeping changed, the content did not: new Parquet, same plots
    for warning in after_publish(published, record["content_sha256"], plots=False):
        log.warning(warning)
    return record


def write_pending(record: dict, published: Path | None = None) -> Path:
    """The record of the fetch being built, beside the scratch file: the job's failure hook and a
    later recovery read it to log the outcome."""
    path = build_path(published).parent / PENDING_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def read_pending(published: Path | None = None) -> dict | None:
    path = build_path(published).parent / PENDING_NAME
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def clear_pending(published: Path | None = None) -> None:
    (build_path(published).parent / PENDING_NAME).unlink(missing_ok=True)


def recover(archive: Archive | None = None, published: Path | None = None) -> str | None:
    """Called under the refresh lock before a refresh. A fetch whose refresh died (kill -9, power
    loss) left its pending record: if the published file holds that fetch (the rename happened, the
    log append did not), the log is completed from it; otherwise it is logged as interrupted."""
    archive = archive or Archive()
    discard_build(published)  # under the lock no build runs: any scratch file is stale
    pending = read_pending(published)
    if pending is None:
        return None
    note = None
    if pending["fetch_id"] not in {r.get("fetch_id") for r in archive.records()}:
        done = published_fetch(pending["fetch_id"], published)
        if done:
            finish(archive, {**pending, "outcome": done}, done,
                   "log completed after an interrupted refresh")
            note = f"completed the fetch log of a refresh interrupted after it published ({done})"
        else:
            finish(archive, pending, "failed: interrupted", "the refresh process died")
            note = "logged an interrupted refresh as failed"
    clear_pending(published)
    return note


def published_fetch(fetch_id: str, published: Path | None = None) -> str | None:
    """The outcome the published file records for a fetch, if it holds it."""
    published = published or paths.warehouse_path()
    if not published.exists():
        return None
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    try:
        row = con.execute(f"SELECT outcome FROM {paths.RAW_SCHEMA}.fetch_log WHERE fetch_id = ?",
                          [fetch_id]).fetchone()
    finally:
        con.close()
    return row[0] if row else None
