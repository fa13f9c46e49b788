"""The page asset: the light check (fetch, archive, compare). It materializes on every successful
fetch, changed or not, so its freshness policy tracks the source; the raw step builds only when the
page changed."""


import json
from datetime import timedelta

import dagster as dg
import pydantic

from .. import paths
from ..refresh import (
    PageCheck,
    RefreshError,
    check_page,
    publish_unchanged,
    recover,
    write_pending,
)
from ..resources import PageSource, RefreshLock

PAGE_KEY = dg.AssetKey("page")
FETCH_TAG = "kfor/fetch_id"


class PageConfig(dg.Config):
    fetch_record: str = pydantic.Field(default="", description=(
        "JSON fetch-log record of a check already made (by `kfor refresh` or the schedule). "
        "Empty: the asset fetches the page itself."))


def freshness_policy() -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=paths.freshness_hours()))


@dg.asset(key=PAGE_KEY, group_name="page", pool="kfor_warehouse",
          freshness_policy=freshness_policy(),
          description="NATO's 'NATO's role in Kosovo' page: fetched (conditional GET), archived "
                      "under raw/ by SHA-256, compared with the published version.")
def page(context: dg.AssetExecutionContext, config: PageConfig, page_source: PageSource,
         refresh_lock: RefreshLock) -> dg.Output[dict]:
    if config.fetch_record:
        record, changed = json.loads(config.fetch_record), True
    else:
        recover()
        try:
            check = check_page(page_source.source_url(), policy=page_source.policy(),
                               fetcher=page_source.fetch)
        except RefreshError as e:  # logged by the check; the tag lets the sensor report it
            if e.record:
                tag_run(context, e.record)
            raise
        for warning in check.warnings:
            context.log.warning(warning)
        record, changed = check.record, check.changed
        if not changed:
            record = publish_unchanged(check)
    tag_run(context, record)
    if changed:
        write_pending(record)
    return dg.Output({"record": record, "changed": changed}, metadata={
        "url": record["url"], "source": record.get("source"),
        "changed": changed, "page_version": record.get("content_sha256"),
        "body_sha256": record.get("body_sha256"), "bytes": record.get("bytes")})


def tag_run(context: dg.AssetExecutionContext, record: dict) -> None:
    """The run carries its fetch's id, so the failure sensor finds the logged outcome."""
    context.instance.add_run_tags(context.run.run_id, {FETCH_TAG: record["fetch_id"]})


def page_materialization(check: PageCheck) -> dg.AssetMaterialization:
    """What the schedule reports when its check finds the page unchanged (no run is launched)."""
    return dg.AssetMaterialization(asset_key=PAGE_KEY, metadata={
        "url": check.record["url"], "source": check.record.get("source"), "changed": False,
        "page_version": check.record.get("content_sha256")})
