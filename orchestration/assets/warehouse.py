"""The publish asset: once dbt built every model into the scratch file and every blocking check
passed, seal the scratch file (CHECKPOINT, no .wal, fsync) and replace the published warehouse by
one atomic rename. Its failure hook logs rejected / failed outcomes and cleans the scratch."""


import dagster as dg
import duckdb

from .. import paths
from ..archive import Archive
from ..publish import after_publish, build_path, discard_build, publish, seal
from ..refresh import clear_pending, finish, read_pending
from ..resources import RefreshLock
from .dbt import CheckFailed, manifest_json

WAREHOUSE_KEY = dg.AssetKey("warehouse")


def published_models() -> list[dg.AssetKey]:
    """Every mart and snapshot model: publish waits for all of them."""
    return [dg.AssetKey([n["schema"], n["name"]]) for n in manifest_json()["nodes"].values()
            if n["resource_type"] == "model" and n["schema"] in ("marts", "snapshots")]


@dg.asset(key=WAREHOUSE_KEY, group_name="publish", deps=published_models(),
          pool="kfor_warehouse",
          description="The published DuckDB file (KFOR_WAREHOUSE): replaced by one atomic rename "
                      "of the checked scratch build; readers keep the old file until they reconnect.")
def warehouse(context: dg.AssetExecutionContext, refresh_lock: RefreshLock) -> dg.MaterializeResult:
    build = build_path()
    con = duckdb.connect(str(build), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [paths.MARTS_SCHEMA]).fetchall()]
        counts = {f"{paths.MARTS_SCHEMA}.{t}": con.execute(
            f'SELECT count(*) FROM {paths.MARTS_SCHEMA}."{t}"').fetchone()[0] for t in tables}
        version = con.execute(f"SELECT content_sha256 FROM {paths.MARTS_SCHEMA}.meta").fetchone()[0]
    finally:
        con.close()
    seal(build)
    kept = publish(build, keep=paths.keep_published())
    record = read_pending()
    if record:
        finish(Archive(), record, "published")
        clear_pending()
    warnings = after_publish(version=version)
    for warning in warnings:
        context.log.warning(warning)
    return dg.MaterializeResult(metadata={
        "path": str(paths.warehouse_path()), "page_version": version,
        "previous_kept_as": str(kept) if kept else None,
        "parquet": str(paths.warehouse_path().parent / "parquet" / "current"),
        "warnings": "; ".join(warnings) or None,
        **{f"rows {name}": dg.MetadataValue.int(n) for name, n in counts.items()}})


def outcome_of(error: BaseException | None) -> tuple[str, str]:
    """The fetch-log outcome and one line of explanation for a failed run."""
    from ..parsing import ParseError

    if isinstance(error, CheckFailed):
        return f"rejected: {error.checks[0]}", str(error)
    if isinstance(error, ParseError):
        return f"rejected: parse:{error.check}", error.message
    cause = f"{type(error).__name__}: {error}" if error else "unknown error"
    return f"failed: {cause.splitlines()[0][:200]}", cause


@dg.failure_hook(name="log_refresh_failure")
def log_refresh_failure(context: dg.HookContext) -> None:
    """Any failed step: the fetch being built gets its outcome in the log and the scratch file is
    removed, so nothing half-built is left and the published file was never touched."""
    record = read_pending()
    if record is None:
        return
    outcome, message = outcome_of(context.op_exception)
    finish(Archive(), record, outcome, message)
    clear_pending()
    discard_build()
    context.log.error(f"refresh {outcome}: {message}")
