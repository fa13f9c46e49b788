"""`kfor status`: what is published (page version, when, row counts), where each file of this
warehouse is, how fresh the page is, the last refreshes' outcomes (from the fetch log), and any
run of this warehouse the Dagster instance still shows as started while its lock is free (dead:
the process died; `make dev`'s run monitoring marks such runs failed)."""

from __future__ import annotations

import json

from orchestration.core.archive import Archive
from orchestration.core.outcome import freshness, last_fresh_fetch
from orchestration.core.publish import UnreadableWarehouse, WarehouseLocked
from orchestration.core.redact import redact_db_url
from orchestration.core.settings import Settings
from orchestration.drivers.launch import InstanceUnavailable


def dead_runs(settings: Settings) -> list[dict]:
    """Runs of this warehouse shown as started while its lock is free (read for display only)."""
    try:
        if not (settings.dagster_home / "dagster.yaml").exists() or not settings.engine.is_free():
            return []
    except ConnectionError:  # the warehouse's server is down: said on the published line
        return []
    import dagster as dg

    from orchestration.drivers.launch import get_instance
    from orchestration.jobs import STARTED_BY_TAG, WAREHOUSE_TAG

    instance = get_instance(settings)
    records = instance.get_run_records(filters=dg.RunsFilter(
        tags={WAREHOUSE_TAG: settings.warehouse_name},
        statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    return [{"run_id": r.dagster_run.run_id, "job": r.dagster_run.job_name,
             "started_by": r.dagster_run.tags.get(STARTED_BY_TAG),
             "created_at": r.create_timestamp.isoformat()} for r in records]


def status(settings: Settings, n: int = 10, as_json: bool = False, out=print) -> bool:
    """Print the status; False when the published file exists but cannot be read (damaged, or
    held open for writing: its problem is shown first), a Postgres warehouse's server cannot be
    reached, or the Dagster instance cannot be opened (said on the runs line); the files and the
    log are shown either way."""
    engine = settings.engine
    meta = problem = None
    try:
        meta = engine.read_meta()
    except (UnreadableWarehouse, WarehouseLocked) as e:
        problem = f"UNREADABLE: {e}"
    except ConnectionError as e:  # a Postgres warehouse's server is down or refuses us
        problem = f"UNREACHABLE: {e}"
    archive = Archive(settings.raw_dir)
    archive.check_owner(settings.raw_owner)
    records = archive.fetches()
    counts = engine.mart_counts() if meta else {}
    try:
        dead, unreadable_runs = dead_runs(settings), None
    except InstanceUnavailable as e:  # its server down: the rest is still worth showing
        dead, unreadable_runs = [], str(e)
    age_h, stale = freshness(settings, records)  # of the source itself: fallbacks do not count
    last = last_fresh_fetch(records)
    if as_json:
        out(json.dumps({"warehouse": engine.name, "published": meta,
                        "problem": problem, "instance_problem": unreadable_runs,
                        "row_counts": counts,
                        "files": engine.layout(),
                        "hours_since_last_successful_fetch": age_h,
                        "last_successful_fetch_at": last and last["fetched_at"],
                        "stale": stale, "freshness_hours": settings.freshness_hours,
                        "dagster_home": str(settings.dagster_home), "dead_runs": dead,
                        "refreshes": records[-n:]}, indent=2, default=str))
        return problem is None and unreadable_runs is None
    if problem:
        out(f"published: {problem}")
    elif not meta:
        out(f"nothing published yet at {engine.name}; run `kfor refresh`")
    else:
        out(f"published: {engine.name}")
        out(f"  page version {meta['content_sha256'][:12]}  last updated "
            f"{meta['page_last_updated']}  published {meta['published_at']} UTC from "
            f"{meta['source']} ({meta['source_url']})")
        out("  rows: " + ", ".join(f"{t} {c}" for t, c in counts.items()))
    fetched = (f"last successful fetch of the source {age_h:.1f} h ago" if age_h is not None
               else "no successful fetch of the source yet")
    out(f"  freshness: {fetched} (archive fallbacks do not count); stale after "
        f"{settings.freshness_hours:g} h" + (" -> STALE" if stale else ""))
    out("  files:")
    for what, path in engine.layout().items():
        out(f"    {what + ':':15} {path}")
    out(f"    {'raw archive:':15} {settings.raw_dir}")
    where = (f"on Postgres at {redact_db_url(settings.dagster_pg_url)}" if settings.dagster_pg_url
             else f"in {settings.dagster_home}")
    out(f"  runs: Dagster instance {where} (`make dev` shows it)"
        + (f"; cannot read it: {unreadable_runs}" if unreadable_runs else ""))
    for run in dead:
        out(f"  DEAD RUN {run['run_id'][:8]} ({run['job']}, started by {run['started_by']}, "
            f"{run['created_at'][:19]}): still shown as started, but the lock is free; the "
            "process died (Dagster's run monitoring marks it failed under `make dev`)")
    out(f"last refreshes ({min(n, len(records))} of {len(records)}):")
    for r in records[-n:]:
        version = (r.get("content_sha256") or "")[:12] or "-"
        out(f"  {r['fetched_at'][:19].replace('T', ' ')}  {r.get('source') or '-':8}  "
            f"{version:12}  {r.get('outcome')}")
    return problem is None and unreadable_runs is None
