"""The page sensor (on under `make dev`): every KFOR_CHECK_EVERY_HOURS the daemon evaluates it,
and it decides exactly as `kfor refresh` does, before any run:

    the warehouse's session without waiting (a refresh is running: skip, saying so), then
    core.decide.decide() with a fetch deadline inside Dagster's evaluation timeout;
    changed   a run request for the `refresh` job, its run key the new version key with the
              published one (`<new>:<published>`), so a revert or a retry is a new key;
    otherwise a skip reason, and the check as an observation of the `page` asset.

The run it requests re-checks under the lock that the published version is still the one
compared with (assets/raw.py)."""

from __future__ import annotations

import logging
from dataclasses import replace

import dagster as dg

from orchestration.assets.page import page_observation
from orchestration.core.decide import RefreshError, decide
from orchestration.core.lock import RefreshBusy
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings
from orchestration.jobs import run_tags
from orchestration.resources import run_config

log = logging.getLogger("kfor")
# The fetch's overall deadline in a sensor evaluation, inside Dagster's default 60 s timeout for
# one evaluation (the session and the compare take well under a second).
SENSOR_FETCH_DEADLINE = 40.0


def build_page_sensor(settings: Settings, job) -> dg.SensorDefinition:
    @dg.sensor(name="page_sensor", job=job, default_status=dg.DefaultSensorStatus.RUNNING,
               minimum_interval_seconds=round(settings.check_every_hours * 3600),
               description="Check the page; request a build only when it changed.")
    def page_sensor(context: dg.SensorEvaluationContext):
        return evaluate(settings)

    return page_sensor


def evaluate(settings: Settings) -> dg.SensorResult:
    """One evaluation: a run request for a changed page, else a skip reason with the check."""
    policy = replace(settings.fetch_policy(), deadline=SENSOR_FETCH_DEADLINE)
    try:
        with warehouse_session(settings, wait=0.0, say=log.warning):
            decision = decide(settings, policy=policy, handed_over=True)
    except RefreshBusy as e:
        return dg.SensorResult(skip_reason=f"a refresh is running ({e})")
    except RefreshError as e:
        events = [page_observation(e.record)] if e.record else []
        return dg.SensorResult(skip_reason=f"{e.outcome}: {e.cause}", asset_events=events)
    if not decision.changed:
        why = decision.record.get("message") or (
            f"page version {decision.record['content_sha256'][:12]} is already published")
        return dg.SensorResult(skip_reason=f"unchanged: {why}",
                               asset_events=[page_observation(decision.record)])
    return dg.SensorResult(run_requests=[dg.RunRequest(
        run_key=decision.run_key, tags=run_tags(settings, "sensor"),
        run_config=run_config(mode="refresh", fetch_id=decision.record["fetch_id"]))])
