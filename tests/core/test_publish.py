"""The publish protocol on real DuckDB files (milliseconds each): one atomic rename, the replaced
file kept in the warehouse's own history and pruned to KFOR_KEEP, a damaged file moved aside, a
rollback that completes whatever KFOR_KEEP is, and warehouses in one folder that never touch each
other's kept versions (issue 16)."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.core.files import WarehouseFiles
from orchestration.core.publish import (
    publish,
    publish_kept,
    read_meta,
    seal,
    start_build,
    wal,
    warehouse_problem,
)


def make(path, version: str):
    """A minimal readable warehouse: marts.meta with one row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.meta AS SELECT ? AS content_sha256", [version])
    con.close()
    return path


def build(files: WarehouseFiles, version: str):
    start_build(files, empty=True)
    make(files.build, version)
    seal(files.build)
    assert not wal(files.build).exists()
    return files.build


def versions(paths) -> list[str]:
    return [read_meta(p)["content_sha256"] for p in paths]


def test_publish_renames_and_keeps_the_replaced_file(tmp_path):
    f = WarehouseFiles(tmp_path / "kfor.duckdb")
    assert publish(f, build(f, "v1"), keep=5) is None  # nothing to keep yet
    inode = f.published.stat().st_ino
    kept = publish(f, build(f, "v2"), keep=5)
    assert read_meta(f.published)["content_sha256"] == "v2"
    assert kept.stat().st_ino == inode  # the replaced file itself, by a second name
    assert versions(f.kept()) == ["v1"] and not f.build.exists()


def test_kept_versions_are_pruned_to_keep_and_keep_0_keeps_none(tmp_path):
    f = WarehouseFiles(tmp_path / "kfor.duckdb")
    for v in ("v1", "v2", "v3", "v4"):
        publish(f, build(f, v), keep=2)
    assert versions(f.kept()) == ["v2", "v3"]
    publish(f, build(f, "v5"), keep=0)
    assert f.kept() == []


def test_a_damaged_published_file_is_moved_aside_never_kept(tmp_path, capsys):
    f = WarehouseFiles(tmp_path / "kfor.duckdb")
    f.published.write_bytes(b"not a database" * 100)
    publish(f, build(f, "v1"), keep=5)
    aside = list(tmp_path.glob("kfor.duckdb.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"not a database")
    assert f.kept() == [] and "moved aside" in capsys.readouterr().err


@pytest.mark.parametrize("keep", [0, 1, 5])
def test_a_rollback_publishes_a_kept_file_whatever_keep_is(tmp_path, keep):
    f = WarehouseFiles(tmp_path / "kfor.duckdb")
    publish(f, build(f, "v1"), keep=5)
    publish(f, build(f, "v2"), keep=5)
    (source,) = f.kept()
    replaced = publish_kept(f, source, keep=keep)
    assert read_meta(f.published)["content_sha256"] == "v1"
    assert not source.exists()
    assert versions(f.kept()) == (["v2"] if keep else [])
    assert (replaced is not None) == bool(keep)
    assert warehouse_problem(f.published, thorough=True) is None


def test_warehouses_in_one_folder_keep_and_prune_only_their_own(tmp_path):
    names = ["kfor.duckdb", "kfor-staging.duckdb", "kfor.db"]
    all_files = [WarehouseFiles(tmp_path / n) for n in names]
    for round_ in range(4):
        for i, f in enumerate(all_files):
            publish(f, build(f, f"{i}-v{round_}"), keep=2)
    for i, f in enumerate(all_files):
        assert versions(f.kept()) == [f"{i}-v1", f"{i}-v2"]
        assert read_meta(f.published)["content_sha256"] == f"{i}-v3"
    prod = all_files[0]
    publish_kept(prod, prod.kept()[-1], keep=2)  # roll prod back: the others do not move
    assert read_meta(prod.published)["content_sha256"] == "0-v2"
    for i, f in enumerate(all_files[1:], start=1):
        assert versions(f.kept()) == [f"{i}-v1", f"{i}-v2"]
