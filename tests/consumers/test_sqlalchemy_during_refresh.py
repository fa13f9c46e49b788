"""The SQLAlchemy route (duckdb-engine, read-only), as Superset, Metabase's Python cousins and
notebooks use it, reads marts.fct_command_tenure while `kfor refresh` publishes a new version: no
errors, and every answer is one complete version (28 tenures before, 29 after; never a mix).

Two readers run while the refresh publishes v2 of the page over v1:
- in this process, a new connection for every query (NullPool): it sees 28, then 29 once the
  rename is done, and never goes back;
- in another process, one long-lived connection: it keeps reading the file it opened (28) until
  it reconnects, then it sees 29. Another process, because DuckDB gives every connection of a
  process to the same file the database instance that is already open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import pages

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
QUERY = sa.text("""
    SELECT count(*) AS n, count(DISTINCT t.content_sha256) AS versions,
           bool_and(t.content_sha256 = m.content_sha256) AS consistent
    FROM marts.fct_command_tenure AS t CROSS JOIN marts.meta AS m""")


def kfor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kfor"), *args], capture_output=True, text=True, timeout=300,
                          env=os.environ.copy())


@pytest.mark.slow  # in CI's slow run: keeps `make test` within its three minutes
def test_sqlalchemy_reads_a_complete_version_while_a_refresh_publishes(
        page_server, warehouse_path, tmp_path):
    url = page_server.route("/topics_48818.htm", body=pages.v1())
    first = kfor("refresh", "--source", url)
    assert first.returncode == 0, first.stderr
    page_server.route("/topics_48818.htm", body=pages.v2())

    # the long-lived reader, in its own process
    stop_file = tmp_path / "stop-reader"
    held = subprocess.Popen([sys.executable, str(HERE / "sqlalchemy_reader.py"),
                             str(warehouse_path), str(stop_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert json.loads(held.stdout.readline()) == {"ready": True}, held.stderr.read()

    # a new connection per query, in this process
    engine = sa.create_engine(f"duckdb:///{warehouse_path}", connect_args={"read_only": True},
                              poolclass=sa.pool.NullPool)
    fresh: list[tuple[float, dict]] = []
    stop = threading.Event()

    def poll():
        deadline = time.monotonic() + 300
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                with engine.connect() as con:
                    row = dict(con.execute(QUERY).mappings().one())
            except Exception as e:  # noqa: BLE001
                row = {"error": f"{type(e).__name__}: {e}"}
            fresh.append((time.monotonic(), row))
            time.sleep(0.05)

    thread = threading.Thread(target=poll)
    thread.start()
    try:
        started = time.monotonic()
        refresh = subprocess.Popen([str(BIN / "kfor"), "refresh", "--source", url],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=os.environ.copy())
        out, err = refresh.communicate(timeout=300)
        finished = time.monotonic()
        # keep reading a little after the publish, until a fresh connection has seen it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                r.get("n") == 29 for t, r in fresh if t > finished):
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(60)
        stop_file.touch()
        try:
            held_out, held_err = held.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            held.kill()
            held_out, held_err = held.communicate()
        engine.dispose()

    assert refresh.returncode == 0, err
    assert out.startswith("published: "), out

    # the fresh connections: no error, always one whole version, 28 then 29, never back
    assert [r for _, r in fresh if "error" in r] == []
    assert all(r["versions"] == 1 and r["consistent"] for _, r in fresh)
    counts = [r["n"] for _, r in fresh]
    assert set(counts) == {28, 29}, counts
    assert counts == sorted(counts), "a fresh connection went back to the old version"
    during = [r for t, r in fresh if started <= t <= finished]
    assert len(during) >= 5, f"only {len(during)} queries overlapped the refresh"

    # the long-lived connection: the file it opened (28) until it reconnects, then 29
    assert held.returncode == 0, held_err
    lines = [json.loads(line) for line in held_out.splitlines()]
    assert [r for r in lines if "error" in r] == [], held_err
    kept = [r for r in lines if r["phase"] == "held"]
    assert len(kept) >= 5 and all(r["n"] == 28 and r["consistent"] for r in kept)
    assert [r["n"] for r in lines if r["phase"] == "reconnected"] == [29]


def test_the_sqlalchemy_route_is_read_only(built_warehouse):
    engine = sa.create_engine(f"duckdb:///{built_warehouse}", connect_args={"read_only": True},
                              poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as con:
            assert con.execute(sa.text("SELECT count(*) FROM marts.fct_command_tenure")
                               ).scalar() == 28
            inspector = sa.inspect(con)
            assert "fct_command_tenure" in inspector.get_table_names(schema="marts")
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                con.execute(sa.text("CREATE TABLE marts.scratch AS SELECT 1 AS x"))
    finally:
        engine.dispose()
