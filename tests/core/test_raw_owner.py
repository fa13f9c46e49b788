"""A raw folder holds one warehouse's fetch log (issue 16): the first warehouse to use it claims it
(a path relative to the folder, so a project moved or copied whole keeps it); another warehouse is
refused before anything is fetched or written. Real folders; milliseconds each."""

from __future__ import annotations

import shutil

import pytest

from orchestration.core.archive import Archive, RawFolderTaken
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings


def test_the_first_warehouse_claims_the_folder_and_another_is_refused(tmp_path):
    archive = Archive(tmp_path / "raw")
    archive.claim(tmp_path / "w" / "kfor.duckdb")
    assert archive.owner() == "../w/kfor.duckdb"
    archive.claim(tmp_path / "w" / "kfor.duckdb")  # its own: fine, again and again
    with pytest.raises(RawFolderTaken, match=r"kfor-staging\.duckdb"):
        archive.claim(tmp_path / "w" / "kfor-staging.duckdb")
    assert archive.owner() == "../w/kfor.duckdb"  # unchanged by the refusal


def test_a_project_copied_whole_keeps_its_claim(tmp_path):
    Archive(tmp_path / "a" / "raw").claim(tmp_path / "a" / "w" / "kfor.duckdb")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    Archive(tmp_path / "b" / "raw").claim(tmp_path / "b" / "w" / "kfor.duckdb")


def test_a_session_refuses_a_raw_folder_another_warehouse_owns(raw_dir, monkeypatch, tmp_path):
    Archive(raw_dir).claim(tmp_path / "elsewhere" / "kfor.duckdb")
    settings = Settings.from_env()
    with pytest.raises(RawFolderTaken), warehouse_session(settings):
        pass
    assert not Archive(raw_dir).log_path.exists()  # refused before recovery wrote anything


def test_status_never_shows_another_warehouses_fetches(raw_dir, tmp_path, capsys):
    from orchestration.drivers.status import status
    Archive(raw_dir).claim(tmp_path / "elsewhere" / "kfor.duckdb")
    with pytest.raises(RawFolderTaken):
        status(Settings.from_env())


@pytest.mark.parametrize("warehouse", ["other.duckdb", "postgresql://kfor@127.0.0.1:{port}/kfor"])
def test_a_refresh_refused_for_another_warehouses_folder_writes_nothing_there(
        warehouse, raw_dir, monkeypatch, tmp_path, capsys):
    """Not even the refusal is logged in the other warehouse's fetch log (also when this one's
    lock cannot be taken: a server nothing listens on)."""
    from support.postgres import free_port

    from orchestration.drivers.cli import main

    Archive(raw_dir).claim(tmp_path / "elsewhere" / "kfor.duckdb")
    monkeypatch.setenv("KFOR_WAREHOUSE", warehouse.format(port=free_port())
                       if "{" in warehouse else str(tmp_path / warehouse))
    assert main(["refresh", "--source", "file:///nowhere.html"]) == 1
    assert capsys.readouterr().err.startswith(f"failed: KFOR_RAW_DIR={raw_dir} holds the fetch log")
    assert not Archive(raw_dir).log_path.exists()
