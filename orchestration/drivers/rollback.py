"""`kfor rollback`: publish a kept version of this warehouse again (its `<name>.history/`), by a
run of the `rollback` job: the same atomic rename as every publish, the replaced file kept in turn
(so a second rollback undoes the first), the exports made again. The rollback is a record in the
fetch log (source `rollback`, outcome `published`), so history and a later replay agree. No dbt
build runs: the kept file was built and audited when it was first published.

It completes and is logged, or it is refused before anything changes: no kept file, a `--to` that
is not one of this warehouse's kept files, or one that is not a readable warehouse. Rollback never
needs to read the published file: when it is damaged any kept version holds "another version", and
the publish moves the damaged file aside."""

from __future__ import annotations

from pathlib import Path

from orchestration.core.decide import RefreshError, new_record
from orchestration.core.files import WarehouseFiles
from orchestration.core.outcome import intend
from orchestration.core.publish import published_meta, read_meta, warehouse_problem
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings
from orchestration.drivers.launch import failure_of, launch
from orchestration.drivers.refresh import ended


class RollbackRefused(RuntimeError):
    """Nothing changed: there is nothing (readable) to roll back to."""


def rollback(settings: Settings, to: str | None = None, wait: float = 0.0, say=print,
             verbose: bool = False) -> dict:
    """Publish a kept file again: `to`, or the newest one holding another page version than the
    published file (the previous version)."""
    files = settings.files
    with warehouse_session(settings, wait=wait, say=say):
        before = published_meta(files.published) or {}
        source = chosen(files, to) if to else previous_version(files, before.get("content_sha256"))
        meta = read_meta(source) or {}
        record = new_record(source.as_uri(), source="rollback")
        record.update(body_sha256=meta.get("body_sha256"), content_sha256=meta.get("content_sha256"),
                      etag=meta.get("etag"), last_modified=meta.get("last_modified"),
                      compared_with=before.get("content_sha256"),
                      message=f"rollback from {str(before.get('content_sha256'))[:12]} to "
                              f"{str(meta.get('content_sha256'))[:12]} ({source.name})")
        intend(settings, record)
        result = launch(settings, "rollback", "rollback", verbose=verbose, mode="rollback",
                        fetch_id=record["fetch_id"], kept=str(source))
        final = ended(settings, record["fetch_id"])
        if final.get("outcome") != "published":
            outcome, cause = (final["outcome"], final.get("message") or "") \
                if final.get("outcome") not in (None, "building") else failure_of(result)
            raise RefreshError(outcome, cause, final)
    return {"from": before.get("content_sha256"), "to": meta.get("content_sha256"),
            "file": source.name, "kept": settings.keep > 0}


def chosen(files: WarehouseFiles, to: str) -> Path:
    """`--to`: one of this warehouse's kept files (by path or by name), readable."""
    candidate = Path(to)
    kept = {p.name: p for p in files.kept()}
    source = kept.get(candidate.name) if candidate.resolve().parent == files.history.resolve() \
        or not candidate.is_absolute() and len(candidate.parts) == 1 else None
    if source is None:
        raise RollbackRefused(f"{to} is not a kept version of {files.published} (see "
                              "`kfor rollback --list`); nothing changed")
    problem = warehouse_problem(source, thorough=True)
    if problem:
        raise RollbackRefused(f"{source} is not a readable warehouse ({problem}); nothing changed")
    return source


def previous_version(files: WarehouseFiles, current: str | None) -> Path:
    """The newest kept file that is a readable warehouse holding another page version than
    `current` (None: the published file is missing or unreadable, so any version will do)."""
    for path in reversed(files.kept()):
        if warehouse_problem(path, thorough=True):
            continue  # damaged: never published again
        if (read_meta(path) or {}).get("content_sha256") != current:
            return path
    raise RollbackRefused(f"nothing to roll back to: no readable kept version of "
                          f"{files.published} holds another page version; nothing changed")
