"""Write-audit-publish of the warehouse file: a scratch build beside the published file, sealed
(CHECKPOINT, no .wal, fsync) and then renamed over the published file in one atomic step. The
published file is never opened for writing; readers keep the file they opened until they
reconnect. Replaced files are kept under history/ for `kfor rollback`, but only readable
warehouses: a damaged published file (random bytes, truncated) is moved aside as
`<name>.corrupt-<UTC time>` beside it, never filed under history/, so rollback keeps working."""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from orchestration.core.archive import fsync_path
from orchestration.core.project import MARTS_SCHEMA
from orchestration.core.settings import Settings


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
    kept under history/ (the last `keep` of them) for `kfor rollback` when it is a readable
    warehouse; a damaged one is moved aside instead (one warning line on stderr). Returns its
    history path."""
    published, keep = settings.warehouse, settings.keep if keep is None else keep
    kept = None
    problem = warehouse_problem(published, thorough=True) if published.exists() else None
    if problem:
        aside = published.with_name(f"{published.name}.corrupt-{_stamp()}")
        os.link(published, aside)  # the damaged bytes stay for inspection, out of history/
        print(f"warning: the published file {published} was not a readable warehouse "
              f"({problem}); moved aside to {aside.name}", file=sys.stderr, flush=True)
    elif published.exists() and keep > 0:
        settings.history_dir.mkdir(exist_ok=True)
        kept = settings.history_dir / f"{published.stem}-{_stamp()}.duckdb"
        os.link(published, kept)  # a second name for the same bytes: nothing is copied
    os.replace(build, published)
    fsync_path(published.parent)
    if kept:
        for old in history(settings)[:-keep]:
            old.unlink()
    return kept


def _stamp() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"


def history(settings: Settings) -> list[Path]:
    return sorted(settings.history_dir.glob(f"{settings.warehouse.stem}-*.duckdb"))


class UnreadableWarehouse(RuntimeError):
    """A warehouse file that exists but cannot be read (random bytes, truncated, no marts.meta)."""

    def __init__(self, path: Path, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path} is not a readable warehouse ({problem}); `kfor refresh` or "
                         "`kfor replay` rebuilds it from the archive, `kfor rollback` re-publishes "
                         "a kept file")


class WarehouseLocked(RuntimeError):
    """Another process holds the published file open for writing (DuckDB's lock). The file is
    not damaged, so nothing rebuilds or moves it; and replacing it under a writer would lose what
    the writer does, so the refresh fails, naming the holder."""

    def __init__(self, path: Path, detail: str):
        super().__init__(f"the published file {path} is open for writing in another process "
                         f"({detail}); readers must connect read-only (read_only=True, "
                         "duckdb -readonly): close that connection and run again")


def warehouse_problem(path: Path, thorough: bool = False) -> str | None:
    """Why a file is not a readable warehouse, or None when it is one: DuckDB opens it read-only,
    it is as long as its own block count says (a truncated file can still open), and marts.meta
    has one row. `thorough` also reads every table in full, which checks every block's checksum
    (the check before a file is filed under history/ or rolled back to)."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except (duckdb.Error, OSError) as e:
        if "Could not set lock" in str(e):  # a writer holds it: not damage (WarehouseLocked)
            raise WarehouseLocked(path, _first_line(e)) from None
        return _first_line(e)
    try:
        block_size, blocks = con.execute(
            "SELECT block_size, total_blocks FROM pragma_database_size()").fetchone()
        expected = _HEADER_BYTES + block_size * blocks
        size = path.stat().st_size
        if size < expected:
            return f"truncated: {size} bytes, its blocks need {expected}"
        if con.execute(f"SELECT count(*) FROM {MARTS_SCHEMA}.meta").fetchone()[0] != 1:
            return f"{MARTS_SCHEMA}.meta does not have one row"
        if thorough:
            for schema, table in con.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall():
                con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
    except (duckdb.Error, OSError) as e:
        return _first_line(e)
    finally:
        con.close()
    return None


_HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers, before block 0


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def read_meta(path: Path) -> dict | None:
    """marts.meta of a warehouse file, read-only; None when there is no such file. A file that is
    not a readable warehouse raises UnreadableWarehouse."""
    if not path.exists():
        return None
    problem = warehouse_problem(path)
    if problem:
        raise UnreadableWarehouse(path, problem)
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM {MARTS_SCHEMA}.meta")
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    finally:
        con.close()
    return json.loads(json.dumps(dict(zip(names, row, strict=True)), default=str)) if row else None


def published_meta(path: Path) -> dict | None:
    """marts.meta of the published file, or None when there is none or it cannot be read: a
    refresh then rebuilds from the archive (assets/raw.py) instead of failing on it."""
    try:
        return read_meta(path)
    except UnreadableWarehouse:
        return None


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
    refresh killed right after its rename is recognised). None for an unreadable file too."""
    if not path.exists() or warehouse_problem(path):
        return None
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT outcome FROM raw.fetch_log WHERE fetch_id = ?",
                          [fetch_id]).fetchone()
    finally:
        con.close()
    return row[0] if row else None
