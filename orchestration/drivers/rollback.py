"""`kfor rollback`: publish a kept version of this warehouse again (a file of its
`<name>.history/`, or a set of kept_<stamp>_* schemas on Postgres), by a run of the `rollback`
job: the same publish as every refresh (an atomic rename, or one swap transaction), the replaced
version kept in turn (so a second rollback undoes the first), the exports made again. The rollback
is a record in the fetch log (source `rollback`, outcome `published`), so history and a later
replay agree. No dbt build runs: the kept version was built and audited when first published.

It completes and is logged, or it is refused before anything changes: no kept version, a `--to`
that is not one of this warehouse's kept versions, or one that is not a readable warehouse.
Rollback never needs to read the published file: when it is damaged any kept version holds
"another version", and the publish moves the damaged file aside."""

from __future__ import annotations

from orchestration.core.decide import RefreshError, new_record
from orchestration.core.engine import Engine
from orchestration.core.outcome import intend
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings
from orchestration.drivers.launch import failure_of, launch
from orchestration.drivers.refresh import ended


class RollbackRefused(RuntimeError):
    """Nothing changed: there is nothing (readable) to roll back to."""


def rollback(settings: Settings, to: str | None = None, wait: float = 0.0, say=print,
             verbose: bool = False) -> dict:
    """Publish a kept version again: `to`, or the newest one holding another page version than
    the published one (the previous version)."""
    engine = settings.engine
    with warehouse_session(settings, wait=wait, say=say):
        before = engine.published_meta() or {}
        source = chosen(engine, to) if to else previous_version(engine, before.get("content_sha256"))
        meta = engine.kept_meta(source) or {}
        label = source.rsplit("/", 1)[-1]
        record = new_record(engine.kept_uri(source), source="rollback")
        record.update(body_sha256=meta.get("body_sha256"), content_sha256=meta.get("content_sha256"),
                      etag=meta.get("etag"), last_modified=meta.get("last_modified"),
                      compared_with=before.get("content_sha256"),
                      message=f"rollback from {str(before.get('content_sha256'))[:12]} to "
                              f"{str(meta.get('content_sha256'))[:12]} ({label})")
        intend(settings, record)
        result = launch(settings, "rollback", "rollback", verbose=verbose, mode="rollback",
                        fetch_id=record["fetch_id"], kept=source)
        final = ended(settings, record["fetch_id"])
        if final.get("outcome") != "published":
            outcome, cause = (final["outcome"], final.get("message") or "") \
                if final.get("outcome") not in (None, "building") else failure_of(result)
            raise RefreshError(outcome, cause, final)
    return {"from": before.get("content_sha256"), "to": meta.get("content_sha256"),
            "file": label, "kept": settings.keep > 0}


def chosen(engine: Engine, to: str) -> str:
    """`--to`: one of this warehouse's kept versions (by path or name, or stamp), readable."""
    source = engine.find_kept(to)
    if source is None:
        raise RollbackRefused(f"{to} is not a kept version of {engine.name} (see "
                              "`kfor rollback --list`); nothing changed")
    problem = engine.kept_problem(source)
    if problem:
        raise RollbackRefused(f"{source} is not a readable warehouse ({problem}); nothing changed")
    return source


def previous_version(engine: Engine, current: str | None) -> str:
    """The newest kept version that is a readable warehouse holding another page version than
    `current` (None: the published file is missing or unreadable, so any version will do)."""
    for kept in reversed(engine.kept()):
        if engine.kept_problem(kept):
            continue  # damaged: never published again
        if (engine.kept_meta(kept) or {}).get("content_sha256") != current:
            return kept
    raise RollbackRefused(f"nothing to roll back to: no readable kept version of "
                          f"{engine.name} holds another page version; nothing changed")
