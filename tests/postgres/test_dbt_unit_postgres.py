"""dbt's unit tests on the Postgres target: the same YAML (dbt_project/models/**/_*unit_tests.yml)
that tests/test_dbt_unit.py runs on DuckDB, run by dbt-postgres against a database of the
throwaway server (whose sessions are not in UTC). As there: an empty raw schema written by the
one loader (core/raw_tables.py), every model built on it and the seeds (unit tests read their
parents' column types), then `dbt test --select test_type:unit`. Every unit test written must run
and pass. And the conversions of the page's text (dates, times, counts, person keys, periods)
give the same values on both engines for texts well beyond what the page says today, so a
macro's postgres__ SQL that means something else than its duckdb__ SQL fails here."""

from __future__ import annotations

import itertools

import duckdb
import pytest
from psycopg2.extras import execute_batch
from support.dbt_dev import DevDbt, assert_every_unit_test_passes

from orchestration.core import raw_tables

pytestmark = pytest.mark.slow  # the Postgres tests are CI's slow layer

DATABASE = "unit_tests"


@pytest.fixture(scope="module")
def dbt_postgres(postgres_server, tmp_path_factory):
    postgres_server.create_database(DATABASE)
    con = postgres_server.connect(DATABASE)
    try:
        raw_tables.ensure_schema(raw_tables.PostgresConnection(con))
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in postgres_server.env(DATABASE).items():
            mp.setenv(name, value)
        mp.setenv("PGPASSWORD", "")  # trust on loopback: no password exists
        dbt = DevDbt(tmp_path_factory.mktemp("dbt-postgres"), target="postgres")
        # not `--empty`: dbt-postgres aliases the empty subquery it puts for a ref, and Postgres
        # refuses a second alias (`ref(...) as c`); with empty raw tables every model is empty
        built = dbt("build", "--exclude-resource-type", "test", "--exclude-resource-type",
                    "unit_test")
        assert built.success, [(r.node.name, r.message) for r in built.result.results
                               if str(r.status) != "success"]
        yield dbt


def test_dbt_unit_tests_pass_on_postgres(dbt_postgres):
    assert_every_unit_test_passes(dbt_postgres)


# -- the conversions, compiled for each engine and run on the same texts -----------------------

CONVERSIONS = """
select
    t,
    {{ text_to_date('t') }} as as_date,
    {{ text_to_timestamp('t') }} as as_timestamp,
    {{ text_to_count('t') }} as as_count,
    {{ commander_key('t') }} as as_key,
    {{ period_part('p', 'period_start') }} as period_start,
    {{ period_part('p', 'period_end') }} as period_end,
    {{ period_part('p', 'date_precision') }} as date_precision
from (select t, {{ period_bounds('t', "date '2024-06-30'") }} as p from texts) as x
"""


def texts() -> list[str]:
    """Days and times of the page's form and near misses (case, spacing, impossible days and
    hours, years of 1-5 digits), periods of every precision, counts, and names."""
    days = ["1", "01", "9", "29", "30", "31", "32", "0", "123"]
    months = ["Jan", "jan", "FEB", "Feb", "Apr", "Sep", "Sept", "June", "Dec", "Xyz"]
    years = ["1999", "2023", "2024", "1900", "0999", "99", "12345"]
    times = ["", " 10:00", " 9:05", " 23:59", " 24:00", " 23:60", " 0:0"]
    out = {f"{d} {m} {y}{t}" for d, m, y, t in itertools.product(days, months, years, times)}
    out |= {"12  Jun  1999", " 12 Jun 1999", "12 Jun 1999 ", "12-Jun-1999", "1999-06-12", ""}
    out |= {"today", "11-12 Jun 2009", "30-31 Feb 2020", "30 Jun 2009 - 02 Jul 2009",
            "Jun 1999", "Feb 2024", "Feb 2023", "June 1999", "2016", "16", "early 2002",
            "mid 2002", "late 2002", "end of 2002", "beginning of 2002", "spring 2023",
            "summer 2023", "autumn 2023", "winter 2023", "winter 2024", "fall 2023", "early",
            "middle of 2002"}
    out |= {"4,500", "50,000", "12,34", "1,2345", "007", "2147483647", "2147483648",
            "99999999999", "1 000", "12a", "-5", "+5", "4.500"}
    out |= {"Özkan Ulutaş", "O'Neil", "Jean-Claude  Dupont", "Ştefan Ţurcanu", "Ærø", "Łukasz",
            "Franz-Xaver Müller-Lüdenscheidt", "ÅSA ÑÚÑEZ", "  -Leading and trailing-  "}
    return sorted(out)


def test_conversions_mean_the_same_on_both_engines(dbt_postgres, postgres_server, tmp_path,
                                                   monkeypatch):
    rows = [(t,) for t in texts()]
    on_postgres = dbt_postgres("compile", "--inline", CONVERSIONS).result.results[0].node.compiled_code
    monkeypatch.setenv("KFOR_DBT_DEV_DIR", str(tmp_path))
    on_duckdb = DevDbt(tmp_path)("compile", "--inline", CONVERSIONS).result.results[0].node.compiled_code
    assert on_postgres != on_duckdb  # each engine's own SQL

    duck = duckdb.connect()
    duck.execute("CREATE TABLE texts (t VARCHAR)")
    duck.executemany("INSERT INTO texts VALUES (?)", rows)
    from_duckdb = sorted(duck.execute(on_duckdb).fetchall())
    con = postgres_server.connect(DATABASE)
    try:
        with con.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE texts (t VARCHAR)")
            execute_batch(cur, "INSERT INTO texts VALUES (%s)", rows)
            cur.execute(on_postgres)
            from_postgres = sorted(cur.fetchall())
    finally:
        con.close()

    assert len(from_duckdb) == len(rows)
    differ = [(d, p) for d, p in zip(from_duckdb, from_postgres, strict=True) if d != p]
    assert differ == [], f"{len(differ)} texts convert differently (DuckDB, Postgres): {differ[:5]}"
    # the corpus reaches every kind of value, not only nulls
    assert {r[7] for r in from_duckdb} == {None, "day", "month", "part_of_year", "season", "year"}
    assert sum(r[1] is not None for r in from_duckdb) > 100
    assert sum(r[2] is not None and r[2].minute for r in from_duckdb) > 50
    assert {r[3] for r in from_duckdb} >= {4500, 50000, 7, 2147483647}
    assert ("Özkan Ulutaş", "ozkan-ulutas") in {(r[0], r[4]) for r in from_duckdb}
