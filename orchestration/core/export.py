"""The Parquet export: every table of the published warehouse's `marts` (and `snapshots`, when it
has one) as one Parquet file each, for tools that cannot share a DuckDB file.

Layout under the export root (the warehouse's `<name>.exports/parquet/`):

    20231120T172400123456Z-4d7556e21a20/    one folder per export: <UTC time>-<version key[:12]>
        dim_commander.parquet ...           one file per table
        manifest.json                       version, tables, row counts, columns, checksums
    current -> 20231120T172400123456Z-4d7556e21a20   (relative symlink, swapped atomically)

Readers never see a mix of versions: a folder is written under a temporary name, every file and
the folder are fsynced, the folder is renamed into place complete, and only then is `current`
repointed, by renaming a new symlink over it (one atomic rename). Older folders beyond `keep` are
pruned, never the one `current` names. A crash leaves at worst a `.tmp-*` folder or a
`current.tmp` link, which the next export removes. The database is opened read-only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from orchestration.core.archive import fsync_path

SCHEMAS = ("marts", "snapshots")
CURRENT = "current"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
_TMP_PREFIX = ".tmp-"
_LOCK_NAME = ".export.lock"
VERSION_FOLDER = re.compile(r"^\d{8}T\d{12}Z-[0-9A-Za-z]{1,12}$")


def export_parquet(db_path: Path, root: Path, version: str, keep: int = 3) -> Path:
    """Export every table of `marts` (and `snapshots`) of `db_path` to `root/<folder>/`, then point
    `root/current` at it. `version` is the page's version key (content_sha256); it must match the
    file's marts.meta when the file has one. Returns the new version folder (not the link).

    Idempotent: each call writes a new, complete folder (two exports of the same version do not
    collide: the folder name starts with the UTC time to the microsecond). Keeps the newest `keep`
    folders, and always the current one."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (got {keep})")
    short = re.sub(r"[^0-9A-Za-z]", "", version or "")[:12]
    if not short:
        raise ValueError(f"not a version key: {version!r}")
    db_path, root = Path(db_path), Path(root)
    if not db_path.is_file():
        raise FileNotFoundError(f"no warehouse file at {db_path}")
    root.mkdir(parents=True, exist_ok=True)
    with _export_lock(root):
        clean_stale(root)
        name = _new_folder_name(root, short)
        tmp = root / f"{_TMP_PREFIX}{name}.{os.getpid()}"
        tmp.mkdir()
        try:
            manifest = _write_tables(db_path, tmp, version, name)
            _write_file(tmp / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
            fsync_path(tmp)
            final = root / name
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_path(root)
        _point_current(root, name)
        prune(root, keep)
    return final


def current_folder(root: Path) -> Path | None:
    """The version folder `root/current` names, or None. Resolve it once, read a set from it."""
    link = Path(root) / CURRENT
    try:
        return Path(root) / os.readlink(link)
    except (FileNotFoundError, OSError):
        return None


def version_folders(root: Path) -> list[Path]:
    """The complete version folders under root, oldest first (their names sort by time)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if VERSION_FOLDER.match(p.name) and p.is_dir() and not p.is_symlink())


def clean_stale(root: Path) -> list[Path]:
    """Remove what a crashed export left: `.tmp-*` folders and a `current.tmp` link. Call with the
    export lock held (export_parquet does)."""
    removed = []
    for p in Path(root).iterdir():
        if p.name.startswith(_TMP_PREFIX):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
        elif p.name == f"{CURRENT}.tmp":
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def prune(root: Path, keep: int) -> list[Path]:
    """Remove version folders older than the newest `keep`, never the current one."""
    current = current_folder(root)
    folders = version_folders(root)
    doomed = [p for p in folders[:-keep] if current is None or p.name != current.name]
    for p in doomed:
        shutil.rmtree(p, ignore_errors=True)
    if doomed:
        fsync_path(Path(root))
    return doomed


# --- internals ---------------------------------------------------------------------------------

@contextmanager
def _export_lock(root: Path):
    """Serialise exports into one root (the publish step already holds the refresh lock; this
    also covers a manual export running beside it)."""
    fd = os.open(root / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _new_folder_name(root: Path, short: str) -> str:
    while True:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{short}"
        if not (root / name).exists():
            return name
        time.sleep(0.001)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_tables(db_path: Path, folder: Path, version: str, name: str) -> dict:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")  # the manifest's times as UTC whatever TZ says (V6)
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND list_contains(?, table_schema) "
            "ORDER BY list_position(?, table_schema), table_name",
            [list(SCHEMAS), list(SCHEMAS)]).fetchall()
        if not any(schema == "marts" for schema, _ in tables):
            raise ValueError(f"{db_path} has no marts tables to export")
        meta = _meta(con)
        if meta.get("content_sha256") and not meta["content_sha256"].startswith(version):
            raise ValueError(f"version {version[:12]} does not match the file's marts.meta "
                             f"({meta['content_sha256'][:12]})")
        out: dict[str, dict] = {}
        for schema, table in tables:
            if table in out:  # dbt names are unique per project, so this cannot happen from dbt
                raise ValueError(f"table name {table} is in more than one schema")
            target = folder / f"{table}.parquet"
            relation = f"{_quote_ident(schema)}.{_quote_ident(table)}"
            rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
            con.execute(f"COPY (SELECT * FROM {relation} ORDER BY ALL) TO "
                        f"{_quote_literal(str(target))} (FORMAT parquet, COMPRESSION zstd)")
            written = con.execute("SELECT count(*) FROM read_parquet(?)",
                                  [str(target)]).fetchone()[0]
            if written != rows:
                raise RuntimeError(f"{target.name}: wrote {written} rows, the table has {rows}")
            columns = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, table]).fetchall()
            data = target.read_bytes()
            fsync_path(target)
            out[table] = {"schema": schema, "file": target.name, "rows": rows,
                          "columns": dict(columns), "bytes": len(data),
                          "sha256": hashlib.sha256(data).hexdigest()}
    finally:
        con.close()
    return {"format": MANIFEST_FORMAT, "version": meta.get("content_sha256") or version,
            "folder": name, "exported_at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}",
            "page_last_updated": meta.get("page_last_updated"), "source_file": str(db_path),
            "duckdb_version": meta.get("duckdb_version"), "tables": out}


def _meta(con) -> dict:
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = "
                         "current_database() AND table_schema = 'marts' AND table_name = 'meta'"
                         ).fetchone()[0]
    if not exists:
        return {}
    cur = con.execute("SELECT * FROM marts.meta")
    row = cur.fetchone()
    if row is None:
        return {}
    names = [d[0] for d in cur.description]
    return {k: (str(v) if v is not None else None) for k, v in zip(names, row, strict=True)}


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _point_current(root: Path, name: str) -> None:
    """Repoint root/current at `name` by one atomic rename of a fresh relative symlink."""
    link, tmp = root / CURRENT, root / f"{CURRENT}.tmp"
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} exists and is not a symlink; move it away")
    tmp.unlink(missing_ok=True)
    os.symlink(name, tmp)
    os.replace(tmp, link)
    fsync_path(root)


def exported_version(root: Path) -> str | None:
    """The version key the current Parquet export names, or None."""
    current = current_folder(root) if Path(root).is_dir() else None
    try:
        return json.loads((current / MANIFEST).read_text())["version"] if current else None
    except (OSError, ValueError, KeyError):
        return None


def settle(files, version: str | None) -> bool:
    """Recovery (under the refresh lock): a half-written export is removed, and the exports are
    made again when they do not name the published version (a run killed after its rename, an
    export that failed). Returns whether it exported."""
    root = files.parquet
    if root.is_dir():
        with _export_lock(root):
            clean_stale(root)
    if not version or not files.published.exists() or exported_version(root) == version:
        return False
    export_all(files, version)
    return True


def export_all(files, version: str) -> list[Path]:
    """The published file's derived copies, in the warehouse's exports folder: every mart and
    snapshot as Parquet (parquet/current/) and the plots (img/). Returns the plots' paths."""
    from orchestration.core.plots import render_plots

    export_parquet(files.published, files.parquet, version)
    return render_plots(files.published, files.img)
