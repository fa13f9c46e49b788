"""Warehouses side by side (issues 16 and 17), as users keep them: prod and staging in one folder
(names sharing a prefix), each with its own raw archive, under one Dagster instance. Refreshes, an
import, a rollback and a kill of one never read, publish, prune, list or log the other's state.
The folder's name holds a template (`{{ 7*7 }}`): no setting is ever rendered by dbt's Jinja."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
from reliability.harness import KFOR, kfor
from support import pages
from support.fetch_log import fetches
from support.warehouse import file_sha256, query

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


def test_prod_and_staging_share_a_folder_and_an_instance(tmp_path, page_server):
    root = tmp_path / "{{ 7*7 }}"
    v1 = page_server.route("/v1.htm", body=pages.v1(), headers=HTML)
    v2 = page_server.route("/v2.htm", body=pages.v2(), headers=HTML)
    prod, staging = env_of(root, "kfor"), env_of(root, "kfor-staging")
    assert kfor("refresh", "--source", v1, env=prod).returncode == 0
    saved = tmp_path / "saved.html"  # staging starts from an import of a saved page
    saved.write_bytes(pages.v1())
    out = kfor("import", str(saved), "--captured-at", "2023-11-21T08:00:00Z", env=staging)
    assert out.returncode == 0 and "1 new versions" in out.stdout, out.stderr
    out = kfor("refresh", "--source", v2, env=prod)
    assert out.returncode == 0, out.stderr
    folder = root / "warehouse"
    assert not (tmp_path / "49").exists()
    staging_file = folder / "kfor-staging.duckdb"
    staging_before = file_sha256(staging_file)

    listed = kfor("rollback", "--list", env=prod).stdout.splitlines()
    assert len(listed) == 1 and listed[0].startswith(str(folder / "kfor.duckdb.history"))
    assert kfor("rollback", "--list", env=staging).stdout == ""
    out = kfor("rollback", env=prod)
    assert out.returncode == 0 and out.stdout.startswith("rolled back: "), out.stderr
    assert query(folder / "kfor.duckdb", "SELECT count(*) FROM marts.fct_command_tenure") == [(28,)]
    refused = kfor("rollback", env=staging)  # staging has nothing kept: refused, nothing moves
    assert refused.returncode == 1 and refused.stderr.startswith("refused: nothing to roll back")
    assert file_sha256(staging_file) == staging_before

    # prod killed mid-refresh; staging's next refresh logs only its own fetches
    run = subprocess.Popen([KFOR, "refresh", "--source", v2, "--retry"],
                           env={**os.environ, **prod}, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    dbt = wait_for_dbt(run.pid)  # killed in its dbt step: the dbt child dies with it
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert psutil.wait_procs(dbt, timeout=10)[1] == [], "a dbt process outlived its refresh"
    out = kfor("refresh", "--source", v1, env=staging)
    assert out.returncode == 0 and out.stdout.startswith("unchanged: "), out.stderr
    assert [(r["source"], r["outcome"]) for r in fetches(root / "raw-kfor-staging")] == [
        ("import", "published"), ("live", "unchanged")]
    assert file_sha256(staging_file) == staging_before
    assert sorted(p.name for p in folder.iterdir() if "staging" in p.name) == [
        ".kfor-staging.duckdb.build", "kfor-staging.duckdb", "kfor-staging.duckdb.exports",
        "kfor-staging.duckdb.lock"]
    # prod's next refresh settles its own interrupted fetch
    out = kfor("refresh", "--source", v1, env=prod)
    assert out.returncode == 0, out.stderr
    assert "note: logged an interrupted refresh as failed" in out.stderr
    assert [r["outcome"] for r in fetches(root / "raw-kfor")][-2:] == [
        "failed: interrupted", "unchanged"]
