"""Shared fixtures. Every test runs against its own warehouse and raw archive in a temporary
folder; nothing touches the repository's warehouse/ or raw/, and nothing reaches the internet."""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.isolation import isolate  # noqa: E402

from orchestration.core import layout as paths  # noqa: E402
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
def built_warehouse(v1_template) -> Path:
    """The warehouse of the bundled snapshot (v1), shared read-only: `v1_template`'s."""
    return v1_template / "warehouse" / "kfor.duckdb"


SESSION_WAREHOUSE = {"v1_template", "built_warehouse", "published_v1"}


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle, whose order it keeps in a group
def pytest_collection_modifyitems(items):
    """Hand files out in the order that keeps both xdist workers busy to the end (loadfile, in
    collection order): first the files that need no built warehouse (they run while the
    controller builds the session's), then the files that build their own (`builds(n)`, most
    builds first, so no 60-second file starts last), then the rest."""
    def group(item) -> tuple[int, int]:
        builds = item.get_closest_marker("builds")
        if builds:
            return 1, -builds.args[0]
        return (2 if by_file[item.path] else 0), 0

    by_file: dict = {}
    for item in items:
        by_file[item.path] = by_file.get(item.path, False) or bool(SESSION_WAREHOUSE & set(item.fixturenames))
    items.sort(key=group)


V1_ENV = "KFOR_TEST_V1_TEMPLATE"  # where this run's v1 template is, for all its workers


def pytest_configure(config):
    """The controller of an xdist run names the v1 template's place for its workers and, when the
    whole suite runs, builds it in the background while the workers collect and run unit tests
    (otherwise the first worker to need it builds it, the others wait on its lock)."""
    if hasattr(config, "workerinput") or V1_ENV in os.environ:
        return
    root = Path(tempfile.mkdtemp(prefix="kfor-tests-"))
    os.environ[V1_ENV] = str(root)
    config.stash[_V1_ROOT] = root
    if config.getoption("numprocesses", None) and not config.option.file_or_dir:
        thread = threading.Thread(target=v1_under_lock, args=(root,), daemon=True)
        thread.start()
        config.stash[_V1_BUILD] = thread


def pytest_unconfigure(config):
    root = config.stash.get(_V1_ROOT, None)
    if root is not None:
        thread = config.stash.get(_V1_BUILD, None)
        if thread is not None:
            thread.join()
        shutil.rmtree(root, ignore_errors=True)
        os.environ.pop(V1_ENV, None)


_V1_ROOT = pytest.StashKey[Path]()
_V1_BUILD = pytest.StashKey[threading.Thread]()


@pytest.fixture(scope="session")
def v1_template() -> Path:
    """warehouse/, raw/ and an instance with v1 (the bundled snapshot) published by `kfor refresh
    --source http://127.0.0.1:.../`, built once per run (shared by xdist's workers): copied by
    `published_v1` for tests that write, read in place by `built_warehouse` for tests that read."""
    return v1_under_lock(Path(os.environ[V1_ENV]))


def v1_under_lock(shared: Path) -> Path:
    """The template in `shared`, built by whoever takes the lock first."""
    root = shared / "v1-published"
    with open(shared / "v1-published.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "warehouse" / "kfor.duckdb").exists():
            shutil.rmtree(root, ignore_errors=True)  # a build that failed half-way
            build_v1(root)
    return root


def build_v1(root: Path) -> Path:
    from reliability.harness import kfor
    from support import pages
    from support.http_server import PageServer

    env = {"KFOR_WAREHOUSE": str(root / "warehouse" / "kfor.duckdb"),
           "KFOR_RAW_DIR": str(root / "raw"), "DAGSTER_HOME": str(root / "dagster_home")}
    with PageServer() as s:
        url = s.route("/topics_48818.htm", body=pages.v1(),
                      headers={"Content-Type": "text/html; charset=utf-8"})
        out = kfor("refresh", "--source", url, env=env)
    assert out.returncode == 0, out.stderr
    return root


@pytest.fixture
def published_v1(v1_template, isolated, warehouse_path) -> Path:
    """v1 published in this test's warehouse (KFOR_WAREHOUSE), raw archive (KFOR_RAW_DIR) and
    instance (DAGSTER_HOME)."""
    from reliability.harness import copy_tree

    copy_tree(v1_template, isolated)
    assert warehouse_path.exists()
    return warehouse_path


@pytest.fixture
def receiver(monkeypatch):
    """A webhook receiver on 127.0.0.1, set as KFOR_WEBHOOK_URL for the test."""
    from reliability.faults import WebhookReceiver

    with WebhookReceiver() as r:
        monkeypatch.setenv("KFOR_WEBHOOK_URL", r.url())
        settings.get.cache_clear()
        yield r


def pytest_terminal_summary(terminalreporter):
    """One line, on a machine without Postgres's initdb and pg_ctl, saying that the Postgres tests
    (tests/postgres/, CI's slow layer) were skipped and how to enable them. Here, not in
    tests/postgres/: under xdist only the controller reports, and it collects nothing."""
    from support.postgres import SKIP_REASON, binaries

    if binaries() is None:
        terminalreporter.write_line(SKIP_REASON)
