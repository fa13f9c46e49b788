"""Write-audit-publish by schema swap (core/pg_warehouse.py) on a real server. Each "build" here
is a small stand-in for dbt's: version v writes one fetch-log row and one snapshot row (appended
to the copies start_build made, so history continues), staging and marts rows all stamped v, and
marts.fct with v rows. A reader can then tell in ONE statement whether it saw one version whole
(`consistent`)."""

from __future__ import annotations

import threading
import time

import pytest

from orchestration.core import pg_warehouse as pw

pytestmark = pytest.mark.slow  # the Postgres tests are CI's slow layer

FAST = {"lock_timeout": 0.2, "first_pause": 0.1}
THINK = 0.005  # a reader's pause between queries: dashboards do not query back to back

# Every published schema read by one statement: one snapshot of one version, or an error.
READ = """SELECT (SELECT version FROM marts.meta), (SELECT min(version) FROM marts.fct),
                 (SELECT max(version) FROM marts.fct), (SELECT count(*) FROM marts.fct),
                 (SELECT min(version) FROM staging.stg), (SELECT max(version) FROM snapshots.snap),
                 (SELECT count(*) FROM snapshots.snap), (SELECT count(*) FROM raw.fetch_log)"""


def consistent(row) -> int | None:
    """The version a READ row shows, or None when it mixes versions or lost history."""
    v = row[0]
    return v if list(row) == [v, v, v, v, v, v, v, v] else None


@pytest.fixture
def warehouse(postgres_server, request):
    name = "wap_" + request.node.name[5:45].lower()
    return pw.PostgresWarehouse.from_url(postgres_server.create_database(name))


def fake_build(warehouse, version: int) -> None:
    """What dbt and the raw step would write into the build schemas started by start_build."""
    con = warehouse.connect("build")
    try:
        with con.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS build_raw.fetch_log "
                        "(log_seq integer, fetch_id varchar)")
            cur.execute("INSERT INTO build_raw.fetch_log VALUES (%s, %s)", [version, f"f{version}"])
            cur.execute("CREATE TABLE IF NOT EXISTS build_snapshots.snap (version integer)")
            cur.execute("INSERT INTO build_snapshots.snap VALUES (%s)", [version])
            cur.execute("CREATE TABLE build_staging.stg AS SELECT %s::integer AS version",
                        [version])
            cur.execute("CREATE TABLE build_marts.meta AS SELECT %s::integer AS version, "
                        "timestamptz '2026-12-05 12:00:00+00' AS built_at", [version])
            cur.execute("CREATE TABLE build_marts.fct AS SELECT %s::integer AS version "
                        "FROM generate_series(1, %s)", [version, version])
    finally:
        con.close()


def build_and_publish(warehouse, version: int, keep: int = 5, **policy) -> str | None:
    pw.start_build(warehouse)
    fake_build(warehouse, version)
    return pw.publish(warehouse, keep, **policy)


def published_version(warehouse) -> int | None:
    con = warehouse.connect("read")
    try:
        with con.cursor() as cur:
            cur.execute(READ)
            return consistent(cur.fetchone())
    finally:
        con.close()


def schemas(warehouse) -> set[str]:
    con = warehouse.connect("read")
    try:
        with con.cursor() as cur:
            return pw._schemas(cur)
    finally:
        con.close()


def test_publish_swaps_whole_versions_and_the_readers_read_them(warehouse):
    assert pw.read_meta(warehouse) is None and pw.mart_counts(warehouse) == {}
    assert pw.logged_fetches(warehouse) == []
    assert build_and_publish(warehouse, 1) is None  # nothing published before: nothing kept
    assert published_version(warehouse) == 1
    build_and_publish(warehouse, 2)
    assert published_version(warehouse) == 2  # raw and snapshots continued from version 1
    assert pw.read_meta(warehouse) == {"version": 2, "built_at": "2026-12-05 12:00:00+00:00"}
    assert pw.mart_counts(warehouse) == {"fct": 2, "meta": 1}
    assert [r["fetch_id"] for r in pw.logged_fetches(warehouse)] == ["f1", "f2"]
    assert not {pw.build_name(s) for s in pw.PUBLISHED} & schemas(warehouse)


def test_a_failed_build_leaves_the_published_schemas_untouched(warehouse):
    build_and_publish(warehouse, 1)
    pw.start_build(warehouse)
    con = warehouse.connect("build")
    with con.cursor() as cur:  # dbt failed half-way: raw written, marts never built
        cur.execute("INSERT INTO build_raw.fetch_log VALUES (2, 'f2')")
        cur.execute("CREATE TABLE build_staging.half (x integer)")
    con.close()
    con = warehouse.connect("build")
    with con.cursor() as cur:
        cur.execute("DROP SCHEMA build_marts CASCADE")
    con.close()
    with pytest.raises(pw.NothingToPublish, match="no schema build_marts") as refused:
        pw.publish(warehouse, keep=5)
    assert "\n" not in str(refused.value)
    assert published_version(warehouse) == 1 and pw.kept_versions(warehouse) == []
    # the next build starts clean: the failed build's rows and tables are gone
    pw.start_build(warehouse)
    con = warehouse.connect("build")
    with con.cursor() as cur:
        cur.execute("SELECT fetch_id FROM build_raw.fetch_log")
        assert cur.fetchall() == [("f1",)]
        cur.execute("SELECT to_regclass('build_staging.half')")
        assert cur.fetchone() == (None,)
    con.close()
    pw.discard_build(warehouse)
    assert published_version(warehouse) == 1
    assert not {pw.build_name(s) for s in pw.PUBLISHED} & schemas(warehouse)


def test_a_swap_waits_for_a_held_reader_or_gives_up_leaving_everything_as_it_was(warehouse):
    build_and_publish(warehouse, 1)
    reader = warehouse.connect("read", autocommit=False)
    with reader.cursor() as cur:
        cur.execute("SELECT * FROM marts.meta")  # a BI query's transaction, still open
    pw.start_build(warehouse)
    fake_build(warehouse, 2)
    notes = []
    started = time.monotonic()
    with pytest.raises(pw.PublishGaveUp) as gave_up:
        pw.publish(warehouse, keep=5, attempts=3, say=notes.append, **FAST)
    assert time.monotonic() - started >= 3 * 2 * 0.2 + 0.1 + 0.2  # 3 tries of 2 waits, 2 pauses
    message = str(gave_up.value)
    assert "\n" not in message and "3 tries" in message and "as they were" in message
    assert len(notes) == 2
    with reader.cursor() as cur:  # the reader's transaction is unharmed
        cur.execute("SELECT version FROM marts.meta")
        assert cur.fetchone() == (1,)
    assert published_version(warehouse) == 1 and pw.kept_versions(warehouse) == []
    assert {pw.build_name(s) for s in pw.PUBLISHED} <= schemas(warehouse)  # build kept to retry

    threading.Timer(0.5, reader.commit).start()  # the long query ends while the swap retries
    notes.clear()
    assert pw.publish(warehouse, keep=5, attempts=6, say=notes.append, **FAST)
    assert notes and published_version(warehouse) == 2
    reader.close()


def test_a_repeatable_read_snapshot_older_than_the_swap_is_waited_for(warehouse):
    # Renaming schemas is not MVCC-safe: this reader's snapshot predates the build, so after a
    # swap it would find the new tables and see them empty. The swap waits for it instead.
    build_and_publish(warehouse, 1)
    reader = warehouse.connect("read", autocommit=False)
    reader.set_session(isolation_level="REPEATABLE READ")
    with reader.cursor() as cur:
        cur.execute("SELECT 1")  # its snapshot is taken; it has touched no published table
    pw.start_build(warehouse)
    fake_build(warehouse, 2)
    with pytest.raises(pw.PublishGaveUp):
        pw.publish(warehouse, keep=5, attempts=2, **FAST)
    with reader.cursor() as cur:
        cur.execute(READ)
        assert consistent(cur.fetchone()) == 1  # still the version of its snapshot, whole
    reader.commit()
    pw.publish(warehouse, keep=5, **FAST)
    with reader.cursor() as cur:  # a new transaction, a new snapshot: the new version whole
        cur.execute(READ)
        assert consistent(cur.fetchone()) == 2
    reader.close()


def test_keep_prunes_to_the_newest_versions(warehouse):
    for version in (1, 2, 3, 4):
        build_and_publish(warehouse, version, keep=2)
    stamps = pw.kept_versions(warehouse)
    assert len(stamps) == 2
    con = warehouse.connect("read")
    with con.cursor() as cur:
        kept = []
        for stamp in stamps:
            cur.execute(f'SELECT version FROM "{pw.kept_name(stamp, "marts")}".meta')
            kept.append(cur.fetchone()[0])
    con.close()
    assert kept == [2, 3]  # oldest first: the two replaced last
    assert all(pw.kept_name(s, schema) in schemas(warehouse) for s in stamps
               for schema in pw.PUBLISHED)
    build_and_publish(warehouse, 5, keep=0)
    assert pw.kept_versions(warehouse) == [] and published_version(warehouse) == 5


def test_rollback_publishes_a_kept_version_by_the_same_swap(warehouse):
    for version in (1, 2, 3):
        build_and_publish(warehouse, version)
    first, second = pw.kept_versions(warehouse)  # versions 1 and 2
    replaced = pw.rollback(warehouse, second, keep=5)
    assert published_version(warehouse) == 2
    assert second not in pw.kept_versions(warehouse) and replaced in pw.kept_versions(warehouse)
    pw.rollback(warehouse, replaced, keep=5)  # a second rollback undoes the first
    assert published_version(warehouse) == 3
    with pytest.raises(pw.NothingToPublish):
        pw.rollback(warehouse, "20000101_000000000000", keep=5)
    assert published_version(warehouse) == 3
    assert first in pw.kept_versions(warehouse)


def test_no_statement_sees_a_half_swapped_state(warehouse):
    build_and_publish(warehouse, 1)
    stop = threading.Event()
    errors, mixed, seen = [], [], set()

    def read(con) -> None:
        with con.cursor() as cur:
            cur.execute(READ)
            row = cur.fetchone()
        version = consistent(row)
        if version is None:
            mixed.append(row)
        seen.add(version)

    def fresh():  # a new connection per query, as a dashboard's pool may
        while not stop.is_set():
            time.sleep(THINK)
            try:
                con = warehouse.connect("read")
                try:
                    read(con)
                finally:
                    con.close()
            except Exception as e:  # noqa: BLE001 - every error is a finding
                errors.append(repr(e))

    def held():  # one connection kept across every swap
        con = warehouse.connect("read")
        while not stop.is_set():
            time.sleep(THINK)
            try:
                read(con)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
        con.close()

    def in_transaction():  # several statements per transaction, each one consistent
        con = warehouse.connect("read", autocommit=False)
        while not stop.is_set():
            time.sleep(THINK)
            try:
                read(con)
                read(con)
                con.commit()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                con.rollback()
        con.close()

    def repeatable_read():  # one snapshot for two statements: the same version twice
        con = warehouse.connect("read", autocommit=False)
        con.set_session(isolation_level="REPEATABLE READ")
        while not stop.is_set():
            time.sleep(THINK)
            try:
                with con.cursor() as cur:
                    cur.execute(READ)
                    first = cur.fetchone()
                    time.sleep(0.01)
                    cur.execute(READ)
                    second = cur.fetchone()
                con.commit()
                if first != second or consistent(first) is None:
                    mixed.append((first, second))
                seen.add(consistent(first))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                con.rollback()
        con.close()

    readers = [threading.Thread(target=f)
               for f in (fresh, held, in_transaction, repeatable_read)]
    for r in readers:
        r.start()
    try:
        for version in (2, 3, 4, 5):
            build_and_publish(warehouse, version, keep=2, lock_timeout=0.2, first_pause=0.05)
            time.sleep(0.1)
    finally:
        stop.set()
        for r in readers:
            r.join(10)
    assert errors == [] and mixed == []
    assert published_version(warehouse) == 5
    assert len(seen) >= 3, f"the readers saw only versions {seen}: they did not read through the swaps"


def test_the_reader_role_reads_the_published_schemas_and_nothing_else(warehouse,
                                                                       postgres_server):
    import psycopg2

    pw.ensure_reader(warehouse)  # before anything is published: the role alone
    pw.ensure_reader(warehouse)  # again: nothing to change
    admin = postgres_server.connect(warehouse.database)
    with admin.cursor() as cur:  # a person or a BI tool logs in as a member of the role
        cur.execute("DROP ROLE IF EXISTS bi")
        cur.execute(f"CREATE ROLE bi LOGIN IN ROLE {pw.READER_ROLE}")
    admin.close()

    def as_reader(sql: str):
        con = psycopg2.connect(host="127.0.0.1", port=postgres_server.port, user="bi",
                               dbname=warehouse.database)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchone()
        except psycopg2.errors.InsufficientPrivilege:
            return "denied"
        finally:
            con.close()

    for version in (1, 2):
        build_and_publish(warehouse, version, reader=pw.READER_ROLE)
        assert consistent(as_reader(READ)) == version  # every published schema, after each swap
    (stamp,) = pw.kept_versions(warehouse)
    assert as_reader(f"SELECT version FROM {pw.kept_name(stamp, 'marts')}.meta") == "denied"
    pw.start_build(warehouse)
    fake_build(warehouse, 3)
    assert as_reader("SELECT version FROM build_marts.meta") == "denied"
    assert as_reader("CREATE TABLE marts.mine (x integer)") == "denied"
    pw.rollback(warehouse, stamp, keep=5, reader=pw.READER_ROLE)
    assert consistent(as_reader(READ)) == 1
    pw.discard_build(warehouse)
    with pytest.raises(pw.NothingToPublish, match="role nobody does not exist"):
        build_and_publish(warehouse, 4, reader="nobody")
    assert published_version(warehouse) == 1


def test_a_refresh_killed_mid_swap_leaves_the_published_schemas_as_they_were(warehouse):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    build_and_publish(warehouse, 1)
    pw.start_build(warehouse)
    fake_build(warehouse, 2)
    # a publishing process killed after every rename of its swap, before the commit
    script = (
        "import sys, time\n"
        "from orchestration.core import pg_warehouse as pw\n"
        "renamed = pw._swap_once\n"
        "def then_hang(cur, *args):\n"
        "    kept = renamed(cur, *args)\n"
        "    print('renamed', flush=True)\n"
        "    time.sleep(600)\n"
        "    return kept\n"
        "pw._swap_once = then_hang\n"
        "pw.publish(pw.PostgresWarehouse.from_url(sys.argv[1]), keep=5)\n")
    root = Path(pw.__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", script, warehouse.url], cwd=root,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "renamed"  # (readers now wait for it)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert published_version(warehouse) == 1  # the server rolled the swap back
    assert pw.kept_versions(warehouse) == []
    assert {pw.build_name(s) for s in pw.PUBLISHED} <= schemas(warehouse)
    build_and_publish(warehouse, 2)  # the next refresh starts clean and publishes
    assert published_version(warehouse) == 2


def test_a_role_that_cannot_see_other_roles_snapshots_is_told(warehouse, postgres_server):
    """Without pg_read_all_stats the swap is blind to another role's REPEATABLE READ reader: the
    publish and `kfor grant-reader` say so (core/engine.BLIND_SWAP)."""
    admin = postgres_server.connect(warehouse.database)
    with admin.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS refresher")
        cur.execute("CREATE ROLE refresher LOGIN")
    plain = pw.PostgresWarehouse.from_url(f"postgresql://refresher@127.0.0.1:"
                                          f"{postgres_server.port}/{warehouse.database}")
    assert pw.sees_other_sessions(warehouse) and not pw.sees_other_sessions(plain)
    with admin.cursor() as cur:
        cur.execute("GRANT pg_read_all_stats TO refresher")
    admin.close()
    assert pw.sees_other_sessions(plain)
