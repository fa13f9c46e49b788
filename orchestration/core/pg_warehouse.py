"""A Postgres warehouse (issues 24, 25): write-audit-publish by schema swap, the counterpart of
core/publish.py's scratch file and atomic rename (docs/architecture.md, "DuckDB-specific steps and
their Postgres counterparts"); core/engine.PostgresEngine is what the refresh calls.

    raw, staging, marts, snapshots                  the published schemas (what readers query)
    build_raw, build_staging, ...                   the scratch build (start_build)
    kept_<UTC stamp>_raw, kept_<UTC stamp>_marts... kept versions for rollback, newest `keep`

A build starts by dropping what a crashed build left, creating the build schemas and copying the
published raw tables and snapshots into them (history continues). Publishing is ONE transaction:
it waits for sessions holding a snapshot older than itself (a REPEATABLE READ reader would find
the new tables empty), locks every published table (ACCESS EXCLUSIVE, so it waits for the readers
inside them and no statement sees two versions), renames each published schema to its kept name
and each build schema to the published name, and commits. The wait is bounded by `SET LOCAL lock_timeout` and
retried a few times; past that, PublishGaveUp says so in one line and the published schemas are
as they were (the transaction rolled back). A rollback is the same swap with a kept set. A reader
role (`kfor_reader`, ensure_reader) is moved to the incoming schemas in the same transaction, so
it reads the published schemas and nothing else, before and after every swap.

The warehouse is named by a URL `postgresql://user@host:port/database`. Its password comes from
PGPASSWORD or ~/.pgpass only (libpq reads them): a URL carrying one is refused, and the URL is
shown only redacted (`display`)."""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote, urlsplit

from orchestration.core.redact import redact_url

PUBLISHED = ("raw", "staging", "marts", "snapshots")
COPIED = ("raw", "snapshots")  # what a build starts from: the page's history and its SCD2 tables
BUILD_PREFIX = "build_"
KEPT_PREFIX = "kept_"
# kept_<YYYYMMDD>_<HHMMSSffffff>_<schema>: digits and underscores only, so no name needs quoting
# and the names sort by time
_KEPT = re.compile(r"^kept_(\d{8}_\d{12})_(" + "|".join(PUBLISHED) + ")$")
SCHEMES = ("postgresql://", "postgres://")
READER_ROLE = "kfor_reader"  # reads the published schemas and nothing else (issue 25)

# Each attempt of the swap waits this long for a lock. Below the server's deadlock_timeout (1 s by
# default), so a reader that locks tables in another order than the swap never loses a deadlock
# check: the swap's own timeout fires first, it rolls back and tries again after a pause.
LOCK_TIMEOUT = 0.5
ATTEMPTS = 6
FIRST_PAUSE = 1.0  # then doubled: 1 + 2 + 4 + 8 + 16 s between six attempts
# Dropping a build's schemas waits this long for a session inside them (a person's open
# transaction on a build_* table), then fails the refresh in one line instead of hanging it.
BUILD_LOCK_TIMEOUT = "60s"


class PostgresUrlError(ValueError):
    """A warehouse URL that cannot be used; the message shows it redacted, on one line."""


class PublishGaveUp(RuntimeError):
    """The swap could not get its locks in time (a long reader); nothing was published."""


class _ReaderInTheWay(Exception):
    """An attempt of the swap met a reader it must not overtake (see _wait_for_old_snapshots)."""


class NothingToPublish(RuntimeError):
    """A swap's source set is missing a schema (a build that did not finish, a kept set that is
    gone); nothing was published."""


@dataclass(frozen=True)
class PostgresWarehouse:
    """A warehouse on a Postgres server, named by its URL (never holding a password)."""

    url: str

    @classmethod
    def from_url(cls, url: str) -> PostgresWarehouse:
        """Check the URL: postgresql://[user@]host[:port]/database[?libpq parameters], without a
        password (the user-info's or a `password=` parameter)."""
        shown = redact_url(url)
        if not url.startswith(SCHEMES):
            raise PostgresUrlError(f"{shown} is not a postgresql://user@host:port/database URL")
        parts = urlsplit(url)
        if parts.password is not None or any(k.lower() == "password"
                                             for k, _ in parse_qsl(parts.query)):
            raise PostgresUrlError(f"{shown} carries a password; give it in PGPASSWORD or "
                                   "~/.pgpass instead, so it is never written anywhere")
        if not parts.hostname:
            raise PostgresUrlError(f"{shown} names no host")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise PostgresUrlError(f"{shown} has a port that is not a number") from None
        if not unquote(parts.path.lstrip("/")):
            raise PostgresUrlError(f"{shown} names no database (…:port/database)")
        return cls(url)

    @property
    def display(self) -> str:
        """The URL as every message shows it: no user-info, no secret parameters."""
        return redact_url(self.url)

    @property
    def database(self) -> str:
        return unquote(urlsplit(self.url).path.lstrip("/"))

    def connect(self, purpose: str = "read", autocommit: bool = True):
        """A psycopg2 connection whose application_name says who holds it (pg_stat_activity
        shows it: `kfor-<purpose> pid <pid> on <host>`). libpq finds the password itself."""
        import psycopg2

        try:
            con = psycopg2.connect(self.url, application_name=application_name(purpose),
                                   connect_timeout=10)
        except psycopg2.Error as e:  # libpq's message may repeat the URL: never its password
            raise ConnectionError(f"cannot connect to {self.display}: "
                                  f"{_first_line(e)}") from None
        con.autocommit = autocommit
        return con


def application_name(purpose: str) -> str:
    # Postgres keeps 63 bytes of it; the purpose and pid come first so they survive a long host
    return f"kfor-{purpose} pid {os.getpid()} on {socket.gethostname()}"[:63]


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# --- names --------------------------------------------------------------------------------------

def build_name(schema: str) -> str:
    return BUILD_PREFIX + schema


def kept_name(stamp: str, schema: str) -> str:
    return f"{KEPT_PREFIX}{stamp}_{schema}"


def new_stamp() -> str:
    return f"{datetime.now(UTC):%Y%m%d_%H%M%S%f}"


def _schemas(cur) -> set[str]:
    cur.execute("SELECT nspname FROM pg_namespace")
    return {name for (name,) in cur.fetchall()}


def _tables(cur, schema: str) -> list[str]:
    cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1",
                [schema])
    return [name for (name,) in cur.fetchall()]


def kept_versions(warehouse: PostgresWarehouse) -> list[str]:
    """Stamps of the kept versions, oldest first (a stamp is kept while any of its schemas is)."""
    con = warehouse.connect("read")
    try:
        with con.cursor() as cur:
            return sorted({m.group(1) for m in map(_KEPT.match, _schemas(cur)) if m})
    finally:
        con.close()


# --- the build ----------------------------------------------------------------------------------

def discard_build(warehouse: PostgresWarehouse) -> None:
    """Drop the build schemas (a failed, rejected or crashed build). Exactly the four names this
    project owns: never a prefix match, which could reach another tool's schema."""
    con = warehouse.connect("build")
    try:
        with con.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, false)", [BUILD_LOCK_TIMEOUT])
            for schema in PUBLISHED:
                cur.execute(f'DROP SCHEMA IF EXISTS "{build_name(schema)}" CASCADE')
    finally:
        con.close()


def start_build(warehouse: PostgresWarehouse, empty: bool = False) -> None:
    """Fresh build schemas, holding copies of the published raw tables and snapshots (unless
    `empty`); what a crashed build left is dropped first. One transaction: a build schema set
    exists whole or not at all."""
    con = warehouse.connect("build", autocommit=False)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, true)", [BUILD_LOCK_TIMEOUT])
            existing = _schemas(cur)
            for schema in PUBLISHED:
                cur.execute(f'DROP SCHEMA IF EXISTS "{build_name(schema)}" CASCADE')
                cur.execute(f'CREATE SCHEMA "{build_name(schema)}"')
            for schema in COPIED if not empty else ():
                if schema not in existing:
                    continue
                for table in _tables(cur, schema):
                    source, target = f'"{schema}"."{table}"', f'"{build_name(schema)}"."{table}"'
                    cur.execute(f"CREATE TABLE {target} (LIKE {source} INCLUDING ALL)")
                    cur.execute(f"INSERT INTO {target} SELECT * FROM {source}")
        con.commit()
    finally:
        con.close()


# --- the swap -----------------------------------------------------------------------------------

def publish(warehouse: PostgresWarehouse, keep: int, **policy) -> str | None:
    """Swap the build schemas in for the published ones in one transaction; the replaced schemas
    are kept (the newest `keep` versions) for rollback. Returns the kept version's stamp (None
    when nothing was kept). PublishGaveUp past the retries, NothingToPublish for an incomplete
    build: in both cases the published schemas are untouched."""
    return _swap(warehouse, build_name, keep, what="the build", **policy)


def rollback(warehouse: PostgresWarehouse, stamp: str, keep: int, **policy) -> str | None:
    """Publish the kept version `stamp` again by the same swap; the version it replaces is kept
    in turn (a second rollback undoes the first). Returns that kept version's stamp."""
    return _swap(warehouse, lambda schema: kept_name(stamp, schema), keep,
                 what=f"the kept version {stamp}", **policy)


def _swap(warehouse: PostgresWarehouse, source: Callable[[str], str], keep: int, what: str,
          lock_timeout: float = LOCK_TIMEOUT, attempts: int = ATTEMPTS,
          first_pause: float = FIRST_PAUSE, say: Callable[[str], None] | None = None,
          guard: Callable | None = None, reader: str | None = None) -> str | None:
    import psycopg2
    from psycopg2 import errors

    con = warehouse.connect("publish", autocommit=False)
    pause = first_pause
    try:
        for attempt in range(1, attempts + 1):
            try:
                with con.cursor() as cur:
                    kept = _swap_once(cur, source, keep, what, lock_timeout, guard, reader)
                con.commit()
                break
            except (errors.LockNotAvailable, _ReaderInTheWay):
                con.rollback()
                if attempt == attempts:
                    raise PublishGaveUp(
                        f"gave up publishing {what} to {warehouse.display}: a reader held the "
                        f"published tables (or a snapshot older than the build) through "
                        f"{attempts} tries of {lock_timeout:g} s; the published schemas are as "
                        "they were") from None
                if say:
                    say(f"publish waits for a reader (try {attempt} of {attempts})")
                time.sleep(pause)
                pause *= 2
            except BaseException:  # NothingToPublish, the guard's refusal, a server error
                con.rollback()
                raise
    finally:
        con.close()
    # Published: from here on nothing may fail the publish (the run would log it `failed` and a
    # replay would lose the version). A prune the server cuts short waits for the next publish.
    try:
        prune(warehouse, keep, say=say)
    except (ConnectionError, psycopg2.Error) as e:
        if say:
            say(f"the kept versions were not pruned ({_first_line(e)}); the next publish prunes "
                "them")
    return kept


def _swap_once(cur, source: Callable[[str], str], keep: int, what: str,
               lock_timeout: float, guard: Callable | None, reader: str | None) -> str | None:
    """One attempt, inside the caller's transaction. `guard(cur)` runs once the tables are
    locked and may refuse the swap by raising (pg_lock.lock_guard: the refresh lock is still
    this process's). `reader`: a role that may read the published schemas and nothing else,
    before and after the swap alike (granted on the incoming schemas, revoked from the kept)."""
    cur.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(lock_timeout * 1000)}ms"])
    existing = _schemas(cur)
    missing = [source(s) for s in PUBLISHED if source(s) not in existing]
    if missing:
        raise NothingToPublish(f"{what} is incomplete (no schema {', '.join(missing)}); "
                               "nothing was published")
    published = [s for s in PUBLISHED if s in existing]
    _wait_for_old_snapshots(cur, lock_timeout)
    # Every published table locked before anything is renamed: the swap waits here for the
    # readers inside them, and a statement queued behind these locks resolves its names again
    # once they are released, so it reads the new version whole.
    _lock_tables(cur, [f'"{s}"."{t}"' for s in published for t in _tables(cur, s)], lock_timeout)
    if guard is not None:
        guard(cur)
    stamp = new_stamp() if published and keep > 0 else None
    if reader is not None:
        _require_role(cur, reader)
        for schema in published:
            cur.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM "{reader}"')
        for schema in PUBLISHED:
            _grant(cur, source(schema), reader)
    for schema in published:
        if stamp:
            cur.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{kept_name(stamp, schema)}"')
        else:  # nothing kept: dropped at commit with the rest of the swap
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
    for schema in PUBLISHED:
        cur.execute(f'ALTER SCHEMA "{source(schema)}" RENAME TO "{schema}"')
    return stamp


def _require_role(cur, role: str) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    if cur.fetchone() is None:
        raise NothingToPublish(f"the reader role {role} does not exist (ensure_reader creates "
                               "it); nothing was published")


def _grant(cur, schema: str, role: str) -> None:
    cur.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    cur.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')


def sees_other_sessions(warehouse: PostgresWarehouse) -> bool:
    """Whether this role can see other roles' snapshots (a superuser, or a member of
    pg_read_all_stats). Without it the swap cannot wait for another role's REPEATABLE READ
    transaction older than itself, which would then find the new tables empty."""
    con = warehouse.connect("read")
    try:
        with con.cursor() as cur:
            cur.execute("SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', "
                        "'MEMBER') FROM pg_roles WHERE rolname = current_user")
            return bool(cur.fetchone()[0])
    finally:
        con.close()


def role_exists(warehouse: PostgresWarehouse, role: str = READER_ROLE) -> bool:
    con = warehouse.connect("read")
    try:
        with con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            return cur.fetchone() is not None
    finally:
        con.close()


def ensure_reader(warehouse: PostgresWarehouse, role: str = READER_ROLE) -> None:
    """The read-only role (NOLOGIN: people and BI tools log in as roles that are its members),
    created when missing and granted the published schemas as they are now; each publish then
    moves the grant to the schemas it publishes (publish(reader=role))."""
    con = warehouse.connect("grant", autocommit=False)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cur.fetchone() is None:
                cur.execute(f'CREATE ROLE "{role}" NOLOGIN')
            existing = _schemas(cur)
            for schema in PUBLISHED:
                if schema in existing:
                    _grant(cur, schema, role)
        con.commit()
    finally:
        con.close()


def _lock_tables(cur, relations: list[str], timeout: float) -> None:
    """ACCESS EXCLUSIVE on every relation. First all at once without waiting, tried every
    20 ms for `timeout` (holding nothing while it waits, so it can neither deadlock nor make
    readers queue); then, under steady overlapping load, once more queued behind the readers for
    `timeout` (LockNotAvailable past it). A reader that locks the same tables in another order
    than this queued attempt waits for its timeout, never for a deadlock check (see LOCK_TIMEOUT).
    Known limit: under steady back-to-back load from readers that lock the tables in another order
    (measured: three looping readers, one of them REPEATABLE READ), every try can time out, and
    the swap gives up, safely; with a few ms between a reader's queries it gets through."""
    from psycopg2 import errors

    if not relations:
        return
    statement = f"LOCK TABLE {', '.join(relations)} IN ACCESS EXCLUSIVE MODE"
    deadline = time.monotonic() + timeout
    cur.execute("SAVEPOINT kfor_lock")
    while time.monotonic() < deadline:
        try:
            cur.execute(statement + " NOWAIT")
            return
        except errors.LockNotAvailable:
            cur.execute("ROLLBACK TO SAVEPOINT kfor_lock")  # releases what it got
            time.sleep(0.02)
    cur.execute(statement)  # queued; lock_timeout (SET LOCAL) bounds it


def _wait_for_old_snapshots(cur, timeout: float) -> None:
    """Wait (up to `timeout`) until no other session of this database holds a snapshot taken
    before this swap began. Renaming schemas is not MVCC-safe: a REPEATABLE READ or SERIALIZABLE
    transaction whose snapshot predates the build's commits would find the new tables after the
    swap and see them empty. A session whose transaction began before ours and holds a snapshot
    (backend_xmin) might be one; sessions starting later see every row of the build. A READ
    COMMITTED statement in flight counts too, and is over in a moment. Needs to see other roles'
    backend_xmin: the same role, a superuser, or pg_read_all_stats."""
    deadline = time.monotonic() + timeout
    while True:
        cur.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is cached per transaction
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    " AND backend_xmin IS NOT NULL AND xact_start < transaction_timestamp()")
        if cur.fetchone()[0] == 0:
            return
        if time.monotonic() >= deadline:
            raise _ReaderInTheWay
        time.sleep(0.02)


def prune(warehouse: PostgresWarehouse, keep: int, lock_timeout: float = LOCK_TIMEOUT,
          say: Callable[[str], None] | None = None) -> list[str]:
    """Drop the kept versions beyond the newest `keep`; returns the stamps dropped. A kept schema
    a reader still uses is left for the next prune (said once), never waited for long."""
    from psycopg2 import errors

    stamps = kept_versions(warehouse)
    doomed = stamps[:-keep] if keep > 0 else stamps
    dropped = []
    con = warehouse.connect("publish", autocommit=False)
    try:
        for stamp in doomed:
            try:
                with con.cursor() as cur:
                    cur.execute("SELECT set_config('lock_timeout', %s, true)",
                                [f"{int(lock_timeout * 1000)}ms"])
                    for schema in PUBLISHED:
                        cur.execute(f'DROP SCHEMA IF EXISTS "{kept_name(stamp, schema)}" CASCADE')
                con.commit()
                dropped.append(stamp)
            except errors.LockNotAvailable:
                con.rollback()
                if say:
                    say(f"kept version {stamp} is in use; the next publish prunes it")
    finally:
        con.close()
    return dropped


# --- reading the published schemas -------------------------------------------------------------

@contextmanager
def _reading(warehouse: PostgresWarehouse) -> Iterator:
    con = warehouse.connect("read")
    try:
        con.set_session(readonly=True, autocommit=True)
        with con.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'")  # times shown as UTC, as core/publish (rule V6)
            yield cur
    finally:
        con.close()


def _exists(cur, schema: str, table: str) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}"."{table}"'])
    return cur.fetchone()[0]


def _schema(schema: str, stamp: str | None) -> str:
    """A published schema, or its copy in the kept version `stamp`."""
    return kept_name(stamp, schema) if stamp else schema


def read_meta(warehouse: PostgresWarehouse, stamp: str | None = None) -> dict | None:
    """marts.meta's one row (of the kept version `stamp`), as core/publish.read_meta gives it
    (times as UTC ISO text); None when nothing is published yet."""
    import json

    marts = _schema("marts", stamp)
    with _reading(warehouse) as cur:
        if not _exists(cur, marts, "meta"):
            return None
        cur.execute(f'SELECT * FROM "{marts}".meta')
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    return json.loads(json.dumps(dict(zip(names, row, strict=True)), default=str)) if row else None


def mart_counts(warehouse: PostgresWarehouse, schema: str = "marts") -> dict[str, int]:
    """Rows per published mart table (or per table of `schema`: build_marts, the audit's
    count), counted by ONE statement: one snapshot, one version."""
    with _reading(warehouse) as cur:
        tables = _tables(cur, schema)
        if not tables:
            return {}
        cur.execute(" UNION ALL ".join(f'SELECT %s, count(*) FROM "{schema}"."{t}"'
                                       for t in tables), tables)
        return dict(cur.fetchall())


def logged_fetches(warehouse: PostgresWarehouse, stamp: str | None = None) -> list[dict]:
    """The published copy of the fetch log (raw.fetch_log; of the kept version `stamp`), in log
    order; [] without one."""
    raw = _schema("raw", stamp)
    with _reading(warehouse) as cur:
        if not _exists(cur, raw, "fetch_log"):
            return []
        cur.execute(f'SELECT * FROM "{raw}".fetch_log ORDER BY log_seq')
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
