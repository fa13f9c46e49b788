"""Shared fixtures. Every test runs against its own warehouse and raw archive in a temporary
folder; nothing touches the repository's warehouse/ or raw/, and nothing reaches the internet."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.isolation import isolate  # noqa: E402

from orchestration.core import layout as paths
from orchestration.core import settings  # noqa: E402

SNAPSHOT = paths.bundled_snapshot()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """KFOR_WAREHOUSE, KFOR_RAW_DIR and DAGSTER_HOME under tmp_path; no source URL, webhook or
    cron override. Settings are read once per process: the cache is cleared around each test."""
    isolate(monkeypatch, tmp_path)
    yield tmp_path
    settings.get.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """The dbt project prepared (what `make setup` does with dagster-dbt's own command)."""
    manifest = paths.DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        import subprocess

        subprocess.run([str(Path(sys.executable).with_name("dagster-dbt")), "project",
                        "prepare-and-package", "--file", str(ROOT / "orchestration" / "project.py")],
                       check=True, capture_output=True)
    return manifest


@pytest.fixture
def snapshot_bytes() -> bytes:
    return SNAPSHOT.read_bytes()


@pytest.fixture
def page_server():
    from support.http_server import PageServer

    with PageServer() as server:
        yield server


@pytest.fixture
def warehouse_path() -> Path:
    return Path(os.environ["KFOR_WAREHOUSE"])


@pytest.fixture
def raw_dir() -> Path:
    return Path(os.environ["KFOR_RAW_DIR"])


@pytest.fixture
def dagster_home() -> Path:
    return Path(os.environ["DAGSTER_HOME"])


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> Path:
    """One warehouse built from the bundled snapshot by `kfor refresh`, shared read-only."""
    from orchestration.drivers.cli import main

    root = tmp_path_factory.mktemp("built")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root)
        assert main(["refresh", "--source", SNAPSHOT.as_uri()]) == 0
    settings.get.cache_clear()
    return root / "warehouse" / "kfor.duckdb"
