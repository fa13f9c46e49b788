"""Publishing the warehouse: build in a scratch file beside the published one, then replace the
published file by one atomic rename. The published file is never opened for writing; readers keep
the file they opened until they reconnect. A lock file serialises refreshes."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .archive import fsync_path
from .paths import MARTS_SCHEMA, warehouse_path

HISTORY_DIR = "history"


class RefreshBusy(RuntimeError):
    pass


def build_path(published: Path | None = None) -> Path:
    """The scratch file a refresh builds (dbt's profile points here through KFOR_BUILD_DB). Same
    file name in a .build/ folder beside it: DuckDB names a file's catalog after its stem, and the
    rename must not change it."""
    published = published or warehouse_path()
    return published.parent / ".build" / published.name


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


_held: dict[Path, int] = {}  # locks this process holds, with their depth (the lock is reentrant)


@contextmanager
def refresh_lock(published: Path | None = None, wait: float = 0.0):
    """Hold the refresh lock; another holder means "refresh already running (pid N)". Reentrant
    within a process: the CLI holds it around the whole refresh and the job's steps take it too."""
    published = (published or warehouse_path()).resolve()
    if published in _held:
        _held[published] += 1
        try:
            yield
        finally:
            _held[published] -= 1
        return
    published.parent.mkdir(parents=True, exist_ok=True)
    path = published.with_name(published.name + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
                    raise RefreshBusy(f"refresh already running ({holder})") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}".encode(), 0)
        _held[published] = 1
        yield
    finally:
        _held.pop(published, None)
        os.close(fd)  # closing releases the lock; the stale text is harmless


def discard_build(published: Path | None = None) -> Path:
    """Remove the scratch file and its WAL (a failed, rejected or crashed build); returns its path."""
    build = build_path(published)
    for leftover in (build, wal(build)):
        leftover.unlink(missing_ok=True)
    return build


def start_build(published: Path | None = None, empty: bool = False) -> Path:
    """A fresh scratch copy of the published file (or an empty one): stale scratch files of a
    crashed run are removed first."""
    published = published or warehouse_path()
    build = discard_build(published)
    build.parent.mkdir(parents=True, exist_ok=True)
    if published.exists() and not empty:
        shutil.copyfile(published, build)
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


def publish(build: Path, published: Path | None = None, keep: int = 5) -> Path | None:
    """Replace the published file by the sealed build in one atomic rename. The replaced file is
    kept under history/ (the last `keep` of them) for `kfor rollback`. Returns its history path."""
    published = published or warehouse_path()
    kept = None
    if published.exists() and keep > 0:
        history = published.parent / HISTORY_DIR
        history.mkdir(exist_ok=True)
        kept = history / f"{published.stem}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.duckdb"
        os.link(published, kept)  # a second name for the same bytes: nothing is copied
    os.replace(build, published)
    fsync_path(published.parent)
    if kept:
        for old in sorted(kept.parent.glob(f"{published.stem}-*.duckdb"))[:-keep]:
            old.unlink()
    return kept


def history(published: Path | None = None) -> list[Path]:
    published = published or warehouse_path()
    return sorted((published.parent / HISTORY_DIR).glob(f"{published.stem}-*.duckdb"))


def published_meta(published: Path | None = None) -> dict | None:
    """marts.meta of the published file, read-only; None when nothing is published yet."""
    published = published or warehouse_path()
    if not published.exists():
        return None
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM {MARTS_SCHEMA}.meta")
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    finally:
        con.close()
    return json.loads(json.dumps(dict(zip(names, row, strict=True)), default=str)) if row else None


def after_publish(published: Path | None = None, version: str | None = None,
                  plots: bool = True) -> list[str]:
    """The published file's derived copies, for tools that cannot read DuckDB: every mart as
    Parquet (warehouse/parquet/current/) and the README's plots (warehouse/img/). They are made
    after the rename, so a failure here is a warning line, never an unpublished warehouse."""
    from .export import export_parquet

    published = published or warehouse_path()
    version = version or (published_meta(published) or {}).get("content_sha256")
    warnings = []
    try:
        export_parquet(published, published.parent / "parquet", version)
    except Exception as e:  # noqa: BLE001 - reported, the warehouse is already published
        warnings.append(f"warning: the Parquet export failed: {type(e).__name__}: {e}")
    if plots:
        try:
            from .plots import render_plots

            render_plots(published, published.parent / "img")
        except Exception as e:  # noqa: BLE001
            warnings.append(f"warning: rendering the plots failed: {type(e).__name__}: {e}")
    return warnings
