"""The schedule: starts the refresh job (KFOR_CRON, default daily 06:00 UTC). The run checks the
page in its first step, exactly as a run started from the UI does."""

import dagster as dg

from orchestration.core.settings import get as get_settings
from orchestration.jobs import refresh_job

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh", job=refresh_job, cron_schedule=get_settings().cron,
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Check the page; build and publish only when it changed.")
