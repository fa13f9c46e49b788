"""The page asset: the light check (fetch, archive, compare). It materializes on every successful
fetch, changed or not, so its freshness policy tracks the source; the raw step builds only when the
page changed."""


import json
from datetime import timedelta

import dagster as dg
import pydantic

from .. import paths
from ..refresh import PageCheck, check_page, publish_unchanged, recover
from ..resources import PageSource, RefreshLock

PAGE_KEY = dg.AssetKey("page")


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
        check = check_page(page_source.source_url(), policy=page_source.policy(),
                           fetcher=page_source.fetch)
        for warning in check.warnings:
            context.log.warning(warning)
        record, changed = check.record, check.changed
        if not changed:
            record = publish_unchanged(check)
    return dg.Output({"record": record, "changed": changed}, metadata={
        "url": record["url"], "source": record.get("source"),
        "changed": changed, "page_version": record.get("content_sha256"),
        "body_sha256": record.get("body_sha256"), "bytes": record.get("bytes")})


def page_materialization(check: PageCheck) -> dg.AssetMaterialization:
    """What the schedule reports when its check finds the page unchanged (no run is launched)."""
    return dg.AssetMaterialization(asset_key=PAGE_KEY, metadata={
        "url": check.record["url"], "source": check.record.get("source"), "changed": False,
        "page_version": check.record.get("content_sha256")})
