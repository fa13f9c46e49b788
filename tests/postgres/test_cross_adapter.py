"""The same dbt project on both adapters (issue 24). The raw tables of the bundled page (v1), then
of two later versions (v2, v3: tests/support/pages.py) with the fetch log that published them,
are written by the one loader (core/raw_tables.py) into a DuckDB file and into a Postgres
database; `dbt build` runs on each (targets dev and postgres, every data test passing, unit
tests left to test_dbt_unit_postgres.py) after v1 and again after v3; and every relation of marts
and snapshots holds the same rows on both, as do the raw tables the loader wrote. (v2 is loaded
as its refresh would, but built only with v3: each build pair costs ~17 s of the slow layer's
budget, and the v3 build holds v2 in every history.)

Values are compared normalised: instants in UTC, numbers as floats (Postgres returns numeric as
Decimal), booleans as they are (both drivers give bool). Left out: `meta.built_at`, the build's
own clock. `meta`'s engine columns differ by design and are checked on their own. The Postgres
server's sessions run in America/St_Johns, so a model that depended on the session's time zone
would differ here."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support import pages
from support.dbt_dev import DevDbt

from orchestration.core import raw_tables
from orchestration.core.archive import sha256
from orchestration.core.reference import load_reference
from orchestration.parsing import parse_page

pytestmark = pytest.mark.slow  # the Postgres tests are CI's slow layer

COMPARED = ["raw", "marts", "snapshots"]
BUILD_CLOCK = {("marts", "meta"): {"built_at"}}  # times of the build itself
ENGINE = {("marts", "meta"): {"duckdb_version", "engine_version"}}  # checked on their own

# Each version published by a fetch after its "Last updated" stamp (Brussels time, rule V4):
# v1 17:24 CET = 16:24Z, v2 10:00 CEST = 08:00Z, v3 09:30 CET = 08:30Z. v1 is also seen
# unchanged once and a fetch fails once, so each outcome the models read is there.
VERSIONS = [
    ("v1", pages.v1, [("2023-11-20T16:30:00.000000Z", "published"),
                      ("2024-01-05T06:00:00.250000Z", "unchanged"),
                      ("2024-02-01T06:00:00.000000Z", "failed: timeout")]),
    ("v2", pages.v2, [("2024-10-18T08:30:00.000000Z", "published")]),
    ("v3", pages.v3, [("2025-03-12T09:00:00.123456Z", "published")]),
]


def raw_rows(upto: int) -> tuple[list, list[dict]]:
    """The parsed pages of the first `upto` versions, and the fetch log that published them."""
    parsed, records, published = [], [], None
    for name, body_of, fetches in VERSIONS[:upto]:
        body = body_of()
        page = parse_page(body, "text/html; charset=utf-8", load_reference())
        parsed.append((page, sha256(body)))
        for n, (at, outcome) in enumerate(fetches):
            failed = outcome.startswith("failed")
            records.append({
                "fetch_id": f"{name}-{n}", "fetched_at": at, "url": "http://127.0.0.1/page",
                "source": "live", "status": None if failed else 200,
                "content_type": None if failed else "text/html; charset=utf-8",
                "body_sha256": None if failed else sha256(body),
                "content_sha256": None if failed else page.content_sha256,
                "bytes": None if failed else len(body), "attempts": 1, "elapsed_ms": 12,
                "outcome": outcome, "message": "timed out" if failed else None,
                "compared_with": published if outcome == "published" else None})
        published = page.content_sha256
    return parsed, records


def load(con, upto: int) -> None:
    """What a refresh's raw step writes: the new batch (earlier ones are kept), the whole log."""
    parsed, records = raw_rows(upto)
    for page, body_sha in parsed:
        raw_tables.load_page(con, page, body_sha)
    raw_tables.load_fetch_log(con, records)
    raw_tables.load_build_info(con, "cross-adapter-test")


def dbt_build(dbt: DevDbt, env: dict) -> float:
    """`dbt build` without unit tests on `dbt`'s target; every node must succeed or pass.
    Seconds."""
    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        result = dbt("build", "--exclude-resource-type", "unit_test")
    failing = {r.node.unique_id: (str(r.status), r.message) for r in result.result.results
               if str(r.status) not in ("success", "pass", "no-op")}  # no-op: exposures
    assert result.success and not failing, f"dbt build in {dbt.folder.name}: {failing}"
    return time.perf_counter() - started


def normalised(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, Decimal | float):
        return round(float(value), 9)
    return value


def contents(cursor, tables: list[tuple[str, str]]) -> tuple[dict, dict]:
    """(schema, table) -> (column names, rows sorted), normalised, build clock and engine columns
    left out; and (schema, table) -> {engine column: its values}."""
    out, engine = {}, {}
    for schema, table in tables:
        cursor.execute(f'SELECT * FROM {schema}."{table}"')
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        skip = BUILD_CLOCK.get((schema, table), set()) | ENGINE.get((schema, table), set())
        keep = [i for i, n in enumerate(names) if n not in skip]
        out[(schema, table)] = ([names[i] for i in keep],
                                sorted((tuple(normalised(r[i]) for i in keep) for r in rows), key=repr))
        engine[(schema, table)] = {n: {r[i] for r in rows} for i, n in enumerate(names)
                                   if n in ENGINE.get((schema, table), set())}
    return out, engine


def duckdb_contents(path: Path) -> tuple[dict, dict]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
            f"({', '.join('?' * len(COMPARED))}) ORDER BY 1, 2", COMPARED).fetchall()
        return contents(con.cursor(), tables)
    finally:
        con.close()


def postgres_contents(con) -> tuple[dict, dict]:
    with con.cursor() as cur:
        cur.execute("SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema = ANY(%s) ORDER BY 1, 2", [COMPARED])
        return contents(cur, cur.fetchall())


def assert_same(left: dict, right: dict) -> None:
    assert sorted(left) == sorted(right), "the two warehouses hold different relations"
    for key in sorted(left):
        (lcols, lrows), (rcols, rrows) = left[key], right[key]
        assert lcols == rcols, f"{key}: columns differ"
        if lrows != rrows:
            only_l = [r for r in lrows if r not in rrows][:3]
            only_r = [r for r in rrows if r not in lrows][:3]
            pytest.fail(f"{key}: {len(lrows)} rows on DuckDB, {len(rrows)} on Postgres; "
                        f"only on DuckDB: {only_l}; only on Postgres: {only_r}")


def test_three_versions_build_to_the_same_rows_on_both(postgres_server, tmp_path):
    """v1 (the bundled page) alone, then with v2 and v3 on top: built on both, compared."""
    duck = tmp_path / "build" / "kfor.duckdb"
    duck.parent.mkdir()
    postgres_server.create_database("cross_adapter")
    pg = postgres_server.connect("cross_adapter")
    pg_env = {**postgres_server.env("cross_adapter"), "PGPASSWORD": ""}
    seconds = {"duckdb": [], "postgres": []}
    on_dev, on_pg = DevDbt(tmp_path / "dbt-duckdb"), DevDbt(tmp_path / "dbt-postgres", "postgres")
    try:
        for upto in (1, 2, 3):
            con = duckdb.connect(str(duck))
            try:
                load(con, upto)
            finally:
                con.close()
            load(raw_tables.PostgresConnection(pg), upto)
            if upto == 2:
                continue
            # each target keeps its target folder, so later builds reuse its partial parse
            seconds["duckdb"].append(dbt_build(on_dev, {"KFOR_BUILD_PATH": str(duck)}))
            seconds["postgres"].append(dbt_build(on_pg, pg_env))

            (on_duckdb, duckdb_engine), (on_postgres, postgres_engine) = (
                duckdb_contents(duck), postgres_contents(pg))
            assert_same(on_duckdb, on_postgres)
            assert len(on_duckdb[("marts", "fct_page_version")][1]) == upto

            (duckdb_version,) = duckdb_engine[("marts", "meta")]["duckdb_version"]
            assert duckdb_version.startswith("v")
            assert duckdb_engine[("marts", "meta")]["engine_version"] == {f"DuckDB {duckdb_version}"}
            assert postgres_engine[("marts", "meta")]["duckdb_version"] == {None}
            (engine,) = postgres_engine[("marts", "meta")]["engine_version"]
            assert engine.startswith("PostgreSQL ")
    finally:
        pg.close()
        print(f"\ndbt build seconds (v1; v1-v3): {seconds}")

    # the comparison saw the history, not empty tables
    assert len(on_duckdb[("snapshots", "snap_command_tenure")][1]) > len(
        on_duckdb[("marts", "fct_command_tenure")][1])
    assert [key for key, (_, rows) in on_duckdb.items()
            if not rows and key != ("marts", "fct_correction")] == []
