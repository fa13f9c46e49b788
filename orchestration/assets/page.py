"""The page: NATO's topic page as an external asset. Dagster never materializes it; every check
of it is an observation (metadata: state, version, the fetch record), written where the check
ends: inside the run for a changed page (the raw step), by `kfor refresh` or the sensor's result
otherwise. Its freshness policy shows a page not checked for KFOR_FRESHNESS_HOURS in the UI."""

from datetime import timedelta

import dagster as dg

PAGE = dg.AssetKey("page")


def page_spec(freshness_hours: float) -> dg.AssetSpec:
    return dg.AssetSpec(
        PAGE, group_name="page",
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=freshness_hours)),
        description="NATO's 'NATO's role in Kosovo' page: each check (conditional GET, archived "
                    "under raw/ by SHA-256, compared with the published version) is an "
                    "observation.")


def page_observation(record: dict) -> dg.AssetObservation:
    """A check of the page, as the fetch log records it."""
    outcome = record.get("outcome") or ""
    state = "changed" if outcome == "building" else outcome.split(":")[0]
    return dg.AssetObservation(asset_key=PAGE, metadata={
        "state": state, "outcome": outcome, "url": record.get("url"),
        "source": record.get("source"), "page_version": record.get("content_sha256"),
        "body_sha256": record.get("body_sha256"), "fetch_id": record["fetch_id"],
        "fetch_record": dg.MetadataValue.json(record)})
