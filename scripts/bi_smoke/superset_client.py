"""The Superset side of `make bi-smoke`, run with the Superset venv's Python against a
`superset run` on 127.0.0.1. Standard library only.

    superset_client.py BASE_URL USER PASSWORD WAREHOUSE REFRESH_CMD...

WAREHOUSE is a DuckDB file or a Postgres login role's URL, postgresql://role@host:port/database
(its password in the environment variable KFOR_READER_PASSWORD, never on the command line).

1. logs in through the REST API (JWT) and registers WAREHOUSE as a database: a DuckDB file through
   duckdb-engine, read-only (`{"engine_params": {"connect_args": {"read_only": true}}}` in Extra);
   Postgres through Superset's PostgreSQL form (host, port, database, username, password), then
   checks that Superset shows the connection without the password. In SQL Lab it checks that the
   connection is read-only: DuckDB's access_mode, or for Postgres that the session is the login
   role, a member of kfor_reader, and may create nothing in the published schemas;
2. starts REFRESH_CMD (a `kfor refresh` that publishes a new version) and, while it runs, keeps
   running a SQL Lab query (POST /api/v1/sqllab/execute/) on marts.fct_command_tenure;
3. after the refresh exits, queries until SQL Lab sees the new version; on Postgres, checks that
   the version the swap replaced (a kept_* schema) is refused to the role.

Exit 0 only when every query succeeded with a complete version (28 or 29 tenures, one version key
agreeing with marts.meta), at least one ran during the refresh, the last one sees 29 tenures, and
the refresh exited 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

TENURES = """SELECT t.command_sequence, t.commander_key, t.start_date, t.end_date,
       t.content_sha256 = m.content_sha256 AS agrees_with_meta
FROM marts.fct_command_tenure AS t CROSS JOIN marts.meta AS m
ORDER BY t.command_sequence"""
READER_ROLE = "kfor_reader"
PUBLISHED = ("raw", "staging", "marts", "snapshots")
# Postgres: the session holds the login role's and kfor_reader's privileges and may create nothing
# where it reads (a superuser or the owner could). SQL Lab refuses current_user, pg_stat_activity
# and the like on Postgres (DISALLOWED_SQL_FUNCTIONS, DISALLOWED_SQL_TABLES), hence pg_has_role.
def identity(role: str) -> str:
    can_create = " OR ".join(f"has_schema_privilege('{s}', 'CREATE')" for s in PUBLISHED)
    return (f"SELECT pg_has_role('{role}', 'member') AS is_role, "
            f"pg_has_role('{READER_ROLE}', 'member') AS reader, {can_create} AS can_create")


KEPT_MARTS = """SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kept%marts'
ORDER BY nspname DESC LIMIT 1"""


class Superset:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.token: str | None = None

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Referer", self.base + "/")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return e.code, {"raw": raw.decode(errors="replace")[:500]}

    def login(self, user: str, password: str) -> None:
        status, body = self.call("POST", "/api/v1/security/login",
                                 {"username": user, "password": password, "provider": "db",
                                  "refresh": False})
        if status != 200:
            sys.exit(f"bi-smoke: login failed ({status}): {body}")
        self.token = body["access_token"]

    def add_database(self, name: str, warehouse: str) -> int:
        extra = {"engine_params": {"connect_args": {"read_only": True}}}
        status, body = self.call("POST", "/api/v1/database/", {
            "database_name": name, "sqlalchemy_uri": f"duckdb:///{warehouse}",
            "expose_in_sqllab": True, "allow_dml": False, "extra": json.dumps(extra)})
        return self._added(status, body)

    def add_postgres(self, name: str, url: str, password: str) -> int:
        """The PostgreSQL form of *Settings > Database Connections* (the `dynamic_form`
        configuration method): the password goes in its own field, never into a URI."""
        parts = urlsplit(url)
        status, body = self.call("POST", "/api/v1/database/", {
            "database_name": name, "engine": "postgresql", "configuration_method": "dynamic_form",
            "parameters": {"host": parts.hostname, "port": parts.port or 5432,
                           "database": unquote(parts.path.lstrip("/")),
                           "username": unquote(parts.username or ""), "password": password},
            "expose_in_sqllab": True, "allow_dml": False})
        return self._added(status, body, secret=password)

    @staticmethod
    def _added(status: int, body: dict, secret: str = "") -> int:
        if status not in (200, 201):
            shown = json.dumps(body)
            sys.exit(f"bi-smoke: registering the warehouse failed ({status}): "
                     f"{shown.replace(secret, '[password]') if secret else shown}")
        return body["id"]

    def sql(self, database_id: int, sql: str) -> tuple[int, dict]:
        return self.call("POST", "/api/v1/sqllab/execute/", {
            "database_id": database_id, "sql": sql, "schema": "marts", "runAsync": False,
            "queryLimit": 1000, "client_id": f"c{time.monotonic_ns() % 10**9}"[:10]})


def check_result(status: int, body: dict) -> tuple[int | None, str | None]:
    """(rows, None) for a complete version, (None, why) otherwise."""
    if status != 200 or body.get("status") != "success":
        return None, f"HTTP {status}: {json.dumps(body)[:400]}"
    rows = body.get("data") or []
    n = len(rows)
    if n not in (28, 29):
        return None, f"{n} rows (expected 28 or 29)"
    if not all(r.get("agrees_with_meta") for r in rows):
        return None, "tenures and marts.meta disagree on the version"
    if [r["command_sequence"] for r in rows] != list(range(1, n + 1)):
        return None, "command_sequence is not 1..n"
    return n, None


def first_row(status: int, body: dict) -> dict:
    return (body.get("data") or [{}])[0] if status == 200 else {}


def register_duckdb(api: Superset, warehouse: str) -> int | None:
    db_id = api.add_database("kfor (read-only)", warehouse)
    print(f"bi-smoke: registered {warehouse} as Superset database {db_id} "
          "(duckdb-engine, connect_args read_only)")
    status, body = api.sql(db_id, "SELECT current_setting('access_mode') AS access_mode")
    if first_row(status, body).get("access_mode") != "read_only":
        print(f"bi-smoke: FAIL: the connection is not read-only ({status}: {body})")
        return None
    return db_id


def register_postgres(api: Superset, url: str) -> int | None:
    password = os.environ.get("KFOR_READER_PASSWORD", "")
    role = unquote(urlsplit(url).username or "")
    db_id = api.add_postgres("kfor on Postgres (kfor_reader)", url, password)
    status, body = api.call("GET", f"/api/v1/database/{db_id}/connection")
    shown = (body.get("result") or {}).get("sqlalchemy_uri")
    if status != 200 or not shown or (password and password in json.dumps(body)):
        print(f"bi-smoke: FAIL: Superset shows the connection with its password, or not at all "
              f"({status})")
        return None
    print(f"bi-smoke: registered Superset database {db_id} as the login role {role} "
          f"(PostgreSQL form); Superset shows it as {shown}")
    row = first_row(*api.sql(db_id, identity(role)))
    if row != {"is_role": True, "reader": True, "can_create": False}:
        print(f"bi-smoke: FAIL: SQL Lab's session is not {role}, a read-only member of "
              f"{READER_ROLE}: {row}")
        return None
    return db_id


def kept_is_refused(api: Superset, db_id: int) -> bool:
    """The schemas the swap replaced stay readable to the refresh's role only."""
    kept = first_row(*api.sql(db_id, KEPT_MARTS)).get("nspname")
    if not kept:
        print("bi-smoke: FAIL: no kept_*_marts schema after the publish")
        return False
    status, body = api.sql(db_id, f"SELECT count(*) AS n FROM {kept}.fct_command_tenure")
    if status == 200 and body.get("status") == "success":
        print(f"bi-smoke: FAIL: the reader role reads the replaced version {kept}")
        return False
    print(f"bi-smoke: the replaced version {kept} is refused to the reader role")
    return True


def main(base: str, user: str, password: str, warehouse: str, *refresh_cmd: str) -> int:
    api = Superset(base)
    api.login(user, password)
    postgres = warehouse.startswith(("postgresql://", "postgres://"))
    db_id = register_postgres(api, warehouse) if postgres else register_duckdb(api, warehouse)
    if db_id is None:
        return 1

    n, why = check_result(*api.sql(db_id, TENURES))
    if n != 28:
        print(f"bi-smoke: FAIL: before the refresh SQL Lab saw {n} tenures ({why})")
        return 1
    print("bi-smoke: SQL Lab reads marts.fct_command_tenure: 28 tenures (v1 published)")

    started = time.monotonic()
    refresh = subprocess.Popen(list(refresh_cmd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    results: list[tuple[float, int | None, str | None]] = []
    while refresh.poll() is None and time.monotonic() - started < 600:
        results.append((time.monotonic(), *check_result(*api.sql(db_id, TENURES))))
    if refresh.poll() is None:
        refresh.kill()
    out, err = refresh.communicate()
    during = len(results)
    finished = time.monotonic()
    while time.monotonic() - finished < 60:  # until a query sees the published version
        results.append((time.monotonic(), *check_result(*api.sql(db_id, TENURES))))
        if results[-1][1] == 29:
            break
        time.sleep(0.2)

    failures = [why for _, n, why in results if why]
    counts = [n for _, n, _ in results]
    print(f"bi-smoke: refresh exited {refresh.returncode} after {finished - started:.1f} s: "
          f"{(out or err).strip().splitlines()[-1] if (out or err).strip() else ''}")
    print(f"bi-smoke: {len(results)} SQL Lab queries ({during} while the refresh ran): "
          f"{counts.count(28)} saw 28 tenures, {counts.count(29)} saw 29, "
          f"{len(failures)} failed")
    ok = True
    if refresh.returncode != 0:
        print(f"bi-smoke: FAIL: the refresh exited {refresh.returncode}: {err.strip()}")
        ok = False
    if failures:
        print("bi-smoke: FAIL: " + "; ".join(dict.fromkeys(failures)))
        ok = False
    if during < 1:
        print("bi-smoke: FAIL: no query ran while the refresh was running")
        ok = False
    if not counts or counts[-1] != 29:
        print("bi-smoke: FAIL: SQL Lab never saw the published version (29 tenures)")
        ok = False
    if any(a == 29 and b == 28 for a, b in zip(counts, counts[1:], strict=False)):
        print("bi-smoke: FAIL: a query went back to the old version after seeing the new one")
        ok = False
    if postgres and refresh.returncode == 0 and not kept_is_refused(api, db_id):
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
