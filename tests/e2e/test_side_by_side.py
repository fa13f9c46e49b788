"""Warehouses side by side (issues 16 and 17), as users keep them: prod and staging in one folder
(names sharing a prefix), each with its own raw archive, under one Dagster instance. Refreshes, an
import, a rollback and a kill of one never read, publish, prune, list or log the other's state.
The folder's name holds a template (`{{ 7*7 }}`): no setting is ever rendered by dbt's Jinja."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import psutil
import pytest
from reliability.harness import KFOR, kfor
from support import pages
from support.fetch_log import fetches
from support.warehouse import file_sha256, query

pytestmark = pytest.mark.builds(2)  # tests/conftest.py hands it out early

HTML = {"Content-Type": "text/html; charset=utf-8"}


def env_of(root, name: str) -> dict:
    return {"KFOR_WAREHOUSE": str(root / "warehouse" / f"{name}.duckdb"),
            "KFOR_RAW_DIR": str(root / f"raw-{name}"), "DAGSTER_HOME": str(root / "dagster_home")}


def wait_for_dbt(pid: int, timeout: float = 120) -> list[psutil.Process]:
    """The dbt processes a refresh started, once its dbt step runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = [c for c in psutil.Process(pid).children(recursive=True)
                    if "kfor-dbt" in " ".join(c.cmdline()) and "build" in c.cmdline()]
        if children:
            return children
        time.sleep(0.05)
    raise AssertionError("the refresh never reached its dbt step")


def start_from(template, root, name: str) -> None:
    """The session's v1 warehouse, raw archive and instance as warehouse `name` under `root`."""
    shutil.copytree(template / "warehouse", root / "warehouse", symlinks=True)
    shutil.copytree(template / "raw", root / f"raw-{name}", symlinks=True)
    shutil.copytree(template / "dagster_home", root / "dagster_home", symlinks=True)


@pytest.fixture
def pair(tmp_path, page_server, v1_template) -> dict:
    """Prod with v1 published (the session's refresh) and staging with v1 imported from a saved
    page, in one folder whose name holds a template, under one instance."""
    root = tmp_path / "{{ 7*7 }}"
    urls = {name: page_server.route(f"/{name}.htm", body=getattr(pages, name)(), headers=HTML)
            for name in ("v1", "v2")}
    prod, staging = env_of(root, "kfor"), env_of(root, "kfor-staging")
    start_from(v1_template, root, "kfor")
    saved = tmp_path / "saved.html"
    saved.write_bytes(pages.v1())
    out = kfor("import", str(saved), "--captured-at", "2023-11-21T08:00:00Z", env=staging)
    assert out.returncode == 0 and "1 new versions" in out.stdout, out.stderr
    assert not (tmp_path / "49").exists()
    staging_file = root / "warehouse" / "kfor-staging.duckdb"
    return {"root": root, "folder": root / "warehouse", "urls": urls, "prod": prod,
            "staging": staging, "staging_file": staging_file,
            "staging_sha": file_sha256(staging_file)}


def test_prod_and_staging_share_a_folder_and_an_instance(pair):
    folder, prod, staging, urls = pair["folder"], pair["prod"], pair["staging"], pair["urls"]
    out = kfor("refresh", "--source", urls["v2"], env=prod)
    assert out.returncode == 0, out.stderr
    listed = kfor("rollback", "--list", env=prod).stdout.splitlines()
    assert len(listed) == 1 and listed[0].startswith(str(folder / "kfor.duckdb.history"))
    assert kfor("rollback", "--list", env=staging).stdout == ""
    out = kfor("rollback", env=prod)
    assert out.returncode == 0 and out.stdout.startswith("rolled back: "), out.stderr
    assert query(folder / "kfor.duckdb", "SELECT count(*) FROM marts.fct_command_tenure") == [(28,)]
    refused = kfor("rollback", env=staging)  # staging has nothing kept: refused, nothing moves
    assert refused.returncode == 1 and refused.stderr.startswith("refused: nothing to roll back")

    out = kfor("refresh", "--source", urls["v1"], env=staging)  # staging logs only its fetches
    assert out.returncode == 0 and out.stdout.startswith("unchanged: "), out.stderr
    assert [(r["source"], r["outcome"]) for r in fetches(pair["root"] / "raw-kfor-staging")] == [
        ("import", "published"), ("live", "unchanged")]
    assert file_sha256(pair["staging_file"]) == pair["staging_sha"]
    assert sorted(p.name for p in folder.iterdir() if "staging" in p.name) == [
        ".kfor-staging.duckdb.build", "kfor-staging.duckdb", "kfor-staging.duckdb.exports",
        "kfor-staging.duckdb.lock"]
    out = kfor("refresh", "--source", urls["v2"], env=prod)  # the rollback holds
    assert out.returncode == 0 and "rollback holds" in out.stdout, out.stdout


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_kill_of_prods_refresh_leaves_staging_alone(pair):
    prod, staging, urls = pair["prod"], pair["staging"], pair["urls"]
    run = subprocess.Popen([KFOR, "refresh", "--source", urls["v2"]],
                           env={**os.environ, **prod}, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    dbt = wait_for_dbt(run.pid)  # killed in its dbt step: the dbt child dies with it
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert psutil.wait_procs(dbt, timeout=10)[1] == [], "a dbt process outlived its refresh"
    out = kfor("refresh", "--source", urls["v1"], env=staging)
    assert out.returncode == 0 and out.stdout.startswith("unchanged: "), out.stderr
    assert "interrupted" not in out.stderr
    assert file_sha256(pair["staging_file"]) == pair["staging_sha"]
    out = kfor("refresh", "--source", urls["v1"], env=prod)  # prod settles its own fetch
    assert out.returncode == 0, out.stderr
    assert "note: logged an interrupted refresh as failed" in out.stderr
    assert [r["outcome"] for r in fetches(pair["root"] / "raw-kfor")][-2:] == [
        "failed: interrupted", "unchanged"]
