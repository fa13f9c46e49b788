"""The daily schedule. Its tick runs the same light check as `kfor refresh`: an unchanged page is
re-published (bookkeeping only) and reported as a page materialization without a run; a changed
page launches the refresh job with the fetch record, so the job does not fetch again."""


import json

import dagster as dg

from . import paths
from .alerts import send_alert
from .assets.page import page_materialization
from .jobs import refresh_job
from .publish import RefreshBusy, refresh_lock
from .refresh import RefreshError, check_page, publish_unchanged, recover
from .resources import PageSource


@dg.schedule(job=refresh_job, cron_schedule=paths.cron_schedule(), execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Check the page (KFOR_CRON, default daily 06:00 UTC); build and publish "
                         "only when it changed.")
def daily_refresh(context: dg.ScheduleEvaluationContext, page_source: PageSource):
    try:
        with refresh_lock():
            recover()
            check = check_page(page_source.source_url(), policy=page_source.policy(),
                               fetcher=page_source.fetch)
            for warning in check.warnings:
                context.log.warning(warning)
            if not check.changed:
                publish_unchanged(check)
                context.instance.report_runless_asset_event(page_materialization(check))
                return dg.SkipReason(f"page unchanged (version {check.record['content_sha256'][:12]})")
    except RefreshBusy as e:
        return dg.SkipReason(str(e))
    except RefreshError as e:  # logged by the check; a tick is not a run, so no sensor sees it
        send_alert(e.alert())
        raise
    return dg.RunRequest(
        run_key=check.record["fetch_id"],
        run_config={"ops": {"page": {"config": {"fetch_record": json.dumps(check.record)}}}},
        tags={"kfor/page_version": check.record["content_sha256"]})
