"""The Dagster code location: `orchestration.definitions:defs`.

`defs` is loaded lazily (`@dg.definitions`): importing this module reads no file and runs no dbt.
Dagster (or a driver) calls it; it reads the settings, prepares the dbt project under
`dagster dev` (prepare_if_dev) and builds the assets from dbt's manifest."""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path

import dagster as dg

from orchestration.core.settings import Settings
from orchestration.core.settings import get as get_settings


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(get_settings())


@functools.cache
def build_definitions(settings: Settings) -> dg.Definitions:
    from dagster_dbt import DbtCliResource

    from orchestration.assets.dbt import build_dbt_assets
    from orchestration.assets.page import page_spec
    from orchestration.assets.raw import RAW_KEYS, build_raw_assets
    from orchestration.assets.warehouse import WAREHOUSE, build_publish_assets
    from orchestration.jobs import build_jobs
    from orchestration.project import prepared
    from orchestration.resources import RefreshRun
    from orchestration.sensors import build_page_sensor

    dbt_project = prepared()
    # What a refresh run must select (a partial selection is refused): filled once the dbt
    # assets exist, read by the steps at run time.
    whole: set[dg.AssetKey] = set()
    dbt_models = build_dbt_assets(dbt_project, whole)
    whole |= {*RAW_KEYS.values(), *dbt_models.keys, WAREHOUSE}
    published_models = sorted((k for k in dbt_models.keys if k.path[0] in ("marts", "snapshots")),
                              key=lambda k: k.path)
    jobs = build_jobs(settings)
    return dg.Definitions(
        assets=[page_spec(settings.freshness_hours), build_raw_assets(whole), dbt_models,
                *build_publish_assets(published_models, whole)],
        jobs=jobs,
        sensors=[build_page_sensor(settings, jobs[0])],
        resources={"refresh_run": RefreshRun(),
                   # the profile's output for the engine: dev (DuckDB) or postgres
                   "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable(),
                                         target=settings.engine.dbt_target)})


def dbt_executable() -> str:
    """`kfor-dbt` (dbt's own CLI in a child that dies with its parent, drivers/dbt_child.py)
    beside this Python, else on PATH."""
    beside = Path(sys.executable).with_name("kfor-dbt")
    return str(beside) if beside.exists() else shutil.which("kfor-dbt") or "dbt"
