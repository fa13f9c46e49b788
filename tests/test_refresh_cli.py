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

BIN = Path(sys.executable).parent


def kfor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kfor"), *args], capture_output=True, text=True, timeout=300,
                          env=os.environ.copy())


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_refresh_publishes_then_finds_the_page_unchanged(page_server, snapshot_bytes,
                                                         warehouse_path, raw_dir):
    url = page_server.route("/topics_48818.htm", body=snapshot_bytes,
                            headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'})
    first = kfor("refresh", "--source", url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("published: page version ") and first.stdout.count("\n") == 1
    assert first.stderr == ""
    assert query(warehouse_path, "SELECT count(*) FROM marts.fct_command_tenure") == [(28,)]

    before = file_sha256(warehouse_path)
    second = kfor("refresh", "--source", url)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("unchanged: page version ")
    assert page_server.requests[-1]["headers"].get("If-None-Match") == '"v1"'  # conditional GET
    # nothing is written: the warehouse's fetch bookkeeping is as of its build; status reads the log
    assert file_sha256(warehouse_path) == before
    assert query(warehouse_path, "SELECT fetch_count FROM marts.fct_page_version") == [(1,)]

    log = fetches(raw_dir)
    assert [r["outcome"] for r in log] == ["published", "unchanged"]
    assert [r["status"] for r in log] == [200, 304]
    assert (raw_dir / "pages" / f"{log[0]['body_sha256']}.html").read_bytes() == snapshot_bytes
    assert not [p for p in warehouse_path.parent.joinpath(".build").rglob("*") if p.is_file()]


def test_duckdb_shell_queries_the_published_file_read_only(built_warehouse):
    """duckdb-cli 1.5.6 (what analysts use) opens the file the refresh wrote."""
    out = subprocess.run([str(BIN / "duckdb"), "-readonly", "-csv", str(built_warehouse), "-c",
                          "SELECT count(*) FROM marts.fct_command_tenure; SELECT version();"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[1] == "28"
    assert "v1.5" in out.stdout


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_an_unchanged_refresh_records_itself_without_loading_dbt(page_server, snapshot_bytes,
                                                                 dagster_home):
    url = page_server.route("/p.htm", body=snapshot_bytes)
    assert kfor("refresh", "--source", url).returncode == 0
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


@pytest.mark.slow  # in CI's slow run: keeps `make test` under ten minutes
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


@pytest.mark.slow  # in CI's slow run: keeps `make test` under ten minutes
def test_a_publishing_refresh_writes_parquet_beside_the_warehouse(page_server,
                                                                            snapshot_bytes,
                                                                            warehouse_path):
    url = page_server.route("/p.htm", body=snapshot_bytes)
    assert kfor("refresh", "--source", url).returncode == 0
    current = warehouse_path.parent / "parquet" / "current"
    assert current.is_symlink()
    assert query(warehouse_path, f"SELECT count(*) FROM '{current}/fct_command_tenure.parquet'") \
        == [(28,)]
    assert not (warehouse_path.parent / "img").exists()  # plots are rendered on request


def test_kfor_sql_runs_one_query_read_only(built_warehouse, monkeypatch):
    monkeypatch.setenv("KFOR_WAREHOUSE", str(built_warehouse))
    out = kfor("sql", "--csv", "-c", "SELECT count(*) AS n FROM marts.dim_commander")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["n", "28"]
    writes = kfor("sql", "-c", "CREATE TABLE marts.x AS SELECT 1")
    assert writes.returncode != 0 and "read-only" in (writes.stdout + writes.stderr).lower()
