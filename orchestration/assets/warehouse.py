"""The publish asset: once dbt built every model into the scratch file and every blocking check
passed, seal the scratch file (CHECKPOINT, no .wal, fsync) and replace the published warehouse by
one atomic rename; then derive the Parquet copy (plots are rendered on request, `kfor plot`).
The run's resource concludes it."""

import dagster as dg
import duckdb

from .. import dbt_build
from ..core.export import after_publish
from ..core.project import MARTS_SCHEMA
from ..core.publish import publish, seal
from ..instance import WAREHOUSE as WAREHOUSE_KEY
from ..resources import RefreshRun
from .scope import require_whole_refresh


def published_models() -> list[dg.AssetKey]:
    """Every mart and snapshot model: publish waits for all of them."""
    return [dg.AssetKey([n["schema"], n["name"]]) for n in dbt_build.manifest_json()["nodes"].values()
            if n["resource_type"] == "model" and n["schema"] in ("marts", "snapshots")]


@dg.asset(key=WAREHOUSE_KEY, group_name="publish", deps=published_models(), output_required=False,
          description="The published DuckDB file (KFOR_WAREHOUSE): replaced by one atomic rename "
                      "of the checked scratch build; readers keep the old file until they reconnect.")
def warehouse(context: dg.AssetExecutionContext, refresh_run: RefreshRun):
    require_whole_refresh(context)
    settings = refresh_run.state.settings
    if not refresh_run.publish:  # an import's audit-only run: every check passed, nothing moves
        refresh_run.state.audited()
        context.log.info("audit only: every check passed; nothing published")
        return
    build = settings.build_path
    con = duckdb.connect(str(build), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [MARTS_SCHEMA]).fetchall()]
        counts = {f"{MARTS_SCHEMA}.{t}": con.execute(
            f'SELECT count(*) FROM {MARTS_SCHEMA}."{t}"').fetchone()[0] for t in tables}
        version = con.execute(f"SELECT content_sha256 FROM {MARTS_SCHEMA}.meta").fetchone()[0]
    finally:
        con.close()
    seal(build)
    kept = publish(settings, build)
    refresh_run.state.published()
    warnings = after_publish(settings.warehouse, version, plots=False)
    for warning in warnings:
        context.log.warning(warning)
    yield dg.MaterializeResult(metadata={
        "path": str(settings.warehouse), "page_version": version,
        "previous_kept_as": str(kept) if kept else None,
        "parquet": str(settings.warehouse.parent / "parquet" / "current"),
        "warnings": "; ".join(warnings) or None,
        **{f"rows {name}": dg.MetadataValue.int(n) for name, n in counts.items()}})
