"""A Postgres warehouse end to end through `kfor`, as a user runs it (issues 24, 25): one setting
(KFOR_WAREHOUSE=postgresql://user@host:port/db) and every command works on the server. The
bundled page is published, then a later version (dbt reads build_raw: the marts hold both
versions), then a page a blocking check rejects (the published schemas untouched, the scratch
schemas gone), then a rollback by the same swap. The reader role reads the published schemas
after each swap; the URL is shown without its user; `kfor sql` is read-only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from reliability.bad_pages import zero_troops
from reliability.harness import kfor
from support import pages
from support.fetch_log import fetches

from orchestration.core import pg_warehouse as pw
from orchestration.core.layout import bundled_snapshot

pytestmark = pytest.mark.slow  # the Postgres server tests are CI's slow layer (issue 20)


def page(tmp_path: Path, name: str, body: bytes) -> str:
    path = tmp_path / f"{name}.html"
    path.write_bytes(body)
    return path.as_uri()


def schemas(server, database: str) -> set[str]:
    con = server.connect(database)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT nspname FROM pg_namespace WHERE nspname !~ '^(pg_|information)'")
            return {name for (name,) in cur.fetchall()}
    finally:
        con.close()


def test_every_command_works_on_a_postgres_warehouse(postgres_server, tmp_path, monkeypatch,
                                                     raw_dir):
    url = postgres_server.create_database("e2e")
    monkeypatch.setenv("KFOR_WAREHOUSE", url)
    shown = url.replace("kfor@", "")  # how every message names it: no user-info
    server = pw.PostgresWarehouse.from_url(url)

    out = kfor("refresh", "--source", bundled_snapshot().as_uri())
    assert out.returncode == 0 and out.stdout.startswith("published: "), out.stderr
    assert f" to {shown} (" in out.stdout
    v1 = pw.read_meta(server)["content_sha256"]
    assert pw.read_meta(server)["engine_version"].startswith("PostgreSQL ")
    out = kfor("grant-reader")  # as a superuser: it sees every snapshot, so no warning
    assert out.returncode == 0 and out.stderr == "", out.stderr
    con = postgres_server.connect("e2e")
    with con.cursor() as cur:  # a BI tool's login, a member of the reader role
        cur.execute(f"CREATE ROLE bi_e2e LOGIN IN ROLE {pw.READER_ROLE}")
    con.close()

    out = kfor("refresh", "--source", page(tmp_path, "v2", pages.v2()))
    assert out.returncode == 0 and out.stdout.startswith("published: "), out.stderr
    v2 = pw.read_meta(server)["content_sha256"]
    assert v2 != v1 and pw.mart_counts(server)["fct_page_version"] == 2  # dbt read build_raw
    assert len(pw.kept_versions(server)) == 1

    out = kfor("refresh", "--source", page(tmp_path, "zero", zero_troops()[0]))
    assert out.returncode == 1 and out.stderr.startswith("rejected: "), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert fetches(raw_dir)[-1]["outcome"].startswith("rejected: ")
    assert pw.read_meta(server)["content_sha256"] == v2  # the published schemas untouched
    assert not {s for s in schemas(postgres_server, "e2e") if s.startswith(pw.BUILD_PREFIX)}

    status = kfor("status", "--json")
    assert status.returncode == 0, status.stderr
    shown_status = json.loads(status.stdout)
    assert shown_status["warehouse"] == shown and shown_status["published"]["content_sha256"] == v2
    assert "kfor@" not in status.stdout
    # the host's own files: dbt's target beside the raw folder, nothing in a warehouse folder
    assert Path(shown_status["files"]["dbt target"]).parent.parent == raw_dir.parent
    assert not (raw_dir.parent / "warehouse").exists()

    out = kfor("rollback")
    assert out.returncode == 0 and out.stdout.startswith("rolled back: "), out.stderr
    assert pw.read_meta(server)["content_sha256"] == v1
    assert fetches(raw_dir)[-1]["source"] == "rollback"

    import psycopg2

    reader = psycopg2.connect(host="127.0.0.1", port=postgres_server.port, user="bi_e2e",
                              dbname="e2e")
    with reader.cursor() as cur:  # the grant followed both swaps (publish and rollback)
        cur.execute("SELECT content_sha256 FROM marts.meta")
        assert cur.fetchone() == (v1,)
    reader.close()

    if shutil.which("psql"):
        out = kfor("sql", "--csv", "-c", "SELECT content_sha256 FROM marts.meta")
        assert out.returncode == 0 and out.stdout.split() == ["content_sha256", v1], out.stderr
        out = kfor("sql", "-c", "CREATE TABLE marts.mine (x integer)")
        assert out.returncode != 0 and "read-only transaction" in out.stderr
