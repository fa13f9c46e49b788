"""The Dagster code location: `orchestration.definitions:defs`.

Reads dbt_project/target/manifest.json at import (`make setup` parses the project once; it never
runs dbt parse at import)."""

import dagster as dg

from .assets.dbt import dbt_models
from .assets.page import page
from .assets.raw import raw
from .assets.warehouse import warehouse
from .jobs import refresh_job
from .resources import PageSource, RefreshRun
from .sensors import daily_refresh

defs = dg.Definitions(
    assets=[page, raw, dbt_models, warehouse],
    jobs=[refresh_job],
    schedules=[daily_refresh],
    resources={"page_source": PageSource(), "refresh_run": RefreshRun()},
)
