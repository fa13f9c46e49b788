"""The page: NATO's topic page as an external asset. It is not materialized by Dagster: every
check of it (by `kfor refresh`, a scheduled run or a UI-started run) is recorded as an observation
(orchestration.instance.page_observation), so its freshness shows in the UI."""

from datetime import timedelta

import dagster as dg

from ..core.project import RAW_SCHEMA
from ..core.raw_tables import TABLES
from ..core.settings import get as get_settings
from ..instance import PAGE

RAW_KEYS = {table: dg.AssetKey([RAW_SCHEMA, table]) for table in TABLES}

page = dg.AssetSpec(
    PAGE, group_name="page",
    freshness_policy=dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=get_settings().freshness_hours)),
    description="NATO's 'NATO's role in Kosovo' page: each check (conditional GET, archived under "
                "raw/ by SHA-256, compared with the published version) is an observation.")
