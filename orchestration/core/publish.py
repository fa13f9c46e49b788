"""Write-audit-publish of the warehouse file: a scratch build beside the published file
(`.<name>.build/`), sealed (CHECKPOINT, no .wal, fsync) and then renamed over the published file
in one atomic step. The published file is never opened for writing; readers keep the file they
opened until they reconnect. Replaced files are kept in `<name>.history/` for `kfor rollback`,
but only readable warehouses: a damaged published file (random bytes, truncated) is moved aside
as `<name>.corrupt-<UTC time>` beside it, never kept, so rollback keeps working. Every path comes
from the warehouse's own files (orchestration.core.files)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from orchestration.core.archive import fsync_path
from orchestration.core.files import WarehouseFiles
from orchestration.core.layout import MARTS_SCHEMA


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def discard_build(files: WarehouseFiles) -> Path:
    """Remove the scratch file and its WAL (a failed, rejected or crashed build); returns the
    scratch file's path. dbt's target folder stays: its partial-parse state is valid for this
    warehouse's next build (dbt hashes the profile's path, which is this warehouse's own)."""
    build = files.build
    for leftover in (build, wal(build)):
        leftover.unlink(missing_ok=True)
    return build


def start_build(files: WarehouseFiles, empty: bool = False) -> Path:
    """A fresh scratch copy of the published file (or an empty one); what a crashed run left is
    removed first."""
    build = discard_build(files)
    build.parent.mkdir(parents=True, exist_ok=True)
    if files.published.exists() and not empty:
        shutil.copyfile(files.published, build)
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


def publish(files: WarehouseFiles, build: Path, keep: int, drop: Path | None = None) -> Path | None:
    """Replace the published file by the sealed build in one atomic rename. The replaced file is
    kept in the warehouse's history (the newest `keep` of them) when it is a readable warehouse;
    a damaged one is moved aside instead (one warning line on stderr). `drop` is a kept file to
    remove once the rename is done (a rollback's source). Returns where the replaced file is kept."""
    published = files.published
    kept = None
    problem = warehouse_problem(published, thorough=True) if published.exists() else None
    if problem:
        aside = files.corrupt_aside()
        os.link(published, aside)  # the damaged bytes stay for inspection, never kept
        print(f"warning: the published file {published} was not a readable warehouse "
              f"({problem}); moved aside to {aside.name}", file=sys.stderr, flush=True)
    elif published.exists() and keep > 0:
        files.history.mkdir(exist_ok=True)
        kept = files.new_kept()
        os.link(published, kept)  # a second name for the same bytes: nothing is copied
    os.replace(build, published)
    fsync_path(published.parent)
    if drop is not None:
        drop.unlink(missing_ok=True)
    for old in files.kept()[:-keep] if keep > 0 else files.kept():
        old.unlink(missing_ok=True)
    return kept


def publish_kept(files: WarehouseFiles, kept: Path, keep: int) -> Path | None:
    """A rollback: publish a kept version again by the same atomic rename. The kept file becomes
    the scratch build by a second name (no copy, and no write: it was sealed when first
    published), the file it replaces is kept in turn (so a second rollback undoes the first), and
    the kept entry is dropped only after the rename. Returns where the replaced file is kept."""
    build = discard_build(files)
    build.parent.mkdir(parents=True, exist_ok=True)
    os.link(kept, build)
    return publish(files, build, keep, drop=kept)


def move_legacy_history(files: WarehouseFiles) -> list[str]:
    """Kept versions of the old shared layout (history/<stem>-<time>.duckdb) moved into this
    warehouse's own history folder, once; returns one note per move. Files another warehouse of
    the same stem could own are left where they are, and said so."""
    notes = []
    for old in files.legacy_history():
        files.history.mkdir(exist_ok=True)
        target = files.history / f"{files.legacy_stamp(old)}.duckdb"
        if not target.exists():
            os.replace(old, target)
            notes.append(f"moved the kept version {old.name} from the old shared history/ folder "
                         f"to {files.history.name}/")
    legacy = files.folder / "history"
    if legacy.is_dir() and files.sibling_with_same_stem() and any(
            p.name.startswith(files.published.stem + "-") for p in legacy.iterdir()):
        notes.append(f"left {legacy}/ as it is: {files.name} and "
                     f"{files.sibling_with_same_stem().name} share the name "
                     f"{files.published.stem!r}, so its kept versions could be either's; move "
                     f"them into {files.history.name}/ by hand")
    return notes


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
    it holds at least the blocks it uses (a truncated file can still open; total_blocks is no
    measure: a checkpoint cuts free blocks off the file's end and may still count them), and
    marts.meta has one row. `thorough` also reads every table in full, which checks every block's
    checksum (the check before a file is kept or rolled back to)."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except (duckdb.Error, OSError) as e:
        if "Could not set lock" in str(e):  # a writer holds it: not damage (WarehouseLocked)
            raise WarehouseLocked(path, _first_line(e)) from None
        return _first_line(e)
    try:
        block_size, blocks = con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size()").fetchone()
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
        con.execute("SET TimeZone = 'UTC'")  # times shown as UTC whatever TZ says (rule V6)
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


def logged_fetches(path: Path) -> list[dict]:
    """The published warehouse's own copy of the fetch log (raw.fetch_log, as of its build), in
    log order; [] when there is no readable file or it has no such table."""
    if not path.exists() or warehouse_problem(path):
        return []
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute("SELECT * FROM raw.fetch_log ORDER BY log_seq")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()
