"""The Parquet export (orchestration/export.py) of marts and snapshots: one complete folder per
export, a `current` link swapped atomically, older folders pruned, stale temporaries of a crashed
export removed."""

from __future__ import annotations

import json
import os
import threading

import duckdb
import pytest
from support.warehouse import file_sha256, query

from orchestration.core.export import (
    CURRENT,
    MANIFEST,
    current_folder,
    export_parquet,
    version_folders,
)


@pytest.fixture(scope="module")
def version(built_warehouse) -> str:
    return query(built_warehouse, "SELECT content_sha256 FROM marts.meta")[0][0]


@pytest.fixture(scope="module")
def mart_counts(built_warehouse) -> dict[str, int]:
    """Row counts of every table of marts and snapshots (the export's scope)."""
    tables = query(built_warehouse, "SELECT schema_name, table_name FROM duckdb_tables() "
                   "WHERE schema_name IN ('marts', 'snapshots') ORDER BY 1, 2")
    assert any(s == "marts" for s, _ in tables)
    return {t: query(built_warehouse, f'SELECT count(*) FROM {s}."{t}"')[0][0] for s, t in tables}


def parquet_count(path) -> int:
    return duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]


def test_export_writes_every_mart_as_parquet(built_warehouse, tmp_path, version, mart_counts):
    before = file_sha256(built_warehouse)
    folder = export_parquet(built_warehouse, tmp_path / "parquet", version)
    assert file_sha256(built_warehouse) == before  # opened read-only
    assert folder.parent == tmp_path / "parquet"
    assert folder.name.endswith("-" + version[:12]) and folder.name[:8].isdigit()
    assert current_folder(tmp_path / "parquet") == folder
    assert os.readlink(tmp_path / "parquet" / CURRENT) == folder.name  # relative link
    files = sorted(p.name for p in folder.glob("*.parquet"))
    assert files == sorted(f"{t}.parquet" for t in mart_counts)
    for table, n in mart_counts.items():
        assert parquet_count(tmp_path / "parquet" / CURRENT / f"{table}.parquet") == n, table
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["version"] == version
    assert manifest["page_last_updated"].startswith("2023-11-20")
    assert {t: m["rows"] for t, m in manifest["tables"].items()} == mart_counts
    assert manifest["tables"]["fct_command_tenure"]["columns"]["start_date"] == "DATE"
    # the same data, column for column
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        diff = con.execute(
            "SELECT count(*) FROM (SELECT * FROM marts.fct_command_tenure EXCEPT ALL "
            f"SELECT * FROM read_parquet('{folder}/fct_command_tenure.parquet'))").fetchone()[0]
    finally:
        con.close()
    assert diff == 0


def test_a_second_export_of_the_same_version_keeps_both(built_warehouse, tmp_path, version):
    root = tmp_path / "parquet"
    first = export_parquet(built_warehouse, root, version)
    second = export_parquet(built_warehouse, root, version)
    assert first != second and first.exists() and second.exists()
    assert version_folders(root) == [first, second]
    assert current_folder(root) == second


def test_older_folders_are_pruned_beyond_keep_never_current(built_warehouse, tmp_path, version):
    root = tmp_path / "parquet"
    made = [export_parquet(built_warehouse, root, version, keep=2) for _ in range(4)]
    assert version_folders(root) == made[-2:]
    assert current_folder(root) == made[-1]
    # a folder newer than current (a crash between rename and swap) never pushes current out
    newer = root / "29991231T000000000000Z-ffffffffffff"
    newer.mkdir()
    export_parquet(built_warehouse, root, version, keep=1)
    current = current_folder(root)
    assert current.exists() and current in version_folders(root)


def test_stale_temporaries_of_a_crashed_export_are_removed(built_warehouse, tmp_path, version):
    root = tmp_path / "parquet"
    first = export_parquet(built_warehouse, root, version)
    stale = root / ".tmp-20240101T000000000000Z-deadbeefdead.12345"
    stale.mkdir()
    (stale / "dim_date.parquet").write_bytes(b"half a file")
    os.symlink("nowhere", root / "current.tmp")
    second = export_parquet(built_warehouse, root, version)
    assert not stale.exists() and not os.path.lexists(root / "current.tmp")
    assert version_folders(root) == [first, second]


def test_a_failed_export_leaves_current_as_it_was(built_warehouse, tmp_path, version,
                                                  monkeypatch):
    root = tmp_path / "parquet"
    first = export_parquet(built_warehouse, root, version)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("orchestration.core.export._write_file", crash)  # dies writing the manifest
    with pytest.raises(OSError, match="disk full"):
        export_parquet(built_warehouse, root, version)
    assert current_folder(root) == first
    assert version_folders(root) == [first]
    assert [p.name for p in root.iterdir() if p.name.startswith(".tmp-")] == []


def test_an_export_refuses_a_version_that_is_not_the_files(built_warehouse, tmp_path):
    with pytest.raises(ValueError, match="does not match"):
        export_parquet(built_warehouse, tmp_path / "parquet", "0123456789abcdef")
    with pytest.raises(ValueError):
        export_parquet(built_warehouse, tmp_path / "parquet", "x", keep=0)


def test_readers_of_current_always_see_one_complete_set(built_warehouse, tmp_path, version,
                                                        mart_counts):
    """While exports run back to back, a reader that resolves `current` once finds a complete
    folder every time: a manifest, and every file it lists with its row count."""
    root = tmp_path / "parquet"
    export_parquet(built_warehouse, root, version)
    stop, seen, errors = threading.Event(), set(), []

    def reader():
        while not stop.is_set():
            try:
                folder = root / os.readlink(root / CURRENT)
                manifest = json.loads((folder / MANIFEST).read_text())
                for table, meta in manifest["tables"].items():
                    assert parquet_count(folder / meta["file"]) == meta["rows"] == \
                        mart_counts[table]
                seen.add(folder.name)
            except FileNotFoundError as e:  # only a folder pruned under a slow reader
                if (root / os.readlink(root / CURRENT)).name == folder.name:
                    errors.append(repr(e))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(6):
            export_parquet(built_warehouse, root, version, keep=3)
    finally:
        stop.set()
        thread.join(30)
    assert errors == []
    assert len(seen) >= 2  # the reader saw `current` switch
