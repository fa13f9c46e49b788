"""dbt builds a Postgres warehouse's scratch schemas (KFOR_SCHEMA_PREFIX=build_, honoured by
macros/generate_schema_name.sql and the raw source's schema), and the swap publishes them
(core/pg_warehouse.py). The raw tables of the bundled page are loaded into the published `raw`
schema, as a refresh before would have left them; start_build copies them into build_raw; `dbt
build --target postgres` reads build_raw (its build_info differs from the published one) and
writes only build_* schemas; publish makes them the published ones."""

from __future__ import annotations

import pytest
from test_cross_adapter import dbt_build, load

from orchestration.core import pg_warehouse as pw
from orchestration.core import raw_tables

pytestmark = pytest.mark.slow  # the Postgres tests are CI's slow layer


def test_dbt_builds_into_the_build_schemas_and_the_swap_publishes_them(postgres_server, tmp_path):
    warehouse = pw.PostgresWarehouse.from_url(postgres_server.create_database("dbt_prefix"))
    con = postgres_server.connect("dbt_prefix")
    try:
        load(raw_tables.PostgresConnection(con), 1)  # the bundled page, its three fetches
        pw.start_build(warehouse)
        with con.cursor() as cur:  # what this build's raw step writes, into its own copy only
            cur.execute("UPDATE build_raw.build_info SET code_version = 'this-build'")
        dbt_build("postgres", {**postgres_server.env("dbt_prefix"), "PGPASSWORD": "",
                               "KFOR_SCHEMA_PREFIX": pw.BUILD_PREFIX}, tmp_path / "target")
        with con.cursor() as cur:
            cur.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                        [list(pw.PUBLISHED)])
            assert [s for (s,) in cur.fetchall()] == ["raw"]  # dbt wrote no published schema
            cur.execute("SELECT count(*) FROM build_marts.fct_page_version")
            assert cur.fetchone() == (1,)
            cur.execute("SELECT count(*) FROM build_snapshots.snap_command_tenure")
            assert cur.fetchone()[0] > 0
    finally:
        con.close()
    assert pw.read_meta(warehouse) is None  # nothing published yet

    pw.publish(warehouse, keep=5)
    meta = pw.read_meta(warehouse)
    assert meta["engine_version"].startswith("PostgreSQL ")
    assert meta["code_version"] == "this-build"  # dbt read build_raw, not the published raw
    assert pw.mart_counts(warehouse)["fct_page_version"] == 1
    assert [r["outcome"] for r in pw.logged_fetches(warehouse)] == [
        "published", "unchanged", "failed: timeout"]
    # the replaced `raw` is kept, but alone: that set cannot be rolled back to
    (stamp,) = pw.kept_versions(warehouse)
    with pytest.raises(pw.NothingToPublish, match="no schema kept_"):
        pw.rollback(warehouse, stamp, keep=5)
    assert pw.mart_counts(warehouse)["fct_page_version"] == 1
