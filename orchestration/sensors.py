"""Alerting: a failed or rejected refresh run is reported to KFOR_WEBHOOK_URL."""

import dagster as dg

from .alerts import send_alert


@dg.run_failure_sensor(name="report_failed_run", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Posts failed refresh runs to KFOR_WEBHOOK_URL (if set).")
def report_failed_run(context: dg.RunFailureSensorContext) -> None:
    message = context.failure_event.message or "run failed"
    send_alert({"event": "refresh_failed", "run_id": context.dagster_run.run_id,
                "job": context.dagster_run.job_name, "message": message})
