"""The Dagster code location as a Dagster engineer finds it (issue 18): dagster-dbt's own assets
and asset checks, the jobs and the page sensor, and runs tagged with their warehouse. Loaded
in-process; no run here (test_runs.py runs them)."""

from __future__ import annotations

import json

import dagster as dg

from orchestration.core import layout
from orchestration.core.settings import get as get_settings


def definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


def test_the_graph_runs_from_the_page_to_the_exports():
    d = definitions()
    graph = d.resolve_asset_graph()
    keys = {k.to_user_string() for k in d.resolve_all_asset_keys()}
    assert {"page", "raw/commander", "raw/fetch_log", "raw/build_info",
            "staging/stg_raw__commanders", "staging/nato_nations", "marts/fct_command_tenure",
            "snapshots/snap_command_tenure", "warehouse", "exports"} <= keys
    groups = {graph.get(dg.AssetKey.from_user_string(k)).group_name for k in keys}
    assert {"page", "raw", "staging", "marts", "snapshots", "reference", "publish"} <= groups
    # dbt sources are the raw assets: one graph from the page to the marts
    assert dg.AssetKey(["raw", "commander"]) in graph.get(
        dg.AssetKey(["staging", "stg_raw__commanders"])).parent_keys
    assert dg.AssetKey("warehouse") in graph.get(dg.AssetKey("exports")).parent_keys


def test_every_dbt_data_test_is_an_asset_check():
    """As dagster-dbt makes them: generic tests on their model, singular tests that span several
    models attached by meta.dagster.ref."""
    manifest = json.loads((layout.DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    tests = sorted(n["name"] for n in manifest["nodes"].values()
                   if n["resource_type"] == "test")
    checks = sorted(k.name for k in definitions().resolve_asset_graph().asset_check_keys)
    assert checks == tests


def test_the_jobs_carry_the_warehouse_and_the_sensor_requests_refresh():
    d = definitions()
    warehouse = str(get_settings().warehouse)
    for name in ("refresh", "rollback"):
        job = d.resolve_job_def(name)
        assert job.tags == {"kfor/warehouse": warehouse, "kfor/started_by": "ui"}
        assert job.executor_def.name == "in_process"
    sensor = d.resolve_sensor_def("page_sensor")
    assert sensor.job_name == "refresh"
    assert sensor.minimum_interval_seconds == 24 * 3600
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_rollback_run_publishes_and_exports_only():
    keys = definitions().resolve_job_def("rollback").asset_layer.selected_asset_keys
    assert {k.to_user_string() for k in keys} == {"warehouse", "exports"}
