"""The publish asset and the exports asset.

warehouse  once dbt built every model into the scratch file and every blocking check passed:
           seal it (CHECKPOINT, no .wal, fsync) and replace the published file by one atomic
           rename (the replaced file kept in the warehouse's history). In a rollback run it
           publishes a kept version by the same rename. The fetch's final record is written at
           once (`published`).
exports    after the publish: every mart and snapshot as Parquet, and the plots, in the
           warehouse's exports folder; the images are shown in the run's metadata. A failure
           fails this step and alerts once; it never unpublishes."""

import base64
from pathlib import Path

import dagster as dg

from orchestration.assets.raw import require_whole_refresh
from orchestration.core.export import export_all
from orchestration.core.publish import mart_counts, publish, publish_kept, read_meta, seal
from orchestration.resources import RefreshRun

WAREHOUSE = dg.AssetKey("warehouse")
EXPORTS = dg.AssetKey("exports")


def build_publish_assets(published_models: list[dg.AssetKey], whole: set[dg.AssetKey]):
    @dg.asset(key=WAREHOUSE, group_name="publish", deps=published_models, output_required=False,
              description="The published DuckDB file (KFOR_WAREHOUSE): replaced by one atomic "
                          "rename of the checked scratch build; readers keep the old file until "
                          "they reconnect.")
    def warehouse(context: dg.AssetExecutionContext, refresh_run: RefreshRun):
        state = refresh_run.state
        files = state.files
        if refresh_run.mode == "rollback":
            kept = publish_kept(files, rollback_source(refresh_run), state.settings.keep)
        else:
            require_whole_refresh(context, whole)
            if not refresh_run.publish:  # an import's audit-only run: checks passed, nothing moves
                state.audited()
                context.log.info("audit only: every check passed; nothing published")
                return
            counts = mart_counts(files.build)
            seal(files.build)
            kept = publish(files, files.build, state.settings.keep)
        state.end("published")
        meta = read_meta(files.published) or {}
        yield dg.MaterializeResult(metadata={
            "path": str(files.published), "page_version": meta.get("content_sha256"),
            "previous_kept_as": str(kept) if kept else None,
            **({f"rows marts.{name}": dg.MetadataValue.int(n) for name, n in counts.items()}
               if refresh_run.mode != "rollback" else {})})

    @dg.asset(key=EXPORTS, group_name="publish", deps=[WAREHOUSE],
              description="The published warehouse's exports: every mart and snapshot as Parquet "
                          "(<warehouse>.exports/parquet/current/) and the plots (img/).")
    def exports(context: dg.AssetExecutionContext, refresh_run: RefreshRun):
        files = refresh_run.state.files
        version = (read_meta(files.published) or {}).get("content_sha256")
        plots = export_all(files, version)
        return dg.MaterializeResult(metadata={
            "parquet": dg.MetadataValue.path(str(files.parquet / "current")),
            "page_version": version,
            **{p.stem: dg.MetadataValue.md(image_markdown(p)) for p in plots}})

    return [warehouse, exports]


def rollback_source(refresh_run: RefreshRun) -> Path:
    """The kept file a rollback run publishes: one of this warehouse's own kept versions, for a
    rollback `kfor rollback` decided (its intent in the fetch log); anything else is refused
    before a file moves (a hand-written run config naming another warehouse's file)."""
    state = refresh_run.state
    kept = {p.resolve() for p in state.files.kept()}
    source = Path(refresh_run.kept).resolve() if refresh_run.kept else None
    if state.record is None or state.record.get("source") != "rollback" or source not in kept:
        raise dg.Failure(f"refused: a rollback publishes one of this warehouse's kept versions "
                         f"({state.files.history}) that `kfor rollback` chose; "
                         f"{refresh_run.kept or 'no file'} is not one, or no rollback was decided")
    return source


def image_markdown(path: Path) -> str:
    """A PNG inline in markdown, the way the Dagster UI shows an image in metadata."""
    data = base64.b64encode(path.read_bytes()).decode()
    return f"![{path.stem}](data:image/png;base64,{data})"
