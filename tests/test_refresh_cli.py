"""`kfor refresh` end to end, as a user runs it: a real process, a real HTTP server on 127.0.0.1,
a real DuckDB file read back with the DuckDB shell analysts use (duckdb-cli)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.fetch_log import fetches
from support.warehouse import file_sha256, query

from orchestration.core.files import WarehouseFiles

BIN = Path(sys.executable).parent


def kfor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kfor"), *args], capture_output=True, text=True, timeout=300,
                          env=os.environ.copy())


def test_an_unchanged_page_is_fetched_conditionally_and_writes_nothing(published_v1, page_server,
                                                                       snapshot_bytes, raw_dir):
    url = page_server.route("/topics_48818.htm", body=snapshot_bytes,
                            headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'})
    before = file_sha256(published_v1)
    for status in (200, 304):  # the second fetch sends the first one's validator
        out = kfor("refresh", "--source", url)
        assert out.returncode == 0 and out.stderr == "", out.stderr
        assert out.stdout.startswith("unchanged: page version ") and out.stdout.count("\n") == 1
        assert fetches(raw_dir)[-1]["status"] == status
    assert page_server.requests[-1]["headers"].get("If-None-Match") == '"v1"'
    # nothing is written: the warehouse's fetch bookkeeping is as of its build; status reads the log
    assert file_sha256(published_v1) == before
    assert query(published_v1, "SELECT fetch_count FROM marts.fct_page_version") == [(1,)]
    assert [r["outcome"] for r in fetches(raw_dir)] == ["published", "unchanged", "unchanged"]
    assert not WarehouseFiles(published_v1).build.exists()


def test_duckdb_shell_queries_the_published_file_read_only(built_warehouse):
    """duckdb-cli 1.5.6 (what analysts use) opens the file the refresh wrote."""
    out = subprocess.run([str(BIN / "duckdb"), "-readonly", "-csv", str(built_warehouse), "-c",
                          "SELECT count(*) FROM marts.fct_command_tenure; SELECT version();"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[1] == "28"
    assert "v1.5" in out.stdout


def test_an_unchanged_refresh_records_itself_without_loading_dbt(published_v1, page_server,
                                                                 snapshot_bytes, dagster_home):
    url = page_server.route("/p.htm", body=snapshot_bytes)
    probe = ("import sys; from orchestration.drivers.cli import main; rc = main(['refresh', '--source', "
             f"{url!r}]); heavy = sorted({{m.split('.')[0] for m in sys.modules}} & "
             "{'dbt', 'dagster', 'dagster_dbt'}); print(rc, heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, env=os.environ.copy())
    assert out.stdout.strip().endswith("0 ['dagster']"), out.stdout + out.stderr
    import dagster as dg

    instance = dg.DagsterInstance.get()  # DAGSTER_HOME: the test's own instance
    assert instance.root_directory == str(dagster_home)
    states = [r.asset_observation.metadata["state"].value
              for r in instance.fetch_observations(dg.AssetKey("page"), limit=10).records]
    assert states == ["unchanged", "changed"]  # newest first: one observation per check


def test_offline_the_live_page_falls_back_to_the_archived_version(monkeypatch, published_v1,
                                                                  raw_dir, capsys):
    """Offline, the live page's refresh reads the archive instead: the version published last,
    so nothing is built (`make run` offline builds from the bundled snapshot)."""
    from orchestration.core import layout as paths
    from orchestration.drivers.cli import main

    before = file_sha256(published_v1)
    # the "live" URL on a closed local port: a connection error, as offline
    monkeypatch.setattr(paths, "LIVE_URL", "http://127.0.0.1:9/topics_48818.htm")
    monkeypatch.setattr("orchestration.core.fetch.FetchPolicy.backoff", 0.01)
    assert main(["refresh"]) == 0
    out, err = capsys.readouterr()
    err = err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: cannot connect to 127.0.0.1")
    assert "offline, so using the archived version published" in err[0]
    assert out.startswith("unchanged: ")
    log = fetches(raw_dir)
    assert log[-1]["source"] == "archive" and log[-1]["outcome"] == "unchanged"
    assert file_sha256(published_v1) == before


def test_an_explicit_source_that_fails_fails(page_server, warehouse_path, raw_dir):
    url = page_server.route("/gone.htm", status=404, body=b"gone")
    out = kfor("refresh", "--source", url)
    assert out.returncode == 1
    assert out.stderr.strip() == f"failed: HTTP 404 from {url}"
    assert not warehouse_path.exists()
    log = fetches(raw_dir)
    assert log[-1]["outcome"] == f"failed: HTTP 404 from {url}"


@pytest.mark.extended  # beyond CI's 20 minutes (status --json end to end: test_pg_refresh.py)
def test_status_reports_the_published_version_and_refreshes(page_server, snapshot_bytes):
    url = page_server.route("/p.htm", body=snapshot_bytes)
    kfor("refresh", "--source", url)
    out = kfor("status", "--json")
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["published"]["page_last_updated"].startswith("2023-11-20 17:24")
    assert status["row_counts"]["fct_command_tenure"] == 28
    assert status["stale"] is False
    assert [r["outcome"] for r in status["refreshes"]] == ["published"]


def test_kfor_sql_runs_one_query_read_only(built_warehouse, monkeypatch):
    monkeypatch.setenv("KFOR_WAREHOUSE", str(built_warehouse))
    out = kfor("sql", "--csv", "-c", "SELECT count(*) AS n FROM marts.dim_commander")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["n", "28"]
    writes = kfor("sql", "-c", "CREATE TABLE marts.x AS SELECT 1")
    assert writes.returncode != 0 and "read-only" in (writes.stdout + writes.stderr).lower()
