"""The refresh lock of a Postgres warehouse (core/pg_lock.py) on a real server: a second holder is
refused naming the first, waits and gets it once the first lets go, and a holder whose connection
ends (a killed refresh) leaves no stale lock. Plus the URL's checks (core/pg_warehouse.py)."""

from __future__ import annotations

import threading
import time

import pytest

from orchestration.core.lock import RefreshBusy
from orchestration.core.pg_lock import _held, holder, is_free, refresh_lock
from orchestration.core.pg_warehouse import PostgresUrlError, PostgresWarehouse

pytestmark = pytest.mark.slow  # the Postgres tests are CI's slow layer


@pytest.fixture
def warehouse(postgres_server, request):
    name = "lock_" + request.node.name[5:40].lower()
    return PostgresWarehouse.from_url(postgres_server.create_database(name))


def other_process(fn):
    """Run `fn` as another process would: core/pg_lock is reentrant within a process, so the
    second holder must not see the first one's entry."""
    saved = dict(_held)
    _held.clear()
    try:
        return fn()
    finally:
        _held.clear()
        _held.update(saved)


def test_a_second_holder_is_refused_naming_the_first_then_waits_and_gets_it(warehouse):
    with refresh_lock(warehouse) as reentered:
        assert reentered is False and not is_free(warehouse)

        def refused():
            with pytest.raises(RefreshBusy) as busy, refresh_lock(warehouse, wait=0.3):
                pass
            return str(busy.value)

        started = time.monotonic()
        message = other_process(refused)
        assert time.monotonic() - started >= 0.3  # it waited its `wait` before refusing
        assert "already running" in message and "kfor-refresh pid" in message
        assert "server pid" in message and "127.0.0.1" in message
        assert "kfor@" not in message  # the URL shown redacted

        # re-entered in the same process: no second lock, no refusal
        with refresh_lock(warehouse) as again:
            assert again is True

        got = []

        def waiter():
            def take():
                with refresh_lock(warehouse, wait=10) as re:
                    got.append((re, time.monotonic()))
            other_process(take)

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.5)
        released = time.monotonic()
    thread.join(15)
    assert got and got[0][0] is False and got[0][1] >= released  # got it only once released
    assert is_free(warehouse)


def test_a_holder_whose_session_ends_leaves_no_stale_lock(warehouse, postgres_server):
    con = postgres_server.connect(warehouse.database)
    with con.cursor() as cur:  # a refresh killed mid-build: its session ends with it
        from orchestration.core.pg_lock import PROJECT_KEY, database_key
        cur.execute("SELECT pg_advisory_lock(%s, %s)", [PROJECT_KEY, database_key(warehouse.database)])
    assert holder(warehouse) is not None
    con.close()
    deadline = time.monotonic() + 5
    while not is_free(warehouse) and time.monotonic() < deadline:
        time.sleep(0.05)
    with refresh_lock(warehouse) as reentered:
        assert reentered is False


def test_the_lock_is_per_database(postgres_server, warehouse):
    other = PostgresWarehouse.from_url(postgres_server.create_database("lock_other"))
    with refresh_lock(warehouse):
        assert is_free(other)

        def take_other():
            with refresh_lock(other) as reentered:  # not refused: another database's lock
                return reentered

        assert other_process(take_other) is False


@pytest.mark.parametrize("url, says", [
    ("postgresql://kfor:s3cret@127.0.0.1:5432/kfor", "carries a password"),
    ("postgresql://kfor@127.0.0.1:5432/kfor?password=s3cret", "carries a password"),
    ("postgresql://kfor@127.0.0.1:5432/", "names no database"),
    ("postgresql://kfor@127.0.0.1:port/kfor", "not a number"),
    ("mysql://kfor@127.0.0.1/kfor", "is not a postgresql://"),
])
def test_a_bad_url_is_refused_in_one_line_without_its_password(url, says):
    with pytest.raises(PostgresUrlError) as refused:
        PostgresWarehouse.from_url(url)
    message = str(refused.value)
    assert says in message and "s3cret" not in message and "\n" not in message


def test_the_display_form_has_no_user():
    warehouse = PostgresWarehouse.from_url("postgresql://kfor@db.example:5432/kfor?sslmode=require")
    assert warehouse.display == "postgresql://db.example:5432/kfor?sslmode=require"
    assert warehouse.database == "kfor"


def test_a_publish_after_the_lock_was_lost_is_refused_and_publishes_nothing(warehouse,
                                                                            postgres_server):
    from test_pg_publish import build_and_publish, fake_build, published_version

    from orchestration.core import pg_warehouse as pw
    from orchestration.core.pg_lock import LockLost, lock_guard

    build_and_publish(warehouse, 1)
    with refresh_lock(warehouse):
        pw.start_build(warehouse)
        fake_build(warehouse, 2)
        assert pw.publish(warehouse, keep=5, guard=lock_guard(warehouse))  # held: published
        assert published_version(warehouse) == 2
        pw.start_build(warehouse)
        fake_build(warehouse, 3)
        guard = lock_guard(warehouse)
        admin = postgres_server.connect(warehouse.database)
        with admin.cursor() as cur:  # the server ends the lock's session (a restart, a drop)
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'kfor-refresh pid %%'")
        admin.close()
        with pytest.raises(LockLost) as lost:
            pw.publish(warehouse, keep=5, guard=guard)
        assert "nothing was published" in str(lost.value) and "\n" not in str(lost.value)
        assert published_version(warehouse) == 2
        con = warehouse.connect()
        with con.cursor() as cur:  # the build stays for the next refresh to drop
            assert {pw.build_name(s) for s in pw.PUBLISHED} <= pw._schemas(cur)
        con.close()
    with pytest.raises(LockLost):
        lock_guard(warehouse)  # not held at all


def test_an_unreachable_server_is_said_in_one_line_without_the_user(postgres_server):
    from support.postgres import free_port

    warehouse = PostgresWarehouse.from_url(f"postgresql://kfor@127.0.0.1:{free_port()}/kfor")
    with pytest.raises(ConnectionError) as refused:
        warehouse.connect()
    message = str(refused.value)
    assert message.startswith(f"cannot connect to {warehouse.display}: ")
    assert "\n" not in message and "kfor@" not in message
