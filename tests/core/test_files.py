"""A warehouse owns its files (issue 16): each is found from the warehouse's full path exactly,
so `kfor.duckdb`, `kfor-staging.duckdb` and `kfor.db` in one folder never share or list one."""

from __future__ import annotations

from pathlib import Path

from orchestration.core.files import WarehouseFiles
from orchestration.core.publish import move_legacy_history


def test_every_file_is_named_after_the_full_name(tmp_path):
    f = WarehouseFiles(tmp_path / "kfor.duckdb")
    assert [p.name for p in (f.lock, f.build_dir, f.history, f.exports)] == [
        "kfor.duckdb.lock", ".kfor.duckdb.build", "kfor.duckdb.history", "kfor.duckdb.exports"]
    assert f.build == tmp_path / ".kfor.duckdb.build" / "kfor.duckdb"  # dbt's catalog name
    assert f.parquet.parent == f.img.parent == f.exports


def test_warehouses_sharing_a_folder_share_no_path(tmp_path):
    names = ["kfor.duckdb", "kfor-staging.duckdb", "kfor.db", "kfor"]
    owned = [set(WarehouseFiles(tmp_path / n).owned()) | {WarehouseFiles(tmp_path / n).build}
             for n in names]
    for i, a in enumerate(owned):
        for b in owned[i + 1:]:
            assert not a & b


def test_kept_versions_are_listed_by_exact_name_only(tmp_path):
    f = WarehouseFiles(tmp_path / "kfor.duckdb")
    f.history.mkdir()
    kept = f.history / "20231120T172400123456Z.duckdb"
    kept.write_bytes(b"x")
    for stray in ("notes.txt", "20231120T172400Z.duckdb", "kfor-20231120T172400123456Z.duckdb"):
        (f.history / stray).write_bytes(b"x")
    assert f.kept() == [kept]
    assert WarehouseFiles(tmp_path / "kfor-staging.duckdb").kept() == []


def legacy(folder: Path, *names: str) -> None:
    (folder / "history").mkdir(exist_ok=True)
    for name in names:
        (folder / "history" / name).write_bytes(name.encode())


def test_the_old_shared_history_is_moved_once_by_exact_name(tmp_path):
    legacy(tmp_path, "kfor-20231120T172400123456Z.duckdb",
           "kfor-staging-20231121T000000000000Z.duckdb")
    (tmp_path / "kfor.duckdb").write_bytes(b"")
    (tmp_path / "kfor-staging.duckdb").write_bytes(b"")
    prod, staging = WarehouseFiles(tmp_path / "kfor.duckdb"), \
        WarehouseFiles(tmp_path / "kfor-staging.duckdb")
    assert len(move_legacy_history(prod)) == 1
    assert [p.name for p in prod.kept()] == ["20231120T172400123456Z.duckdb"]
    assert (prod.kept()[0].read_bytes()) == b"kfor-20231120T172400123456Z.duckdb"
    assert move_legacy_history(prod) == []  # once
    assert len(move_legacy_history(staging)) == 1
    assert [p.name for p in staging.kept()] == ["20231121T000000000000Z.duckdb"]


def test_the_old_history_of_a_shared_stem_is_left_and_said(tmp_path):
    """`kfor.duckdb` and `kfor.db` both had the stem `kfor`: the old files could be either's."""
    legacy(tmp_path, "kfor-20231120T172400123456Z.duckdb")
    (tmp_path / "kfor.duckdb").write_bytes(b"")
    (tmp_path / "kfor.db").write_bytes(b"")
    notes = move_legacy_history(WarehouseFiles(tmp_path / "kfor.duckdb"))
    assert len(notes) == 1 and "by hand" in notes[0]
    assert (tmp_path / "history" / "kfor-20231120T172400123456Z.duckdb").exists()
