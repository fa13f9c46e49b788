"""Alerting: a failed or rejected refresh run is reported to KFOR_WEBHOOK_URL with the outcome the
fetch log holds for it (the job's failure hook wrote it)."""

import json

import dagster as dg

from .alerts import send_alert
from .archive import Archive
from .assets.page import FETCH_TAG


@dg.run_failure_sensor(name="report_failed_run", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Posts failed refresh runs to KFOR_WEBHOOK_URL (if set).")
def report_failed_run(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    payload = {"event": "refresh_failed", "run_id": run.run_id, "job": run.job_name,
               "message": context.failure_event.message or "run failed"}
    config = (run.run_config or {}).get("ops", {}).get("page", {}).get("config", {})
    fetch_id = run.tags.get(FETCH_TAG) or (
        json.loads(config["fetch_record"])["fetch_id"] if config.get("fetch_record") else None)
    logged = [r for r in Archive().records() if fetch_id and r.get("fetch_id") == fetch_id]
    if logged:
        outcome = logged[-1].get("outcome") or ""
        payload.update(outcome=outcome, fetch_id=fetch_id, url=logged[-1].get("url"),
                       event="refresh_rejected" if outcome.startswith("rejected")
                       else "refresh_failed")
    send_alert(payload)
