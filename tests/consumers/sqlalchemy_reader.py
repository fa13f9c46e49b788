"""A BI-like reader through SQLAlchemy + duckdb-engine, read-only, run as its own process by
test_sqlalchemy_during_refresh.py (a process of its own, because DuckDB shares one database
instance per file among all connections of a process).

    python sqlalchemy_reader.py DB_FILE STOP_FILE

Holds ONE connection open and queries it in a loop until STOP_FILE exists, then closes it, opens a
new one and queries once more. Prints one JSON line per query: {"phase": "held"|"reconnected",
"n": rows, "versions": distinct version keys, "consistent": tenures and meta agree} or
{"error": "..."}. The first line is {"ready": true} once the connection is open."""

from __future__ import annotations

import json
import os
import sys
import time

import sqlalchemy as sa

QUERY = sa.text("""
    SELECT count(*) AS n, count(DISTINCT t.content_sha256) AS versions,
           bool_and(t.content_sha256 = m.content_sha256) AS consistent
    FROM marts.fct_command_tenure AS t CROSS JOIN marts.meta AS m""")


def main(db: str, stop: str) -> int:
    engine = sa.create_engine(f"duckdb:///{db}", connect_args={"read_only": True},
                              poolclass=sa.pool.NullPool)
    deadline = time.monotonic() + 600
    with engine.connect() as con:
        print(json.dumps({"ready": True}), flush=True)
        while not os.path.exists(stop) and time.monotonic() < deadline:
            report(con, "held")
            time.sleep(0.05)
    with engine.connect() as con:
        report(con, "reconnected")
    engine.dispose()
    return 0


def report(con, phase: str) -> None:
    try:
        row = con.execute(QUERY).mappings().one()
        print(json.dumps({"phase": phase, **dict(row)}), flush=True)
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"phase": phase, "error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
