"""A warehouse's files: everything one warehouse writes, found from its own full path exactly,
in places named after it, never by a prefix or a glob. Any number of warehouses can share a
folder (prod, staging, a scratch one) without reading, publishing, pruning or listing each
other's files. For `warehouse/kfor.duckdb`:

    kfor.duckdb                the published file (replaced by one atomic rename)
    kfor.duckdb.lock           the refresh lock (flock)
    .kfor.duckdb.build/        the scratch build (kfor.duckdb, its .wal) and dbt's target folder
    kfor.duckdb.history/       kept versions for `kfor rollback`: <UTC time>.duckdb
    kfor.duckdb.exports/       parquet/ (current/ and version folders) and img/ (the plots)
    kfor.duckdb.corrupt-<t>    a damaged published file, moved aside

The full name (not the stem) keeps `kfor.duckdb` and `kfor.db` apart. A name ending like one of
these derived names is refused by the settings, so one warehouse can never be another's file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# DuckDB names a file's catalog after its stem and dbt's compiled SQL names that catalog: the
# scratch build always carries this name, whatever the published file is called.
BUILD_NAME = "kfor.duckdb"
# Endings of the names a warehouse derives: a warehouse may not be named like one of them.
DERIVED_SUFFIXES = (".lock", ".build", ".history", ".exports", ".wal", ".tmp")
CORRUPT_INFIX = ".corrupt-"
KEPT_NAME = re.compile(r"^\d{8}T\d{12}Z\.duckdb$")  # <UTC time to the microsecond>.duckdb
# The layout before 2026-12 kept every warehouse's versions in one shared history/ folder as
# <stem>-<time>.duckdb; read once and moved (files.legacy_history).
_LEGACY_KEPT = r"^{stem}-(\d{{8}}T\d{{12}}Z)\.duckdb$"


def utc_stamp() -> str:
    """A UTC time to the microsecond, as used in kept and moved-aside file names."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"


@dataclass(frozen=True)
class WarehouseFiles:
    """The files of the warehouse published at `published` (absolute, symlinks resolved)."""

    published: Path

    @property
    def name(self) -> str:
        return self.published.name

    @property
    def folder(self) -> Path:
        return self.published.parent

    def require_writable(self) -> None:
        """Fail before anything is fetched or written when the warehouse's folder cannot take its
        lock, its build and the published file, naming the setting (not only the lock's path)."""
        problem = unwritable(self.folder)
        if problem:
            raise PermissionError(f"KFOR_WAREHOUSE={self.published}: {problem}: a refresh writes "
                                  "its lock, its build and the published file there; nothing was "
                                  "fetched or written")

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.name}.lock"

    @property
    def build_dir(self) -> Path:
        return self.folder / f".{self.name}.build"

    @property
    def build(self) -> Path:
        """The scratch warehouse a run writes, audits and then renames over the published one."""
        return self.build_dir / BUILD_NAME

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for this warehouse's builds (artifacts, logs, partial parse)."""
        return self.build_dir / "dbt"

    @property
    def history(self) -> Path:
        return self.folder / f"{self.name}.history"

    @property
    def exports(self) -> Path:
        return self.folder / f"{self.name}.exports"

    @property
    def parquet(self) -> Path:
        return self.exports / "parquet"

    @property
    def img(self) -> Path:
        return self.exports / "img"

    def corrupt_aside(self) -> Path:
        return self.folder / f"{self.name}{CORRUPT_INFIX}{utc_stamp()}"

    def new_kept(self) -> Path:
        return self.history / f"{utc_stamp()}.duckdb"

    def kept(self) -> list[Path]:
        """Kept versions, oldest first (their names sort by time). Only names this code writes."""
        if not self.history.is_dir():
            return []
        return sorted(p for p in self.history.iterdir() if KEPT_NAME.match(p.name) and p.is_file())

    def owned(self) -> list[Path]:
        """Every path this warehouse writes (for the settings' overlap checks)."""
        return [self.published, self.lock, self.build_dir, self.history, self.exports]

    def layout(self) -> dict[str, Path]:
        """Where each file is, for `kfor status`."""
        return {"published": self.published, "lock": self.lock, "scratch build": self.build_dir,
                "kept versions": self.history, "Parquet": self.parquet, "plots": self.img}

    # -- the old layout, moved once ------------------------------------------------------------

    def legacy_history(self) -> list[Path]:
        """Kept versions in the old shared layout (`history/<stem>-<time>.duckdb`) that are this
        warehouse's beyond doubt: matched by the exact name pattern, and only when no other file
        in the folder has the same stem (then `kfor.duckdb` and `kfor.db` could both own them)."""
        old = self.folder / "history"
        if not old.is_dir() or self.sibling_with_same_stem():
            return []
        pattern = re.compile(_LEGACY_KEPT.format(stem=re.escape(self.published.stem)))
        return sorted(p for p in old.iterdir() if pattern.match(p.name) and p.is_file())

    def sibling_with_same_stem(self) -> Path | None:
        for p in self.folder.glob(f"{glob_escape(self.published.stem)}.*"):
            if p.name != self.name and p.stem == self.published.stem and p.is_file() \
                    and not p.name.endswith(DERIVED_SUFFIXES) and CORRUPT_INFIX not in p.name:
                return p
        return None

    @staticmethod
    def legacy_stamp(path: Path) -> str:
        return path.name.rsplit("-", 1)[1].removesuffix(".duckdb")


def unwritable(path: Path) -> str | None:
    """Why this process cannot write in `path` (a folder not made yet counts as its nearest
    existing parent), or None."""
    target = next(p for p in (path, *path.parents) if p.exists())
    if os.access(target, os.W_OK) and not _read_only_fs(target):
        return None
    why = "is on a read-only file system" if _read_only_fs(target) else "is not writable by this user"
    return f"{target} {why}"


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def derived_name_problem(path: Path) -> str | None:
    """Why a path cannot be a warehouse's published file because it is named like a file some
    warehouse derives, or None."""
    name = path.name
    if name.startswith(".") and name.endswith(".build"):
        return "it is named like a warehouse's scratch folder"
    for suffix in DERIVED_SUFFIXES:
        if name.endswith(suffix):
            return f"names ending in {suffix} belong to a warehouse's own files"
    if CORRUPT_INFIX in name:
        return f"names holding {CORRUPT_INFIX} are damaged files moved aside"
    return None
