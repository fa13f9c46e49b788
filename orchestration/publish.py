"""Write-audit-publish of the warehouse file: a scratch build beside the published file, sealed
(CHECKPOINT, no .wal, fsync) and then renamed over the published file in one atomic step. The
published file is never opened for writing; readers keep the file they opened until they
reconnect. Replaced files are kept under history/ for `kfor rollback`."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from .archive import fsync_path
from .paths import MARTS_SCHEMA
from .settings import Settings


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def discard_build(settings: Settings) -> Path:
    """Remove the scratch file and its WAL (a failed, rejected or crashed build); returns its path."""
    build = settings.build_path
    for leftover in (build, wal(build)):
        leftover.unlink(missing_ok=True)
    return build


def start_build(settings: Settings, empty: bool = False) -> Path:
    """A fresh scratch copy of the published file (or an empty one); a stale scratch file of a
    crashed run is removed first."""
    build = discard_build(settings)
    build.parent.mkdir(parents=True, exist_ok=True)
    if settings.warehouse.exists() and not empty:
        shutil.copyfile(settings.warehouse, build)
    return build


def seal(path: Path) -> None:
    """Checkpoint the file, confirm no WAL is left, fsync. Every connection must be closed."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if wal(path).exists():
        raise RuntimeError(f"{wal(path)} still exists after CHECKPOINT: a connection is open")
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def publish(settings: Settings, build: Path, keep: int | None = None) -> Path | None:
    """Replace the published file by the sealed build in one atomic rename. The replaced file is
    kept under history/ (the last `keep` of them) for `kfor rollback`. Returns its history path."""
    published, keep = settings.warehouse, settings.keep if keep is None else keep
    kept = None
    if published.exists() and keep > 0:
        settings.history_dir.mkdir(exist_ok=True)
        kept = settings.history_dir / f"{published.stem}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.duckdb"
        os.link(published, kept)  # a second name for the same bytes: nothing is copied
    os.replace(build, published)
    fsync_path(published.parent)
    if kept:
        for old in history(settings)[:-keep]:
            old.unlink()
    return kept


def history(settings: Settings) -> list[Path]:
    return sorted(settings.history_dir.glob(f"{settings.warehouse.stem}-*.duckdb"))


def read_meta(path: Path) -> dict | None:
    """marts.meta of a warehouse file, read-only; None when there is no such file."""
    if not path.exists():
        return None
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM {MARTS_SCHEMA}.meta")
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    finally:
        con.close()
    return json.loads(json.dumps(dict(zip(names, row, strict=True)), default=str)) if row else None


def mart_counts(path: Path) -> dict[str, int]:
    """Rows per mart table of a warehouse file, read-only."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [MARTS_SCHEMA]).fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM {MARTS_SCHEMA}."{t}"').fetchone()[0]
                for t in tables}
    finally:
        con.close()


def holds_fetch(path: Path, fetch_id: str) -> str | None:
    """The outcome a warehouse file's raw.fetch_log records for a fetch, if it holds it (how a
    refresh killed right after its rename is recognised)."""
    if not path.exists():
        return None
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT outcome FROM raw.fetch_log WHERE fetch_id = ?",
                          [fetch_id]).fetchone()
    finally:
        con.close()
    return row[0] if row else None
