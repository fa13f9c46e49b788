"""Real runs in-process on the test's own instance (issues 17 and 18): the page sensor decides as
`kfor refresh` does and requests a run that publishes; a run never decides (a stale decision ends
unchanged with no build, a Materialize from the UI or a partial selection is refused); every run
carries its warehouse and its starter as launch tags."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

import dagster as dg
import pytest
from support import pages
from support.fetch_log import fetches, lines
from support.warehouse import file_sha256, query

from orchestration.core.outcome import intend
from orchestration.core.settings import get as get_settings
from orchestration.drivers.launch import get_instance


@contextmanager
def lock_held_elsewhere(path):
    """The warehouse's lock held by another process (a refresh running beside the daemon)."""
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys; from orchestration.core.lock import refresh_lock\n"
                               f"with refresh_lock(__import__('pathlib').Path({str(path)!r})):\n"
                               "    print('held', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


def execute(request_or_config: dict, tags: dict | None = None, selection=None):
    """What the daemon does with a run request (or the UI with a launch): the job, in process."""
    settings = get_settings()
    job = definitions().resolve_job_def("refresh")
    return job.execute_in_process(run_config=request_or_config, instance=get_instance(settings),
                                  tags=tags, raise_on_error=False, asset_selection=selection)


@pytest.mark.slow  # make dev's test runs the sensor's run through the daemon
def test_the_sensor_decides_and_its_run_publishes(page_server, monkeypatch, warehouse_path,
                                                  raw_dir):
    from orchestration.sensors import evaluate

    url = page_server.route("/p.htm", body=pages.v1(), headers={"Content-Type": "text/html"})
    monkeypatch.setenv("KFOR_SOURCE_URL", url)
    get_settings.cache_clear()
    settings = get_settings()
    result = evaluate(settings)
    (request,) = result.run_requests
    intent = fetches(raw_dir)[-1]
    assert intent["outcome"] == "building" and intent["compared_with"] is None
    assert request.run_key == f"{intent['content_sha256']}:none"
    assert request.tags == {"kfor/warehouse": str(warehouse_path), "kfor/started_by": "sensor"}
    assert not warehouse_path.exists()  # the sensor decides; only the run builds

    run = execute(request.run_config, request.tags)
    assert run.success
    assert [r["outcome"] for r in fetches(raw_dir)] == ["published"]
    assert query(warehouse_path, "SELECT count(*) FROM marts.fct_command_tenure") == [(28,)]
    stored = get_instance(settings).get_run_by_id(run.run_id)
    assert stored.tags["kfor/started_by"] == "sensor"
    assert stored.tags["kfor/warehouse"] == str(warehouse_path)
    observed = [e for e in run.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    assert [e.asset_key.to_user_string() for e in observed] == ["page"]
    materialized = {e.asset_key.to_user_string() for e in run.get_asset_materialization_events()}
    assert {"raw/commander", "marts/fct_command_tenure", "warehouse", "exports"} <= materialized
    assert all(c.passed for c in run.get_asset_check_evaluations())
    assert len(run.get_asset_check_evaluations()) > 150  # one per dbt data test

    again = evaluate(settings)  # unchanged: a skip, with the check as an observation
    assert again.run_requests == [] and again.skip_reason.skip_message.startswith("unchanged: ")
    assert [e.asset_key.to_user_string() for e in again.asset_events] == ["page"]
    with lock_held_elsewhere(settings.files.lock):  # a refresh runs: the sensor skips at once
        busy = evaluate(settings)
    assert busy.skip_reason.skip_message.startswith("a refresh is running")
    assert [r["outcome"] for r in fetches(raw_dir)] == ["published", "unchanged"]


def test_a_run_never_decides(published_v1, raw_dir):
    settings = get_settings()
    before = file_sha256(published_v1)
    # a Materialize from the UI: no decided fetch
    ui = execute({})
    assert not ui.success
    (failure,) = ui.get_step_failure_events()
    assert "refused: a refresh builds a page checked before the run" in \
        failure.event_specific_data.error.message
    # a partial selection: refused before anything is written
    partial = execute({}, selection=[dg.AssetKey(["marts", "dim_date"])])
    assert not partial.success
    assert "selects only part of it" in partial.get_step_failure_events()[0] \
        .event_specific_data.error.message
    # a decision gone stale: the published version moved since the page was checked
    stale = intend(settings, {**fetches(raw_dir)[0], "fetch_id": "stale0000",
                              "compared_with": "an-older-version"})
    run = execute({"resources": {"refresh_run": {"config": {"fetch_id": stale["fetch_id"]}}}})
    assert run.success
    assert fetches(raw_dir)[-1]["outcome"] == "unchanged"
    assert "the published version changed" in fetches(raw_dir)[-1]["message"]
    assert not any(e.step_key == "dbt_models" for e in run.all_events
                   if e.event_type_value == "STEP_START")
    assert file_sha256(published_v1) == before
    assert len(lines(raw_dir)) == 4  # the first publish and this one: intent + final each
