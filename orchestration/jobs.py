"""The build-and-publish job: page -> raw -> dbt -> warehouse, in one process (DuckDB allows one
writer; the in-process executor runs the steps one after another)."""

import dagster as dg

from .assets.warehouse import log_refresh_failure

refresh_job = dg.define_asset_job(
    "refresh", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    hooks={log_refresh_failure},
    description="Build the changed page into a scratch copy of the warehouse, check it, publish it.")
