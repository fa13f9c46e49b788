"""dbt's unit tests on the Postgres target: the same YAML (dbt_project/models/**/_*unit_tests.yml)
that tests/test_dbt_unit.py runs on DuckDB, run by dbt-postgres against a database of the
throwaway server (whose sessions are not in UTC). As there: an empty raw schema written by the
one loader (core/raw_tables.py), every model built on it and the seeds (unit tests read
their parents' column types), then `dbt test --select test_type:unit`. Every unit test written must run
and pass, so a macro's postgres__ SQL that means something else than its duckdb__ SQL fails
here."""

from __future__ import annotations

import pytest
import yaml
from dbt.cli.main import dbtRunner

from orchestration.core import layout as paths
from orchestration.core import raw_tables

pytestmark = pytest.mark.slow  # the Postgres tests are CI's slow layer

PROJECT = paths.DBT_PROJECT_DIR


def dbt_postgres(folder, *args: str):
    """`dbt <args> --target postgres`, its artefacts and logs under `folder`."""
    result = dbtRunner().invoke([
        *args, "--target", "postgres", "--project-dir", str(PROJECT),
        "--profiles-dir", str(PROJECT), "--target-path", str(folder / "target"),
        "--log-path", str(folder / "logs"), "--log-level", "none", "--log-level-file", "none",
        "--no-use-colors"])
    if result.exception is not None:
        raise result.exception
    return result


def test_dbt_unit_tests_pass_on_postgres(postgres_server, tmp_path, monkeypatch):
    postgres_server.create_database("unit_tests")
    for name, value in postgres_server.env("unit_tests").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PGPASSWORD", "")  # trust on loopback: no password exists
    con = postgres_server.connect("unit_tests")
    try:
        raw_tables.ensure_schema(raw_tables.PostgresConnection(con))
    finally:
        con.close()

    # not `--empty`: dbt-postgres aliases the empty subquery it puts for a ref, and Postgres
    # refuses a second alias (`ref(...) as c`); with empty raw tables every model is empty anyway
    built = dbt_postgres(tmp_path, "build", "--exclude-resource-type", "test",
                         "--exclude-resource-type", "unit_test")
    assert built.success, [(r.node.name, r.message) for r in built.result.results
                           if str(r.status) != "success"]

    results = dbt_postgres(tmp_path, "test", "--select", "test_type:unit").result.results
    failing = [f"{r.node.name}: {r.message}" for r in results if str(r.status) != "pass"]
    assert failing == [], "\n\n".join(failing)
    written = {t["name"] for path in (PROJECT / "models").rglob("*.yml")
               for t in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])}
    assert {r.node.name for r in results} == written  # every unit test written ran
    assert len(written) >= 30
