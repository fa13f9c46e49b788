"""A BI-style reader in its own process: `python reader.py WAREHOUSE` opens the file once with
duckdb.connect(path, read_only=True) and keeps it open. A background thread reads the meta row and
the mart counts in a loop (as a dashboard would); stdin commands:

    read   print one JSON observation from the open connection
    stats  print {"reads": n, "distinct": [observations seen], "errors": [...]}
    quit   close and exit

It prints "ready" once the connection is open."""

from __future__ import annotations

import json
import sys
import threading

import duckdb

QUERY = """
    SELECT (SELECT content_sha256 FROM marts.meta),
           (SELECT count(*) FROM marts.meta),
           (SELECT count(*) FROM marts.fct_command_tenure),
           (SELECT count(*) FROM marts.fct_troop_level),
           (SELECT count(*) FROM marts.fct_event),
           (SELECT count(*) FROM marts.dim_commander),
           (SELECT count(DISTINCT content_sha256) FROM marts.fct_command_tenure)
"""


def observe(cursor) -> tuple:
    return tuple(cursor.execute(QUERY).fetchone())


def main(path: str) -> None:
    con = duckdb.connect(path, read_only=True)
    stop = threading.Event()
    seen: dict[tuple, int] = {}
    errors: list[str] = []
    reads = [0]
    lock = threading.Lock()

    def hammer():
        cursor = con.cursor()
        while not stop.is_set():
            try:
                row = observe(cursor)
            except Exception as e:  # reported, not raised: the test decides
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:300])
                stop.wait(0.05)
                continue
            with lock:
                seen[row] = seen.get(row, 0) + 1
                reads[0] += 1
            stop.wait(0.01)

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    print("ready", flush=True)
    cursor = con.cursor()
    for line in sys.stdin:
        command = line.strip()
        if command == "read":
            print(json.dumps(observe(cursor)), flush=True)
        elif command == "stats":
            with lock:
                print(json.dumps({"reads": reads[0], "distinct": list(seen),
                                  "errors": errors}), flush=True)
        elif command == "quit":
            break
    stop.set()
    thread.join(5)
    con.close()


if __name__ == "__main__":
    main(sys.argv[1])
