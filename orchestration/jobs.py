"""The refresh job: raw -> dbt -> warehouse, in one process (DuckDB allows one writer; the
in-process executor runs the steps one after another). Its failure hook tells the run's resource
why it failed; the resource concludes the run."""

import dagster as dg

from .resources import RefreshRun


@dg.failure_hook(name="report_failure", required_resource_keys={"refresh_run"})
def report_failure(context: dg.HookContext) -> None:
    refresh_run: RefreshRun = context.resources.refresh_run
    refresh_run.state.failed(context.op_exception)


refresh_job = dg.define_asset_job(
    "refresh", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    hooks={report_failure},
    description="Check the page; build a changed page into a scratch copy of the warehouse, check "
                "it, publish it. Started by `kfor refresh`, the schedule or Materialize.")
