"""`make dev`: the Dagster webserver and daemon come up bound to 127.0.0.1 only, the code location
loads, the page sensor is running and its first tick decides the page changed, so the daemon
launches a run that publishes (the daemon's path, end to end); a `kfor refresh` started beside it
(as cron would) finds the page unchanged. Both use one instance (DAGSTER_HOME) and one fetch log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                     data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


def listening_addresses(port: int) -> set[str]:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
    return {line.split()[3].rsplit(":", 1)[0] for line in out.stdout.splitlines() if line.strip()}


@pytest.mark.slow
def test_make_dev_serves_on_localhost_and_its_sensor_publishes(tmp_path, dagster_home,
                                                                warehouse_path, raw_dir):
    port = free_port()
    snapshot = sorted((ROOT / "raw" / "bundled").glob("*.html"))[-1].as_uri()
    env = {**os.environ, "DEV_PORT": str(port), "DAGSTER_HOME": str(dagster_home),
           "KFOR_SOURCE_URL": snapshot}
    proc = subprocess.Popen(["make", "-s", "dev"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        data = None
        while time.monotonic() < deadline:
            try:
                data = graphql(port, """{ workspaceOrError { ... on Workspace {
                    locationEntries { name loadStatus } } } }""")
                if data["workspaceOrError"]["locationEntries"][0]["loadStatus"] == "LOADED":
                    break
            except (OSError, KeyError, IndexError, TypeError):
                pass
            time.sleep(2)
        assert data, "the Dagster webserver did not answer"
        assert listening_addresses(port) == {"127.0.0.1"}
        states = graphql(port, """{
          sensorsOrError(repositorySelector: {repositoryLocationName: "orchestration.definitions",
                                              repositoryName: "__repository__"}) {
            ... on Sensors { results { name sensorState { status } } } } }""")
        sensors = {s["name"]: s["sensorState"]["status"]
                   for s in states["sensorsOrError"]["results"]}
        assert sensors == {"page_sensor": "RUNNING"}

        query = """{ runsOrError { ... on Runs { results { runId jobName status
                     tags { key value } } } } }"""
        runs = []
        while time.monotonic() < deadline + 240 and not (
                runs and runs[0]["status"] in ("SUCCESS", "FAILURE")):
            runs = graphql(port, query)["runsOrError"]["results"]
            time.sleep(2)
        assert [(r["jobName"], r["status"]) for r in runs] == [("refresh", "SUCCESS")], runs
        tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
        assert tags["kfor/started_by"] == "sensor"
        assert tags["kfor/warehouse"] == str(warehouse_path)
        assert warehouse_path.exists()

        cron = subprocess.run([str(ROOT / ".venv" / "bin" / "kfor"), "refresh"], env=env,
                              capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        assert cron.returncode == 0 and cron.stdout.startswith("unchanged: "), cron.stderr
        outcomes = [json.loads(line)["outcome"]
                    for line in (raw_dir / "fetch_log.jsonl").read_text().splitlines()]
        assert outcomes == ["building", "published", "unchanged"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
