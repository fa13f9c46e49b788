"""As-of answers (issue 12, part 5): one commander on duty per day by the handover rule (H1-H3 of
docs/rules.md), NATO membership as of the page's date (A1), names that say which "current",
dim_date's iso_year, and the code version the shell records.

The rules are tested three ways: on the warehouse built from the bundled 20 Nov 2023 page (its 23
handovers on the day and 4 on the next day), on generated chains of tenures run through the
compiled SQL of int_command_tenures / int_commander_duty_days / dim_nation on a small DuckDB, and
(code_version) on a git checkout and on a copy of the project without .git. That marts.meta
records the code version the raw step writes (raw.build_info) is the dbt unit test
meta_names_the_newest_publication_and_the_code."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.dbt_dev import DevDbt
from support.warehouse import query, rows

from orchestration.core import layout as paths

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = yaml.safe_load((ROOT / "tests" / "golden" / "nato-kosovo-2023-11-20.yml")
                        .read_text(encoding="utf-8"))
PAGE_DATE = dt.date(2023, 11, 20)
FIRST_DAY = dt.date(1999, 6, 9)  # rule H2: the first COMKFOR's start
DAY = dt.timedelta(days=1)


# -- the handover rule, in Python (H1) ------------------------------------------------------------

def on_duty_until(end: dt.date | None, next_start: dt.date | None, page_date: dt.date) -> dt.date:
    """H1: the first day a tenure is no longer on duty."""
    if end is None:
        return page_date + DAY
    return end if end == next_start else end + DAY


def duty_intervals(tenures: list[tuple[dt.date, dt.date | None]], page_date: dt.date):
    """[(from, until)] per tenure, in command order."""
    starts = [s for s, _ in tenures]
    return [(s, on_duty_until(e, starts[i + 1] if i + 1 < len(starts) else None, page_date))
            for i, (s, e) in enumerate(tenures)]


def on_duty_counts(tenures, page_date) -> dict[dt.date, int]:
    """H2's days: from 9 June 1999 to the page date, how many tenures are on duty."""
    spans = duty_intervals(tenures, page_date)
    days = (page_date - FIRST_DAY).days + 1
    return {d: sum(f <= d < u for f, u in spans)
            for d in (FIRST_DAY + i * DAY for i in range(max(days, 0)))}


GOLDEN_TENURES = [(c[5], c[6]) for c in GOLDEN["commanders"]]
GOLDEN_NAMES = [c[2] for c in GOLDEN["commanders"]]


def golden_commander_on(day: dt.date) -> str | None:
    for name, (f, u) in zip(GOLDEN_NAMES, duty_intervals(GOLDEN_TENURES, PAGE_DATE), strict=True):
        if f <= day < u:
            return name
    return None


# -- the built warehouse: every day of the 20 Nov 2023 page ---------------------------------------

def test_fct_commander_on_duty_has_one_commander_for_each_day(built_warehouse):
    days_on_duty = rows(built_warehouse, """
        SELECT d.date_day, c.full_name, d.is_handover_day, d.days_in_command_so_far,
               d.content_sha256 = m.content_sha256 AS of_the_newest_version
        FROM marts.fct_commander_on_duty d JOIN marts.dim_commander c USING (commander_key),
             marts.meta m ORDER BY d.date_day""")
    days = [FIRST_DAY + i * DAY for i in range((PAGE_DATE - FIRST_DAY).days + 1)]
    assert [r["date_day"] for r in days_on_duty] == days  # each day once, none past the page
    assert len(days_on_duty) == 8931
    assert all(r["full_name"] == golden_commander_on(r["date_day"]) for r in days_on_duty)
    assert all(r["of_the_newest_version"] for r in days_on_duty)
    starts = {s for s, _ in GOLDEN_TENURES[1:]}
    assert {r["date_day"] for r in days_on_duty if r["is_handover_day"]} == starts  # 27 handovers
    assert days_on_duty[0]["days_in_command_so_far"] == 0
    assert days_on_duty[-1]["days_in_command_so_far"] == 41


def test_the_on_duty_columns_make_the_obvious_join_right(built_warehouse):
    """Joined to dim_date, `[on_duty_from, on_duty_until)` finds one tenure per day; the two
    tempting joins on start_date/end_date find two on 23 days and none on 4."""
    def per_day(condition: str) -> dict[int, int]:
        return dict(query(built_warehouse, f"""
            SELECT n, count(*) FROM (
                SELECT d.date_day, count(t.tenure_key) AS n
                FROM marts.dim_date d LEFT JOIN marts.fct_command_tenure t ON {condition}
                WHERE d.date_day BETWEEN DATE '1999-06-09' AND DATE '2023-11-20'
                GROUP BY d.date_day) GROUP BY n"""))

    gaps = [(nxt[0] - cur[1]).days
            for cur, nxt in zip(GOLDEN_TENURES, GOLDEN_TENURES[1:], strict=False)]
    assert sorted(gaps) == [0] * 23 + [1] * 4  # the page's handovers: on the day, the next day
    assert set(on_duty_counts(GOLDEN_TENURES, PAGE_DATE).values()) == {1}
    assert per_day("d.date_day >= t.on_duty_from AND d.date_day < t.on_duty_until") == {1: 8931}
    between = "d.date_day BETWEEN t.start_date AND coalesce(t.end_date, DATE '2023-11-20')"
    assert per_day(between) == {1: 8931 - 23, 2: 23}
    half_open = "d.date_day >= t.start_date AND d.date_day < coalesce(t.end_date, DATE '2023-11-21')"
    assert per_day(half_open) == {1: 8931 - 4, 0: 4}


def test_the_commander_on_date_analysis_returns_one_on_every_handover_day(compiled,
                                                                          built_warehouse):
    """The compiled analysis, run for each of the 27 handover days and the day before each: one
    commander, the incoming one on the handover day (H1)."""
    sql = compiled["commander_on_date"]
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        for i, (start, _) in enumerate(GOLDEN_TENURES[1:], start=1):
            incoming, outgoing = GOLDEN_NAMES[i], GOLDEN_NAMES[i - 1]
            for day, name, took_over in ((start, incoming, True), (start - DAY, outgoing, False)):
                got = con.execute(sql.replace("date '2010-01-01'", f"date '{day}'")).fetchall()
                names = [r[4] for r in got]
                assert names == [name], (day, names)
                assert got[0][-1] is took_over, day  # assumed_command_that_day
    finally:
        con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(dt.date(1999, 1, 1), dt.date(2024, 12, 31)))
def test_the_commander_on_date_analysis_on_any_day(compiled, built_warehouse, day):
    got = rows(built_warehouse,
               compiled["commander_on_date"].replace("date '2010-01-01'", f"date '{day}'"))
    expected = golden_commander_on(day) if FIRST_DAY <= day <= PAGE_DATE else None
    assert [r["full_name"] for r in got] == ([expected] if expected else [])


# -- the rules on generated tenures: the compiled model SQL on a small DuckDB ---------------------

@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, str]:
    """The models the rules live in, and the commander_on_date analysis, as dbt compiles them (on
    the dev target, in a folder of their own)."""
    folder = tmp_path_factory.mktemp("compiled")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KFOR_DBT_DEV_DIR", str(folder))
        return DevDbt(folder).compiled(["int_command_tenures", "int_commander_duty_days",
                                        "dim_nation", "commander_on_date"])


def small_warehouse(compiled, versions: dict[str, dt.date], tenures: dict[str, list]):
    """An in-memory catalog `kfor` with the models' inputs, then the models built from them."""
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS kfor; USE kfor; CREATE SCHEMA staging; CREATE SCHEMA marts")
    con.execute("CREATE TABLE staging.int_page_versions (content_sha256 VARCHAR, page_date DATE, "
                "is_current BOOLEAN)")
    newest = max(versions, key=versions.get)
    con.executemany("INSERT INTO staging.int_page_versions VALUES (?, ?, ?)",
                    [(v, d, v == newest) for v, d in versions.items()])
    con.execute("""CREATE TABLE staging.stg_raw__commanders (content_sha256 VARCHAR,
        command_sequence INTEGER, rank_abbreviation VARCHAR, honorific VARCHAR, full_name VARCHAR,
        nation_code VARCHAR, service_code VARCHAR, start_text VARCHAR, end_text VARCHAR,
        start_date DATE, end_date DATE, source_section VARCHAR, source_text VARCHAR)""")
    con.executemany(
        "INSERT INTO staging.stg_raw__commanders VALUES (?, ?, 'Maj. Gen.', NULL, ?, 'IT', 'A', "
        "NULL, NULL, ?, ?, 'commanders', 'x')",
        [(v, i + 1, f"Commander {i}", s, e) for v, ts in tenures.items()
         for i, (s, e) in enumerate(ts)])
    con.execute("CREATE TABLE staging.nato_nations AS SELECT * REPLACE (nato_member_since::DATE "
                f"AS nato_member_since) FROM read_csv('{paths.SEEDS_DIR / 'nato_nations.csv'}', "
                "all_varchar = true)")
    for name, schema in (("int_command_tenures", "staging"), ("int_commander_duty_days", "staging"),
                         ("dim_nation", "marts")):
        con.execute(f"CREATE TABLE {schema}.{name} AS {compiled[name]}")
    return con


# a chain of tenures: (days in command, days from the end to the next start); 0 and 1 are the
# page's handovers, anything else a gap (> 1) or an overlap (< 0) of up to a week
GAPS = st.one_of(st.sampled_from([0, 1]), st.sampled_from([0, 1]), st.integers(-7, 8))
CHAINS = st.lists(st.tuples(st.integers(8, 60), GAPS), min_size=1, max_size=6)


def chain(first_start: dt.date, links, last_open: bool) -> list[tuple]:
    out, start = [], first_start
    for i, (length, gap) in enumerate(links):
        end = start + length * DAY
        out.append((start, None if last_open and i == len(links) - 1 else end))
        start = end + gap * DAY
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=CHAINS, late=st.sampled_from([0, 0, 0, 3]), last_open=st.booleans(),
       after=st.integers(0, 20), other=CHAINS)
def test_one_commander_each_day_on_generated_chains(compiled, links, late, last_open, after,
                                                    other):
    """Per version, the SQL's count of tenures on duty on every day equals H1 done by hand; the
    check (tenure_key null) fails exactly when a handover is neither 0 nor 1 day, the first tenure
    starts after 9 June 1999 or no one is in office on the page's date (H2, H3). A second version
    is judged on its own, and a version without a commanders list has no days (exempt)."""
    v = chain(FIRST_DAY + late * DAY, links, last_open)
    w = chain(FIRST_DAY, other, True)
    pages = {"v": (v[-1][1] or v[-1][0]) + after * DAY, "w": w[-1][0] + after * DAY,
             "none": dt.date(2009, 1, 1)}
    con = small_warehouse(compiled, pages, {"v": v, "w": w})
    try:
        counts = {}
        for version in ("v", "w", "none"):
            counts[version] = dict(con.execute(
                "SELECT date_day, commanders_on_duty FROM staging.int_commander_duty_days "
                "WHERE content_sha256 = ?", [version]).fetchall())
            failing = con.execute("SELECT count(*) FROM staging.int_commander_duty_days WHERE "
                                  "content_sha256 = ? AND tenure_key IS NULL", [version]).fetchone()
            assert failing == (sum(n != 1 for n in counts[version].values()),)
    finally:
        con.close()
    assert counts["v"] == on_duty_counts(v, pages["v"])
    assert counts["w"] == on_duty_counts(w, pages["w"])
    assert counts["none"] == {}  # no commanders list: exempt
    sound = (late == 0 and all(gap in (0, 1) for _, gap in links[:-1])
             and (last_open or after == 0))
    assert (set(counts["v"].values()) == {1}) is sound, (links, late, last_open, after)


# -- A1: membership as of the page's date ----------------------------------------------------------

def test_membership_is_as_of_the_page_date(built_warehouse):
    rows = {r[0]: r[1:] for r in query(built_warehouse, """
        SELECT nation_key, is_nato_member_as_of_page, is_nato_member, membership_as_of
        FROM marts.dim_nation WHERE nation_key IN ('SW', 'FI', 'MK', 'RI')""")}
    assert rows["SW"] == (False, False, PAGE_DATE)  # joined 7 Mar 2024, after the page
    assert rows["FI"] == (True, True, PAGE_DATE)  # joined 4 Apr 2023
    assert rows["MK"][:2] == (True, True) and rows["RI"][:2] == (False, False)  # a partner
    per_version = query(built_warehouse, """
        SELECT page_date, count(*), count(*) FILTER (WHERE is_nato_member_as_of_page),
               bool_and(is_newest_version)
        FROM marts.fct_nato_membership GROUP BY page_date""")
    assert per_version == [(PAGE_DATE, 47, 31, True)]
    seed = (paths.SEEDS_DIR / "nato_nations.csv").read_text(encoding="utf-8")  # the dates A1 uses
    assert "FI,FI,FIN,Finland,2023-04-04" in seed and "SW,SE,SWE,Sweden,2024-03-07" in seed
    assert len(re.findall(r",\d{4}-\d\d-\d\d$", seed, re.M)) == 32


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_date=st.dates(dt.date(1999, 1, 1), dt.date(2030, 12, 31)))
def test_membership_on_any_page_date(compiled, page_date):
    con = small_warehouse(compiled, {"v": page_date}, {"v": [(FIRST_DAY, None)]})
    try:
        rows = con.execute("SELECT nato_member_since, is_nato_member_as_of_page, is_nato_member, "
                           "membership_as_of FROM marts.dim_nation").fetchall()
    finally:
        con.close()
    assert len(rows) == 47
    for since, as_of_page, alias, as_of in rows:
        assert as_of_page is alias is (since is not None and since <= page_date)
        assert as_of == page_date


# -- names that say which "current", iso_year ------------------------------------------------------

def test_each_current_has_a_name_and_the_old_one_is_an_alias(built_warehouse):
    for table, name in (("fct_command_tenure", "is_in_office"),
                        ("fct_troop_level", "is_today_figure"),
                        ("fct_page_version", "is_newest_version")):
        assert query(built_warehouse, f"""
            SELECT count(*) FILTER (WHERE {name}), count(*) FILTER (WHERE {name} IS DISTINCT FROM
                   is_current) FROM marts.{table}""") == [(1, 0)], table
    assert query(built_warehouse, "SELECT c.full_name FROM marts.fct_command_tenure t JOIN "
                 "marts.dim_commander c USING (commander_key) WHERE is_in_office") \
        == [("Özkan Ulutaş",)]
    assert query(built_warehouse, "SELECT troops FROM marts.fct_troop_level WHERE is_today_figure") \
        == [(4500,)]


def test_iso_year_is_the_week_numbering_year(built_warehouse):
    rows = query(built_warehouse, "SELECT date_day, iso_year, iso_week, iso_year_week, year "
                                  "FROM marts.dim_date ORDER BY date_day")
    assert len(rows) > 9000
    for day, iso_year, iso_week, label, year in rows:  # every day against Python's isocalendar
        expected = day.isocalendar()
        assert (iso_year, iso_week) == (expected.year, expected.week), day
        assert label == f"{expected.year}-W{expected.week:02d}" and year == day.year
    by_day = {r[0]: r[1:4] for r in rows}
    assert by_day[dt.date(2020, 12, 31)] == (2020, 53, "2020-W53")
    assert by_day[dt.date(2021, 1, 1)] == (2020, 53, "2020-W53")


# -- meta.code_version -----------------------------------------------------------------------------

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], capture_output=True, text=True, check=True).stdout.strip()


def test_code_version_in_a_checkout_is_its_commit(tmp_path):
    repo = tmp_path / "checkout"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.txt").write_text("one")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-q", "-m", "one")
    head = _git(repo, "rev-parse", "HEAD")
    assert re.fullmatch(r"[0-9a-f]{40}", head)
    assert paths._git_commit(repo) == head
    (repo / "untracked.txt").write_text("new")  # untracked files do not make it dirty
    assert paths._git_commit(repo) == head
    (repo / "a.txt").write_text("two")
    assert paths._git_commit(repo) == head + "-dirty"
    (repo / "sub").mkdir()  # a folder inside someone else's repository is no checkout of ours
    assert paths._git_commit(repo / "sub") is None


def test_code_version_of_a_copy_without_git_is_the_package_version(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "orchestration", copy / "orchestration",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(copy)}
    out = subprocess.run([sys.executable, "-c", "from orchestration.core import layout as paths; "
                          "print(paths.PROJECT_ROOT); print(paths.code_version())"],
                         capture_output=True, text=True, check=True, env=env, cwd=tmp_path)
    root, version = out.stdout.split()
    assert Path(root) == copy
    assert version == importlib.metadata.version("kfor-warehouse") == "0.1.0"
