"""The Dagster instance on Postgres (issue 24): with DAGSTER_PG_URL set, a CLI refresh records its
run in that database, and a webserver started on the same instance (as on another host: nothing
shared but the URL) finds it through its GraphQL. A server that refuses is one line, without the
URL's password."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from reliability.harness import kfor
from support.postgres import free_port

from orchestration.core import settings
from orchestration.core.layout import bundled_snapshot
from orchestration.drivers.launch import PG_URL_VARIABLE, InstanceUnavailable, get_instance
from orchestration.jobs import STARTED_BY_TAG

pytestmark = pytest.mark.slow  # the Postgres server tests are CI's slow layer (issue 20)

PASSWORD = "pw-Zq81x"
RUNS = """{ runsOrError { __typename ... on Runs { results { runId jobName status
            tags { key value } } } } }"""


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                     data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def webserver(port: int) -> subprocess.Popen:
    """dagster-webserver on the instance of this process's DAGSTER_HOME and DAGSTER_PG_URL; its
    workspace is empty: the runs it shows come from the instance alone."""
    exe = str(Path(sys.executable).with_name("dagster-webserver"))
    return subprocess.Popen([exe, "-h", "127.0.0.1", "-p", str(port), "--empty-workspace"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def until_up(proc: subprocess.Popen, port: int, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"dagster-webserver not up on port {port} after {timeout} s")


def test_a_cli_refresh_is_recorded_in_postgres_and_found_by_the_webserver(
        postgres_server, dagster_home, raw_dir, monkeypatch):
    started = time.monotonic()
    # a password the server never asks for (trust on loopback): it must appear nowhere
    url = postgres_server.create_database("instance").replace(
        "kfor@", f"kfor:{PASSWORD}@", 1)
    monkeypatch.setenv(PG_URL_VARIABLE, url)
    settings.get.cache_clear()

    out = kfor("refresh", "--source", f"file://{bundled_snapshot()}")
    assert out.returncode == 0, out.stderr
    refreshed = time.monotonic()

    # the run is in Postgres, and nothing of it in SQLite under DAGSTER_HOME
    with postgres_server.connect("instance") as con, con.cursor() as cur:
        cur.execute("SELECT run_id, status FROM runs")
        rows = cur.fetchall()
        cur.execute("SELECT (SELECT count(*) FROM runs WHERE run_body LIKE %(p)s)"
                    " + (SELECT count(*) FROM event_logs WHERE event LIKE %(p)s)",
                    {"p": f"%{PASSWORD}%"})
        assert cur.fetchone() == (0,)
    assert [status for _, status in rows] == ["SUCCESS"], rows
    run_id = rows[0][0]
    assert [p.name for p in dagster_home.rglob("*")] == ["dagster.yaml"]
    tags = get_instance(settings.get()).get_run_by_id(run_id).tags  # the instance opens it too
    assert tags[STARTED_BY_TAG] == "cli", tags

    port = free_port()
    server = webserver(port)
    try:
        until_up(server, port)
        answer = graphql(port, RUNS)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    runs = answer["data"]["runsOrError"]["results"]
    assert [(r["runId"], r["jobName"], r["status"]) for r in runs] == [
        (run_id, "refresh", "SUCCESS")], answer
    logged = out.stdout + out.stderr + server.stderr.read()
    written = [p for p in (*dagster_home.rglob("*"), *raw_dir.rglob("*"))
               if p.is_file() and PASSWORD.encode() in p.read_bytes()]
    assert PASSWORD not in logged and not written, written
    print(f"\nrefresh {refreshed - started:.1f} s, webserver and query "
          f"{time.monotonic() - refreshed:.1f} s")


def test_a_refused_connection_is_one_line_without_the_password(postgres_server, monkeypatch,
                                                                caplog):
    """A wrong port: dagster-postgres retries (about 6 s), then one line names the real cause,
    with the URL's user and password redacted (a password that starts with digits and holds a
    "/" too, which a generic URL reading takes for a port); its per-retry warnings are not
    shown. `kfor status` still shows the warehouse's files and log, and says why it cannot read
    the runs."""
    from orchestration.drivers.status import status

    password = "2024/Spring-x"
    closed = free_port()
    monkeypatch.setenv(PG_URL_VARIABLE, f"postgresql://kfor:{password}@127.0.0.1:{closed}/x")
    settings.get.cache_clear()
    caplog.set_level(logging.WARNING)
    with pytest.raises(InstanceUnavailable) as refused:
        get_instance(settings.get())
    message = str(refused.value)
    assert message == (f"cannot open the Dagster instance in {PG_URL_VARIABLE}=postgresql://"
                       f"127.0.0.1:{closed}/x: connection to server at \"127.0.0.1\", port "
                       f"{closed} failed: Connection refused"), message
    assert password not in caplog.text and not caplog.records, caplog.text
    lines: list[str] = []
    assert status(settings.get(), out=lines.append) is False
    runs = next(line for line in lines if line.strip().startswith("runs:"))
    assert runs.endswith(message) and any(line.strip().startswith("lock:") for line in lines)
    assert not any(password in line for line in lines)
