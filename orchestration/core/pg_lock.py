"""The refresh lock of a Postgres warehouse: a session-level advisory lock on the warehouse's
database, held by a connection kept open for the lock's life, so two hosts never build at once
(core/lock.py's flock is per machine). The server releases it when that connection ends, however
it ends: a killed refresh never leaves a stale lock (TCP keepalives on the connection let the
server notice a host that vanished within minutes, not the OS's two hours).

The key is two integers: a fixed project constant and one derived from the database's name, so
the lock names this project's refresh of this database and nothing else that uses advisory
locks. A busy lock raises core/lock.py's RefreshBusy, naming the holder as pg_stat_activity
shows it (application_name `kfor-refresh pid N on HOST`, its client address and since when)."""

from __future__ import annotations

import time
import zlib
from contextlib import contextmanager

from orchestration.core.lock import RefreshBusy
from orchestration.core.pg_warehouse import PostgresWarehouse

PROJECT_KEY = 0x4B464F52  # "KFOR" in ASCII; the first key of every lock this project takes

# the lock's connection must outlive idle periods (a long dbt step) and say when its host is gone
_KEEPALIVE = {"tcp_keepalives_idle": "60", "tcp_keepalives_interval": "10",
              "tcp_keepalives_count": "6", "idle_session_timeout": "0",
              "idle_in_transaction_session_timeout": "0"}

# (url, database) -> [connection, depth, (its server pid, backend_start)]: reentrant
_held: dict[tuple[str, str], list] = {}


class LockLost(RefreshBusy):
    """The session holding this process's refresh lock has ended (the server restarted, the
    connection dropped): another host may be building by now, so nothing may be published."""


def database_key(database: str) -> int:
    """The second key: the database's name hashed into a non-negative int4 (pg_locks shows keys
    as unsigned oids, so a negative one would not match back)."""
    return zlib.crc32(database.encode()) & 0x7FFFFFFF


def holder(warehouse: PostgresWarehouse, con=None) -> str | None:
    """Who holds the lock, as one phrase, or None when it is free."""
    own = con is None
    con = con or warehouse.connect("status")
    try:
        with con.cursor() as cur:
            cur.execute(
                "SELECT a.application_name, a.pid, coalesce(host(a.client_addr), 'local socket'),"
                " to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                " AND l.classid = %s AND l.objid = %s"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [PROJECT_KEY, database_key(warehouse.database)])
            row = cur.fetchone()
    finally:
        if own:
            con.close()
    if row is None:
        return None
    name, pid, client, since = row
    return f"{name or 'an unnamed session'}, server pid {pid}, from {client}, since {since}"


def is_free(warehouse: PostgresWarehouse) -> bool:
    """Nobody holds the lock now (for `kfor status`); takes nothing."""
    return holder(warehouse) is None


@contextmanager
def refresh_lock(warehouse: PostgresWarehouse, wait: float = 0.0):
    """Hold the warehouse's refresh lock, waiting up to `wait` seconds (RefreshBusy past that,
    naming the holder). Reentrant within a process, as core/lock.refresh_lock: yields True when
    this process already held it, else False."""
    key = (warehouse.url, warehouse.database)
    if key in _held:
        _held[key][1] += 1
        try:
            yield True
        finally:
            _held[key][1] -= 1
        return
    con = warehouse.connect("refresh")
    try:
        with con.cursor() as cur:
            for name, value in _KEEPALIVE.items():  # session settings any role may change
                if name == "idle_session_timeout" and con.server_version < 140000:
                    continue  # new in Postgres 14
                cur.execute("SELECT set_config(%s, %s, false)", [name, value])
            deadline = time.monotonic() + wait
            while True:
                cur.execute("SELECT pg_try_advisory_lock(%s, %s)",
                            [PROJECT_KEY, database_key(warehouse.database)])
                if cur.fetchone()[0]:
                    break
                if time.monotonic() >= deadline:
                    who = holder(warehouse, con) or "it was just released; try again"
                    raise RefreshBusy(f"refresh of {warehouse.display} already running ({who})")
                time.sleep(0.2)
            cur.execute("SELECT pid, backend_start FROM pg_stat_activity "
                        "WHERE pid = pg_backend_pid()")
            session = cur.fetchone()
        _held[key] = [con, 1, session]
        yield False
    finally:
        _held.pop(key, None)
        con.close()  # ending the session releases the lock


def lock_guard(warehouse: PostgresWarehouse):
    """A check for pg_warehouse.publish(guard=...): inside the swap's transaction, refuse with
    LockLost unless the session that took this process's refresh lock still holds it (matched by
    server pid and start time, so a new session reusing the pid is not taken for it)."""
    entry = _held.get((warehouse.url, warehouse.database))
    if entry is None:
        raise LockLost(f"this process does not hold the refresh lock of {warehouse.display}")
    pid, started = entry[2]

    def check(cur) -> None:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.pid = %s AND a.backend_start = %s AND l.locktype = 'advisory'"
                    " AND l.granted AND l.objsubid = 2 AND l.classid = %s AND l.objid = %s",
                    [pid, started, PROJECT_KEY, database_key(warehouse.database)])
        if cur.fetchone()[0] == 0:
            raise LockLost(f"the refresh lock of {warehouse.display} was lost during the build "
                           "(its session ended: a server restart or a dropped connection); "
                           "nothing was published, the next refresh builds again")
    return check
