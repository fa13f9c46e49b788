"""dbt by hand against one warehouse file, through dbt's public programmatic API (dbtRunner), for
the commands that are not a refresh: the docs site, the README's analyses compiled against a
copy of the published file, the benchmark's bare `dbt build`. The file reaches dbt as a refresh's
scratch build does: KFOR_BUILD_PATH, read by profiles.yml's one target."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.core.layout import DBT_PROJECT_DIR

PROJECT_ARGS = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]


class DbtFailed(RuntimeError):
    """dbt could not run the command (a compile error, a broken project)."""


def target_of(path: Path) -> Path:
    """dbt's target folder for commands against `path`: beside it, never the project's own
    target/ (whose manifest the code location reads)."""
    return Path(path).parent / "dbt-target"


def run_dbt(args: list[str], path: Path, quiet: bool = True):
    """`dbt ARGS` against the DuckDB file `path` (named kfor.duckdb: dbt's SQL names the
    catalog), its artefacts in target_of(path) unless ARGS name a --target-path; returns dbt's
    result (its `.result` holds the node results). Raises DbtFailed when dbt itself could not
    run."""
    from dbt.cli.main import dbtRunner

    if "--target-path" not in args:
        args = [*args, "--target-path", str(target_of(path))]
    before = os.environ.get("KFOR_BUILD_PATH")
    os.environ["KFOR_BUILD_PATH"] = str(path)
    try:
        logs = ["--log-level", "none", "--log-level-file", "none"] if quiet else []
        result = dbtRunner().invoke([*args, *PROJECT_ARGS, *logs])
    finally:
        if before is None:
            os.environ.pop("KFOR_BUILD_PATH", None)
        else:
            os.environ["KFOR_BUILD_PATH"] = before
    if result.exception is not None:
        raise DbtFailed(f"dbt {args[0]} failed: {result.exception}")
    return result
