"""Faults on the wired Postgres path (issue 25): the server stopped mid-build, refused credentials,
a full tablespace, a lost refresh lock, a refresh killed mid-swap or cut off after it committed.
The published schemas stay as they were or become the new version whole; the fetch log and the
alert say why in one line, naming the server redacted and never a password; the next refresh
cleans the scratch schemas up. `kfor refresh` runs as a user runs it, against a server of this
module's own (one test stops it), with KFOR_WEBHOOK_URL on a local receiver.

Where a lower layer decides, it is tested there: the swap a killed publisher leaves is rolled
back by the server (test_pg_publish.py); what is left for the next refresh is recovery's, tested
here without dbt."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from reliability.faults import WebhookReceiver
from reliability.harness import kfor, log_records, start_kfor, wait_until
from support import pages
from support.fetch_log import fetches
from test_pg_publish import build_and_publish, fake_build, published_version

from orchestration.core import pg_warehouse as pw
from orchestration.core import raw_tables
from orchestration.core import settings as settings_module
from orchestration.core.engine import PostgresEngine
from orchestration.core.files import WarehouseFiles
from orchestration.core.outcome import intend
from orchestration.core.pg_lock import LockLost
from orchestration.core.recovery import recover
from orchestration.core.settings import Settings

pytestmark = pytest.mark.slow  # the Postgres tests are CI's slow layer

SCRAM_ROLE = "kfor_scram"  # logs in with a password only (scram-sha-256), unlike the trust user
SCRAM_SECRET = "Pw-7f3c9a1e-never-written"
BUILD = {pw.build_name(s) for s in pw.PUBLISHED}


@pytest.fixture(scope="module")
def server(own_postgres_server):
    """The module's server, with a role that must give a password (a pg_hba line ahead of the
    throwaway server's trust lines), and the local dbt folders of its warehouses removed after."""
    hba = own_postgres_server.data / "pg_hba.conf"
    hba.write_text(f"host all {SCRAM_ROLE} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    con = own_postgres_server.connect()
    with con.cursor() as cur:
        cur.execute(f"CREATE ROLE {SCRAM_ROLE} LOGIN SUPERUSER PASSWORD %s", [SCRAM_SECRET])
        cur.execute("SELECT pg_reload_conf()")
    con.close()
    yield own_postgres_server
    for folder in Settings().warehouse.parent.glob(f".127.0.0.1_{own_postgres_server.port}_*"):
        shutil.rmtree(folder, ignore_errors=True)  # dbt's target of each warehouse (local_name)


@pytest.fixture
def hook():
    with WebhookReceiver() as receiver:
        yield receiver


def url(server, database: str, user: str = "kfor") -> str:
    return f"postgresql://{user}@127.0.0.1:{server.port}/{database}"


def schemas(server, database: str) -> dict[str, int]:
    """The database's own schemas and their oids (a schema renamed keeps its oid)."""
    con = server.connect(database)
    with con.cursor() as cur:
        cur.execute("SELECT nspname, oid::int FROM pg_namespace WHERE nspname !~ '^pg_' "
                    "AND nspname NOT IN ('information_schema', 'public')")
        found = dict(cur.fetchall())
    con.close()
    return found


def page_url(tmp_path: Path, name: str, body: bytes) -> str:
    path = tmp_path / f"{name}.html"
    path.write_bytes(body)
    return path.as_uri()


def one_line(proc: subprocess.CompletedProcess | tuple) -> str:
    err = proc.stderr if isinstance(proc, subprocess.CompletedProcess) else proc[1]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def secret_free(*texts: str, user: str | None = None) -> None:
    """No password, and the server only as its redacted URL (no user-info)."""
    for text in texts:
        assert SCRAM_SECRET not in text
        assert f"{user or 'kfor'}@127.0.0.1" not in text


def test_a_server_stopped_mid_build_keeps_the_published_version_and_the_next_refresh_cleans_up(
        server, hook, tmp_path, raw_dir, dagster_home):
    """The server stops (as in a crash) while dbt builds: the run concludes its fetch itself, in
    one line; the build schemas cannot be dropped then, and the next refresh drops them (a
    publish after that is any refresh's). Every refresh logs in with a password, which nothing
    writes."""
    server.create_database("stopped")
    env = {"KFOR_WAREHOUSE": url(server, "stopped", SCRAM_ROLE), "PGPASSWORD": SCRAM_SECRET,
           "KFOR_WEBHOOK_URL": hook.url()}
    warehouse = pw.PostgresWarehouse.from_url(url(server, "stopped"))
    v1_page = page_url(tmp_path, "v1", pages.v1())
    first = kfor("refresh", "--source", v1_page, env=env)
    assert first.returncode == 0, first.stderr
    v1 = pw.read_meta(warehouse)["content_sha256"]
    published = {name: oid for name, oid in schemas(server, "stopped").items()
                 if name in pw.PUBLISHED}

    def dbt_building() -> bool:
        """dbt has begun its nodes (a seed's or a model's table): a failure there is in its
        run_results. (Stopped earlier, while dbt lists relations, the cause is only in dbt.log:
        reported, not pinned.)"""
        con = server.connect("stopped")
        with con.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kfor-dbt'"
                        " AND query ~* 'create\\s+table|insert\\s+into'")
            found = cur.fetchone()[0] > 0
        con.close()
        return found

    v2 = page_url(tmp_path, "v2", pages.v2())
    proc = start_kfor("refresh", "--source", v2, env=env)
    try:
        assert wait_until(lambda: proc.poll() is not None or dbt_building(), timeout=240)
        assert proc.poll() is None, proc.communicate()
        server.stop(mode="immediate")
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.start()  # the same port, after crash recovery
    line = one_line((out, err))
    assert proc.returncode == 1 and out == ""
    record = log_records(raw_dir)[-1]
    assert line == record["outcome"] and line.startswith("failed: ")  # not the intent's `building`
    assert re.search(r"server closed the connection|Connection refused|terminating connection|"
                     r"shutting down", line), line
    (alert,) = [p["json"] for p in hook.wait_for(1)]
    assert alert["event"] == "refresh_failed" and alert["outcome"] == record["outcome"]
    assert alert["warehouse"] == f"postgresql://127.0.0.1:{server.port}/stopped"
    assert "\n" not in record["message"] and "\n" not in alert["message"]
    after = schemas(server, "stopped")
    assert {n: after[n] for n in pw.PUBLISHED} == published  # the very same schemas
    assert set(after) >= BUILD and pw.read_meta(warehouse)["content_sha256"] == v1

    # the next refresh, one that finds the page unchanged (no build of its own): it drops them
    nxt = kfor("refresh", "--source", v1_page, env=env)
    assert nxt.returncode == 0 and nxt.stderr == "", nxt.stderr  # nothing left to recover
    assert nxt.stdout.startswith(f"unchanged: page version {v1[:12]} is already published")
    assert schemas(server, "stopped") == published and len(hook.posts) == 1
    dbt_target = Settings.from_env({**os.environ, **env}).files.build_dir
    local = [p for root in (raw_dir, dagster_home, dbt_target) for p in root.rglob("*")
             if p.is_file()]
    assert any(p.name == "dbt.log" for p in local)  # dbt's own log is looked at too
    secret_free(first.stdout, nxt.stdout, line, json.dumps(alert),
                *(p.read_bytes().decode(errors="replace") for p in local), user=SCRAM_ROLE)


@pytest.mark.parametrize("user, password, says", [
    ("kfor_nobody", None, 'role "kfor_nobody" does not exist'),
    (SCRAM_ROLE, "Wrong-" + SCRAM_SECRET, f'password authentication failed for user "{SCRAM_ROLE}"'),
], ids=["no such role", "wrong password"])
def test_refused_credentials_are_one_line_without_the_password(server, hook, tmp_path, raw_dir,
                                                               dagster_home, user, password, says):
    database = "refused_" + user
    server.create_database(database)
    env = {"KFOR_WAREHOUSE": url(server, database, user), "KFOR_WEBHOOK_URL": hook.url(),
           "PGPASSWORD": password or ""}
    proc = kfor("refresh", "--source", page_url(tmp_path, "v1", pages.v1()), env=env)
    line = one_line(proc)
    assert proc.returncode == 1 and proc.stdout == ""
    assert line.startswith(f"failed: ConnectionError: cannot connect to "
                           f"postgresql://127.0.0.1:{server.port}/{database}: ") and says in line
    record = log_records(raw_dir)[-1]
    (alert,) = [p["json"] for p in hook.wait_for(1)]
    assert line == record["outcome"] == alert["outcome"]
    assert schemas(server, database) == {}  # nothing built, nothing published
    logged = [p.read_bytes().decode(errors="replace")
              for root in (raw_dir, dagster_home) for p in root.rglob("*") if p.is_file()]
    secret_free(line, json.dumps(alert), *logged, user=user)


def test_a_full_tablespace_fails_the_build_in_one_line_and_the_space_is_given_back(
        server, hook, tmp_path, raw_dir):
    """The disk the warehouse's tables go to fills up: a tablespace on a small tmpfs (root only),
    the database's default_tablespace, filled to the last byte. The server's own disk (its WAL)
    stays free: a full WAL disk stops the server, the case above."""
    if os.geteuid() != 0 or server.user is None:
        pytest.skip("a full disk is a tmpfs mounted for the server's tablespace: needs root")
    disk = server.folder / "full"
    disk.mkdir()
    owner = f"uid={os.stat(server.data).st_uid},gid={os.stat(server.data).st_gid}"
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=1m,mode=0700,{owner}", "tmpfs",
                            str(disk)], capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
    admin = server.connect()
    try:
        server.create_database("disk_full")
        with admin.cursor() as cur:
            cur.execute(f"CREATE TABLESPACE kfor_full LOCATION '{disk}'")
            cur.execute("ALTER DATABASE disk_full SET default_tablespace = kfor_full")
        # the rest of the disk, to the last byte
        with open(disk / "filler", "wb", buffering=0) as filler, \
                pytest.raises(OSError, match="No space left"):
            while True:
                filler.write(b"\0" * 65536)
        env = {"KFOR_WAREHOUSE": url(server, "disk_full"), "KFOR_WEBHOOK_URL": hook.url()}
        proc = kfor("refresh", "--source", page_url(tmp_path, "v1", pages.v1()), env=env)
        line = one_line(proc)
        assert proc.returncode == 1
        assert line.startswith("failed: DiskFull: could not extend file") \
            and "No space left on device" in line, line
        record = log_records(raw_dir)[-1]
        (alert,) = [p["json"] for p in hook.wait_for(1)]
        assert line == record["outcome"] == alert["outcome"]
        assert "\n" not in record["message"] and alert["message"] == record["message"]
        assert schemas(server, "disk_full") == {}  # the build schemas dropped by the failed run
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS disk_full WITH (FORCE)")
            cur.execute("DROP TABLESPACE IF EXISTS kfor_full")
        admin.close()
        subprocess.run(["umount", str(disk)], check=True)


def engine_of(server, database: str, tmp_path: Path) -> PostgresEngine:
    return PostgresEngine(pw.PostgresWarehouse.from_url(url(server, database)),
                          WarehouseFiles(tmp_path / f"{database}.postgres"))


def test_a_lost_refresh_lock_refuses_the_engines_publish_and_rollback(server, tmp_path):
    """The lock's session ends mid-build (a restart, a dropped connection): the engine's publish
    and its rollback both check, inside the swap, that the lock is still this process's."""
    server.create_database("lock_lost")
    engine = engine_of(server, "lock_lost", tmp_path)
    with engine.lock():
        for _ in range(2):  # a published version and a kept one
            with engine.building(empty=True):
                pass
            engine.publish(keep=5)
        (kept,) = engine.kept()
        with engine.building(empty=True):
            pass
        before = schemas(server, "lock_lost")
        con = server.connect("lock_lost")
        with con.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'kfor-refresh pid %%'")
        con.close()
        with pytest.raises(LockLost, match="nothing was published"):
            engine.publish(keep=5)
        with pytest.raises(LockLost):
            engine.publish_kept(kept, keep=5)
    assert schemas(server, "lock_lost") == before


def test_a_server_gone_leaves_the_build_schemas_to_the_next_refresh(tmp_path):
    from support.postgres import free_port

    engine = PostgresEngine(pw.PostgresWarehouse.from_url(f"postgresql://kfor@127.0.0.1:"
                                                          f"{free_port()}/gone"),
                            WarehouseFiles(tmp_path / "gone.postgres"))
    engine.discard_build()  # no error: the run that calls it must still conclude its fetch


def test_recovery_settles_refreshes_killed_before_and_after_the_swap_committed(
        server, hook, raw_dir, monkeypatch):
    """What a refresh killed in its swap leaves (the server rolled the swap back: its intent
    without a final record, the build schemas), and one killed after the commit (its intent; the
    published copy of the log says `published`): recovery settles both, from the log and the
    published schemas alone."""
    server.create_database("killed")
    monkeypatch.setenv("KFOR_WAREHOUSE", url(server, "killed"))
    monkeypatch.setenv("KFOR_WEBHOOK_URL", hook.url())
    settings_module.get.cache_clear()
    settings = Settings.from_env()
    engine = settings.engine
    base = {"url": "file:///p.html", "source": "file", "body_sha256": None}
    ids = {"after": f"after-commit-{uuid.uuid4().hex}", "mid": f"mid-swap-{uuid.uuid4().hex}"}
    after = intend(settings, {**base, "fetch_id": ids["after"], "content_sha256": "v1",
                              "fetched_at": "2026-01-01T00:00:00.000000Z"})
    intend(settings, {**base, "fetch_id": ids["mid"], "content_sha256": "v2",
                      "fetched_at": "2026-01-02T00:00:00.000000Z"})
    with engine.lock():
        with engine.building(empty=True) as con:
            raw_tables.load_fetch_log(con, [{**after, "outcome": "published"}])
        admin = server.connect("killed")
        with admin.cursor() as cur:
            cur.execute("CREATE TABLE build_marts.meta AS SELECT 'v1'::varchar AS content_sha256")
        admin.close()
        engine.publish(keep=5)
        with engine.building():  # the second refresh's build, its swap rolled back
            pass
    assert recover(settings) == [
        "completed the fetch log of a refresh interrupted after it published",
        "logged an interrupted refresh as failed"]
    assert [(r["fetch_id"], r["outcome"]) for r in fetches(raw_dir)] == [
        (ids["after"], "published"), (ids["mid"], "failed: interrupted")]
    (alert,) = [p["json"] for p in hook.wait_for(1)]
    assert alert["fetch_id"] == ids["mid"] and alert["outcome"] == "failed: interrupted"
    assert not BUILD & set(schemas(server, "killed"))
    assert pw.read_meta(engine.server) == {"content_sha256": "v1"}


def test_a_publish_cut_off_while_pruning_is_published_all_the_same(server):
    """After the swap commits, pruning the kept versions opens sessions of its own; one the
    server cuts off (here an event trigger ends the session at its DROP SCHEMA) must not turn a
    publish into a failure: the run would log the published version `failed`, and a replay of the
    log would lose it."""
    warehouse = pw.PostgresWarehouse.from_url(server.create_database("prune_cut"))
    build_and_publish(warehouse, 1)
    build_and_publish(warehouse, 2)
    pw.start_build(warehouse)
    fake_build(warehouse, 3)
    admin = server.connect("prune_cut")
    with admin.cursor() as cur:
        cur.execute("CREATE FUNCTION cut() RETURNS event_trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); END $$")
        cur.execute("CREATE EVENT TRIGGER cut_prune ON ddl_command_start "
                    "WHEN TAG IN ('DROP SCHEMA') EXECUTE FUNCTION cut()")
    notes = []
    stamp = pw.publish(warehouse, keep=1, say=notes.append)
    assert published_version(warehouse) == 3 and stamp in pw.kept_versions(warehouse)
    (note,) = notes
    assert re.fullmatch(r"the kept versions were not pruned \(.*connection.*\); the next publish "
                        r"prunes them", note), note
    with admin.cursor() as cur:
        cur.execute("DROP EVENT TRIGGER cut_prune")
    admin.close()
    build_and_publish(warehouse, 4, keep=1)  # the next publish prunes
    assert published_version(warehouse) == 4 and len(pw.kept_versions(warehouse)) == 1
