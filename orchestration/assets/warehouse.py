"""The publish asset and the exports asset.

warehouse  once dbt built every model into the scratch build and every blocking check passed:
           the engine publishes it whole (core/engine.py): a DuckDB file is sealed (CHECKPOINT,
           no .wal, fsync) and renamed over the published file; on Postgres the build schemas
           are swapped in by one transaction. The replaced version is kept. In a rollback run it
           publishes a kept version by the same rename. The fetch's final record is written at
           once (`published`).
exports    after the publish of a DuckDB file: every mart and snapshot as Parquet, and the plots,
           in the warehouse's exports folder; the images are shown in the run's metadata. A
           failure fails this step and alerts once; it never unpublishes. A Postgres warehouse
           has none: BI tools and analysts read the server."""

import base64
from pathlib import Path

import dagster as dg

from orchestration.assets.raw import require_whole_refresh
from orchestration.core.export import export_all
from orchestration.core.publish import read_meta
from orchestration.resources import RefreshRun

WAREHOUSE = dg.AssetKey("warehouse")
EXPORTS = dg.AssetKey("exports")


def build_publish_assets(published_models: list[dg.AssetKey], whole: set[dg.AssetKey]):
    @dg.asset(key=WAREHOUSE, group_name="publish", deps=published_models, output_required=False,
              description="The published warehouse (KFOR_WAREHOUSE): a DuckDB file replaced by "
                          "one atomic rename of the checked scratch build (readers keep the old "
                          "file until they reconnect), or Postgres schemas swapped in by one "
                          "transaction.")
    def warehouse(context: dg.AssetExecutionContext, refresh_run: RefreshRun):
        state = refresh_run.state
        engine = state.engine
        if refresh_run.mode == "rollback":
            kept = engine.publish_kept(rollback_source(refresh_run), state.settings.keep)
        else:
            require_whole_refresh(context, whole)
            if not refresh_run.publish:  # an import's audit-only run: checks passed, nothing moves
                state.audited()
                context.log.info("audit only: every check passed; nothing published")
                return
            counts = engine.build_counts()
            kept = engine.publish(state.settings.keep, say=context.log.warning)
        state.end("published")
        meta = engine.read_meta() or {}
        yield dg.MaterializeResult(metadata={
            "path": engine.name, "page_version": meta.get("content_sha256"),
            "previous_kept_as": str(kept) if kept else None,
            **({f"rows marts.{name}": dg.MetadataValue.int(n) for name, n in counts.items()}
               if refresh_run.mode != "rollback" else {})})

    @dg.asset(key=EXPORTS, group_name="publish", deps=[WAREHOUSE],
              description="The published warehouse's exports: every mart and snapshot as Parquet "
                          "(<warehouse>.exports/parquet/current/) and the plots (img/).")
    def exports(context: dg.AssetExecutionContext, refresh_run: RefreshRun):
        files, engine = refresh_run.state.files, refresh_run.state.engine
        if engine.kind != "duckdb":
            return dg.MaterializeResult(metadata={"skipped": f"{engine.name} is read on the "
                                                             "server: nothing to export"})
        version = (read_meta(files.published) or {}).get("content_sha256")
        plots = export_all(files, version)
        return dg.MaterializeResult(metadata={
            "parquet": dg.MetadataValue.path(str(files.parquet / "current")),
            "page_version": version,
            **{p.stem: dg.MetadataValue.md(image_markdown(p)) for p in plots}})

    return [warehouse, exports]


def rollback_source(refresh_run: RefreshRun) -> str:
    """The kept version a rollback run publishes: one of this warehouse's own, for a rollback
    `kfor rollback` decided (its intent in the fetch log); anything else is refused before a file
    or schema moves (a hand-written run config naming another warehouse's file)."""
    state = refresh_run.state
    source = refresh_run.kept
    if state.record is None or state.record.get("source") != "rollback" \
            or source not in state.engine.kept():
        raise dg.Failure(f"refused: a rollback publishes one of this warehouse's kept versions "
                         f"({state.engine.kept_where()}) that `kfor rollback` chose; "
                         f"{refresh_run.kept or 'no file'} is not one, or no rollback was decided")
    return source


def image_markdown(path: Path) -> str:
    """A PNG inline in markdown, the way the Dagster UI shows an image in metadata."""
    data = base64.b64encode(path.read_bytes()).decode()
    return f"![{path.stem}](data:image/png;base64,{data})"
