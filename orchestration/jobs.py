"""The jobs, and the tags every run carries. A run is launched with its warehouse and how it
started as tags (the job's own tags, overridden by the launcher's: `kfor refresh` says cli, the
page sensor says sensor, a Materialize in the UI keeps the job's `ui`); none is added later.

    refresh   raw -> dbt -> warehouse -> exports (refresh, replay and import runs)
    rollback  warehouse -> exports: a kept version published by the same rename

Both run in one process (DuckDB allows one writer; the in-process executor runs the steps one
after another). The failure hook tells the run's resource why it failed; the resource concludes
the run."""

import dagster as dg

from orchestration.core.settings import Settings
from orchestration.resources import RefreshRun

WAREHOUSE_TAG = "kfor/warehouse"
STARTED_BY_TAG = "kfor/started_by"
STARTERS = ("cli", "sensor", "ui", "import", "replay", "rollback")


def run_tags(settings: Settings, started_by: str) -> dict[str, str]:
    assert started_by in STARTERS, started_by
    return {WAREHOUSE_TAG: settings.warehouse_name, STARTED_BY_TAG: started_by}


@dg.failure_hook(name="report_failure", required_resource_keys={"refresh_run"})
def report_failure(context: dg.HookContext) -> None:
    refresh_run: RefreshRun = context.resources.refresh_run
    refresh_run.state.failed(context.op_exception, step=context.step_key)


def build_jobs(settings: Settings) -> list:
    tags = run_tags(settings, "ui")
    refresh = dg.define_asset_job(
        "refresh", selection=dg.AssetSelection.all() - dg.AssetSelection.assets("page"),
        executor_def=dg.in_process_executor, hooks={report_failure}, tags=tags,
        description="Build a changed page (checked by `kfor refresh` or the page sensor) into a "
                    "scratch copy of the warehouse, check it, publish it, export it.")
    rollback = dg.define_asset_job(
        "rollback", selection=dg.AssetSelection.assets("warehouse", "exports"),
        executor_def=dg.in_process_executor, hooks={report_failure}, tags=tags,
        description="Publish a kept version again (`kfor rollback`).")
    return [refresh, rollback]
