"""The Dagster code location, materialized for real in-process on a temporary warehouse."""

from __future__ import annotations

import dagster as dg
from support.warehouse import query

from orchestration.resources import PageSource, RefreshLock, SnapshotPageSource


def test_definitions_load_with_the_expected_graph():
    from orchestration.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"page", "raw/commander", "raw/fetch_log", "staging/stg_raw__commanders",
            "marts/fct_command_tenure", "marts/dim_nation", "warehouse"} <= keys
    graph = defs.resolve_asset_graph()
    assert len(graph.asset_check_keys) > 100  # dbt tests as asset checks
    groups = {graph.get(dg.AssetKey.from_user_string(k)).group_name for k in keys}
    assert {"page", "raw", "staging", "marts", "reference", "publish"} <= groups
    assert defs.resolve_job_def("refresh").executor_def.name == "in_process"


def test_refresh_job_materializes_page_to_warehouse(warehouse_path):
    from orchestration.definitions import defs

    job = defs.resolve_job_def("refresh")
    result = job.execute_in_process(resources={"page_source": SnapshotPageSource(),
                                               "refresh_lock": RefreshLock()})
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"page", "raw/commander", "marts/fct_command_tenure", "warehouse"} <= materialized
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 100 and all(c.passed for c in checks)
    metadata = {e.asset_key.to_user_string(): e.materialization.metadata
                for e in result.get_asset_materialization_events()}
    assert metadata["marts/fct_command_tenure"]["row_count"].value == 28
    assert metadata["marts/fct_command_tenure"]["page_version"].value == \
        query(warehouse_path, "SELECT content_sha256 FROM marts.meta")[0][0]
    assert "preview" in metadata["raw/commander"]

    # again on the same page: the page asset materializes (freshness), nothing is rebuilt
    again = job.execute_in_process(resources={"page_source": SnapshotPageSource(),
                                              "refresh_lock": RefreshLock()})
    assert again.success
    assert {e.asset_key.to_user_string() for e in again.get_asset_materialization_events()} == {"page"}
    assert query(warehouse_path, "SELECT fetch_count FROM marts.fct_page_version") == [(2,)]


def test_page_source_resources_share_one_interface(snapshot_bytes):
    live, fixture = PageSource(url="file:///nowhere.html"), SnapshotPageSource()
    assert fixture.fetch(fixture.source_url(), None, fixture.policy()).body == snapshot_bytes
    assert live.source_url() == "file:///nowhere.html"
