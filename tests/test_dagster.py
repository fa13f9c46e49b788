"""The Dagster code location, materialized for real in-process on a temporary warehouse and a
persistent instance (DAGSTER_HOME of the test), as the schedule and the UI start it."""

from __future__ import annotations

import dagster as dg
import pytest
from orchestration.instance import get_instance
from support.fetch_log import fetches
from support.warehouse import query

from orchestration import dbt_build
from orchestration.core import settings
from orchestration.resources import PageSource, RefreshRun, SnapshotPageSource


def test_definitions_load_with_the_expected_graph():
    from orchestration.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"page", "raw/commander", "raw/fetch_log", "staging/stg_raw__commanders",
            "marts/fct_command_tenure", "marts/dim_nation", "warehouse"} <= keys
    graph = defs.resolve_asset_graph()
    groups = {graph.get(dg.AssetKey.from_user_string(k)).group_name for k in keys}
    assert {"page", "raw", "staging", "marts", "reference", "publish"} <= groups
    assert defs.resolve_job_def("refresh").executor_def.name == "in_process"

    # every dbt test of the manifest guards exactly one asset, through that asset's check
    nodes = dbt_build.manifest_json()["nodes"].values()
    tests = sorted(n["name"] for n in nodes if n["resource_type"] == "test")
    checks = {k: graph.get_check_spec(k) for k in graph.asset_check_keys}
    named = sorted(name for spec in checks.values()
                   for name in spec.description.split(": ", 1)[1].split(", "))
    assert named == tests
    models = [n for n in nodes if n["resource_type"] in ("model", "seed", "snapshot")]
    assert len(checks) <= len(models) and len(checks) > 15


def materialize(**resources):
    from orchestration.definitions import defs

    instance = get_instance(settings.get())  # the test's DAGSTER_HOME
    return instance, defs.resolve_job_def("refresh").execute_in_process(
        instance=instance, raise_on_error=False,
        resources={"page_source": SnapshotPageSource(), "refresh_run": RefreshRun(), **resources})


def test_a_run_started_without_a_check_decides_builds_and_publishes(warehouse_path, raw_dir):
    """What the schedule and Materialize in the UI start: the run checks the page itself."""
    instance, result = materialize()
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw/commander", "marts/fct_command_tenure", "warehouse"} <= materialized
    checks = result.get_asset_check_evaluations()
    from orchestration.definitions import defs

    assert len(checks) == len(defs.resolve_asset_graph().asset_check_keys)
    assert all(c.passed for c in checks)
    metadata = {e.asset_key.to_user_string(): e.materialization.metadata
                for e in result.get_asset_materialization_events()}
    assert metadata["marts/fct_command_tenure"]["row_count"].value == 28
    assert metadata["marts/fct_command_tenure"]["page_version"].value == \
        query(warehouse_path, "SELECT content_sha256 FROM marts.meta")[0][0]
    assert "preview" in metadata["raw/commander"]
    log = fetches(raw_dir)
    assert [r["outcome"] for r in log] == ["published"]
    run = instance.get_run_by_id(result.run_id)
    assert run.tags["kfor/outcome"] == "published"
    observed = instance.fetch_observations(dg.AssetKey("page"), limit=5).records
    assert [r.asset_observation.metadata["state"].value for r in observed] == ["changed"]
    assert observed[0].run_id == result.run_id

    # again on the same page: an observation, no build, the run succeeds and says so
    before = warehouse_path.read_bytes()
    _, again = materialize()
    assert again.success
    assert again.get_asset_materialization_events() == []
    assert instance.get_run_by_id(again.run_id).tags["kfor/outcome"] == "unchanged"
    assert warehouse_path.read_bytes() == before
    log = fetches(raw_dir)
    assert [r["outcome"] for r in log] == ["published", "unchanged"]


def test_a_partial_materialize_is_refused_with_a_clear_message(warehouse_path, raw_dir):
    from orchestration.definitions import defs

    instance = get_instance(settings.get())
    job = defs.resolve_job_def("refresh")
    # part of the dbt models: Dagster itself refuses (the dbt step builds all of them or none)
    with pytest.raises(dg.DagsterInvalidSubsetError, match="does not support subsetting"):
        job.get_subset(asset_selection={dg.AssetKey(["marts", "dim_date"])})
    # the publish step alone (or raw alone): the run starts and its first step refuses
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey("warehouse")])
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "refused: a refresh builds and publishes the whole warehouse" in message
    assert not warehouse_path.exists()
    assert not (raw_dir / "fetch_log.jsonl").exists()  # nothing was fetched


def test_page_source_resources_share_one_interface(snapshot_bytes):
    live, fixture = PageSource(), SnapshotPageSource()
    policy = settings.get().fetch_policy()
    assert fixture.fetch("file:///nowhere.html", None, policy).body == snapshot_bytes
    assert live.fetch(f"file://{__import__('orchestration.core.layout').core.layout.bundled_snapshot()}", None,
                      policy).body == snapshot_bytes
