"""The persistent Dagster instance records every refresh, however started: `kfor refresh` run as
cron runs it shows in the instance `make dev` serves (read here through the instance API, as the
UI does) with its run, check results and materializations; an unchanged page is an observation;
a rejected page is a failed run naming the check. Also pins the two Dagster calls the project
makes that Dagster does not mark public (orchestration/instance.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from reliability.bad_pages import zero_troops
from support import pages

HTML = {"Content-Type": "text/html; charset=utf-8"}


def cron_refresh(url: str) -> subprocess.CompletedProcess:
    """As a crontab line runs it: a fresh process, only the environment, no terminal."""
    return subprocess.run([str(Path(sys.executable).with_name("kfor")), "refresh", "--source",
                           url], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, env=os.environ.copy())


@pytest.mark.slow  # in CI's slow run: keeps `make test` under ten minutes
def test_cron_refreshes_are_in_the_instance_the_ui_reads(page_server, dagster_home):
    url = page_server.route("/p.htm", body=pages.v1(), headers=HTML)
    assert cron_refresh(url).returncode == 0          # published
    assert cron_refresh(url).returncode == 0          # unchanged
    body, _ = zero_troops()
    page_server.route("/p.htm", body=body, headers=HTML)
    assert cron_refresh(url).returncode == 1          # rejected by a dbt test

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    runs = [r.dagster_run for r in instance.get_run_records(
        filters=dg.RunsFilter(job_name="refresh"))]
    assert [r.status for r in runs] == [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
    rejected, published = runs
    assert rejected.tags["kfor/outcome"] == "rejected: positive_fct_troop_level_troops"
    failure = instance.get_records_for_run(rejected.run_id,
                                           of_type=dg.DagsterEventType.STEP_FAILURE).records
    data = failure[0].event_log_entry.dagster_event.step_failure_data
    assert data.user_failure_data.description.startswith(
        "rejected: positive_fct_troop_level_troops")

    mats = instance.get_records_for_run(published.run_id,
                                        of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    keys = {r.event_log_entry.dagster_event.asset_key.to_user_string() for r in mats}
    assert {"raw/commander", "marts/fct_command_tenure", "warehouse"} <= keys
    checks = instance.get_records_for_run(published.run_id,
                                          of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    from orchestration.definitions import defs

    assert len(checks) == len(defs.resolve_asset_graph().asset_check_keys)
    assert all(c.event_log_entry.dagster_event.event_specific_data.passed for c in checks)

    # every check of the page is an observation: changed, unchanged, changed (newest first)
    observed = instance.fetch_observations(dg.AssetKey("page"), limit=10).records
    assert [r.asset_observation.metadata["state"].value for r in observed] == [
        "changed", "unchanged", "changed"]
    assert observed[0].run_id == "" and observed[2].run_id == ""  # made by the CLI before its run


def test_the_dagster_calls_dagster_does_not_mark_public_still_work(dagster_home):
    """add_run_tags and report_run_failed (orchestration/instance.py): an upgrade that changes
    them fails here, not in a refresh."""
    from orchestration.core import settings
    from orchestration.instance import get_instance, mark_failed, tag_run

    instance = get_instance(settings.get())

    @dg.op
    def noop():
        return None

    @dg.job
    def probe():
        noop()

    run = instance.create_run_for_job(probe)
    tag_run(instance, run.run_id, {"kfor/pid": "1"})
    assert instance.get_run_by_id(run.run_id).tags["kfor/pid"] == "1"
    mark_failed(instance, run, "probe")
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
