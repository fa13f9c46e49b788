"""Rollback: re-publish a file the last publishes replaced (kept under history/) by the same
atomic rename, log it as a publication (source "rollback") so history and a later replay agree,
and record it in the Dagster instance as a materialization of `warehouse`. No dbt build runs:
the kept file was built and audited when it was first published.

Rollback never needs to read the published file: when it is damaged (random bytes, truncated),
any kept file holds "another version", and publish moves the damaged file aside rather than
keeping it. Kept files that are not readable warehouses (filed by older code) are skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.core.lock import refresh_lock
from orchestration.core.outcome import conclude
from orchestration.core.publish import history, publish, published_meta, read_meta, seal, warehouse_problem
from orchestration.core.settings import Settings
from orchestration.instance import get_instance, report_rollback
from orchestration.refresh import RefreshError, new_record, recover


def rollback(settings: Settings, to: str | None = None, wait: float = 0.0) -> dict:
    """Re-publish a kept file: by default the newest one holding another page version than the
    published file (the previous version). The file it replaces is kept in turn, so a second
    rollback undoes the first."""
    instance = get_instance(settings)
    with refresh_lock(settings.lock_path, wait=wait):
        recover(settings, instance)
        kept = history(settings)
        before = published_meta(settings.warehouse) or {}
        if to:
            source = Path(to).resolve()
            if source not in [k.resolve() for k in kept]:
                raise RefreshError("failed: not a kept file", f"{to} is not under history/")
            problem = warehouse_problem(source, thorough=True)
            if problem:
                cause = f"{to} is not a readable warehouse ({problem})"
                raise RefreshError(f"failed: {cause}", cause)
        else:
            source = previous_version(kept, before.get("content_sha256"))
        build = settings.build_path
        build.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, build)
        seal(build)
        publish(settings, build, keep=settings.keep + 1)  # the source entry goes next
        source.unlink()
        meta = read_meta(settings.warehouse) or {}
        record = new_record(str(source), source="rollback")
        record.update(body_sha256=meta.get("body_sha256"), content_sha256=meta.get("content_sha256"),
                      etag=meta.get("etag"), last_modified=meta.get("last_modified"))
        message = (f"rollback from {before.get('content_sha256', '?')[:12]} to "
                   f"{meta.get('content_sha256', '?')[:12]} ({source.name})")
        conclude(settings, record, "published", message)
        report_rollback(instance, {"rollback": message, "page_version": meta.get("content_sha256"),
                                   "fetch_id": record["fetch_id"]})
    from orchestration.core.export import after_publish

    after_publish(settings.warehouse, meta.get("content_sha256"))
    return {"from": before.get("content_sha256"), "to": meta.get("content_sha256"),
            "file": source.name}


def previous_version(kept: list[Path], current: str | None) -> Path:
    """The newest kept file that is a readable warehouse holding another page version than
    `current` (None: the published file is missing or unreadable, so any version will do)."""
    for path in reversed(kept):
        if warehouse_problem(path, thorough=True):
            continue  # a damaged file filed by older code: never re-published
        if read_meta(path).get("content_sha256") != current:
            return path
    raise RefreshError("failed: nothing to roll back to",
                       "no readable kept file under history/ holds another page version")
