"""The Dagster instance: the one record of every refresh, however it was started. It lives in
DAGSTER_HOME (default .dagster_home/ in the project, the instance `make dev` shows), so a cron
`kfor refresh` is in the UI beside the scheduled runs.

What a refresh leaves in it:
- every check of the page is an observation of the `page` asset (metadata: outcome, version,
  the fetch record), written as soon as the check is made;
- a changed page is a run of the `refresh` job (its materializations and asset checks); a rejected
  page is that run failed, naming the check;
- a rollback is a materialization of `warehouse` without a run.

Dagster calls here that its docs do not mark public (add_run_tags, report_run_failed) are the only
way to tag a run as it starts and to mark a dead run failed; tests/test_instance.py fails if an
upgrade changes them."""

from __future__ import annotations

import json
import os
import shutil
import time

import dagster as dg

from orchestration.core import project as paths

from .core.settings import Settings

PAGE = dg.AssetKey("page")
WAREHOUSE = dg.AssetKey("warehouse")
JOB = "refresh"
PID_TAG = "kfor/pid"
OUTCOME_TAG = "kfor/outcome"


def get_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance in settings.dagster_home (created with the project's dagster.yaml
    when missing). Dagster reads DAGSTER_HOME; run processes the daemon starts inherit it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(paths.DAGSTER_CONFIG, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        return dg.DagsterInstance.get()
    except Exception as e:  # SQLite says "disk I/O error" and no more: name the instance
        raise InstanceUnavailable(f"cannot open the Dagster instance in {home}: "
                                  f"{_first_line(e)}") from e


class InstanceUnavailable(RuntimeError):
    """The Dagster instance cannot be opened or written (a full disk, a damaged database)."""


def _first_line(e: BaseException) -> str:
    return (str(e) or type(e).__name__).strip().splitlines()[0]


def page_observation(record: dict, state: str) -> dg.AssetObservation:
    """A check of the page: state is changed | unchanged | failed | rejected."""
    return dg.AssetObservation(asset_key=PAGE, metadata={
        "state": state, "url": record.get("url"), "source": record.get("source"),
        "page_version": record.get("content_sha256"), "body_sha256": record.get("body_sha256"),
        "fetch_id": record["fetch_id"], "fetch_record": dg.MetadataValue.json(record)})


def observe(instance: dg.DagsterInstance, record: dict, state: str) -> None:
    instance.report_runless_asset_event(page_observation(record, state))


def report_rollback(instance: dg.DagsterInstance, metadata: dict) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=WAREHOUSE,
                                                                metadata=metadata))


def tag_run(instance: dg.DagsterInstance, run_id: str, tags: dict[str, str]) -> None:
    instance.add_run_tags(run_id, tags)


def unfinished_checks(instance: dg.DagsterInstance, logged: set[str], limit: int = 50) -> list[dict]:
    """Fetch records of recent "changed" checks that never got an outcome in the fetch log."""
    found = []
    for rec in instance.fetch_observations(PAGE, limit=limit).records:
        meta = rec.asset_observation.metadata if rec.asset_observation else {}
        state = meta.get("state")
        if state is None or state.value != "changed" or "fetch_record" not in meta:
            continue
        record = meta["fetch_record"].value
        if record["fetch_id"] not in logged and record not in found:
            found.append(record)
    return list(reversed(found))


def dead_runs(instance: dg.DagsterInstance, exclude: str | None = None) -> list[dg.DagsterRun]:
    """Refresh runs the instance still shows as running whose process is gone."""
    records = instance.get_run_records(filters=dg.RunsFilter(
        job_name=JOB, statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    now = time.time()
    return [r.dagster_run for r in records if r.dagster_run.run_id != exclude
            and not _alive(r.dagster_run.tags.get(PID_TAG),
                           starting_for=now - r.create_timestamp.timestamp())]


def mark_failed(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str) -> None:
    instance.report_run_failed(run, message)


def _alive(pid: str | None, starting_for: float) -> bool:
    if not pid:  # not yet at its resource set-up (imports take seconds), or died before it
        return starting_for < 600
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def fetch_record_json(record: dict) -> str:
    return json.dumps(record, sort_keys=True)
