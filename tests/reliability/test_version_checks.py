"""Checks against the previous version and the page's date (issue 10; rules P1-P6 of docs/rules.md).

End to end: a page that jumps KFOR's current strength, rewrites a past tenure, dates itself back
or into the future is served after v1 is published; `kfor refresh` rejects it by the named check
and leaves the published file byte-identical. A corrections row accepting the flag publishes the
same page; a replay through a rollback (which would fail the checks if it were compared) passes.

At the SQL level: each check's SQL (rendered from dbt_project/tests and macros with `ref` naming
the tables) runs on a copy of a real build's staging tables with a second version added, for
generated variants of each class (strength factors and time apart, tenure edits, stamp offsets).
"""

from __future__ import annotations

import csv
import functools
from datetime import timedelta
from pathlib import Path

import duckdb
import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import pages
from support.warehouse import file_sha256, query

from orchestration.core.layout import DBT_PROJECT_DIR
from orchestration.core.reference import load_reference
from orchestration.parsing import parse_page

from .harness import assert_refused, kfor, log_records
from .test_crashes import copy_env, project_copy

HTML = "text/html; charset=utf-8"
STAMP = "Last updated: 20 Nov. 2023 17:24"
STRENGTH = "Today, KFOR consists of approximately 4,500 troops"
CHECKS = ("assert_current_strength_plausible", "assert_past_tenures_kept",
          "assert_page_date_not_backwards", "assert_page_date_not_in_future")


def edited(old: str, new: str) -> bytes:
    assert pages.V1.count(old) == 1, old
    return pages.V1.replace(old, new).encode()


FLAGGED = {
    # P2: a factor of 3.3 between two versions the same day apart
    "strength_tripled": (edited(STRENGTH, "Today, KFOR consists of approximately 15,000 troops"),
                         "assert_current_strength_plausible"),
    # P3: a past commander renamed is a tenure lost (a new commander key) and one added
    "past_tenure_renamed": (edited("Lt. Gen. Klaus Reinhardt, GE A", "Lt. Gen. Klaus Reinhard, GE A"),
                            "assert_past_tenures_kept"),
    # P4: the same day, seven hours earlier
    "stamp_backwards": (edited(STAMP, "Last updated: 20 Nov. 2023 10:24"),
                        "assert_page_date_not_backwards"),
    # P5: the example (a current tenure of 27,800 days, dim_date to 2100)
    "stamp_2099": (edited(STAMP, "Last updated: 20 Nov. 2099 17:24"),
                   "assert_page_date_not_in_future"),
}


@pytest.mark.parametrize("case", [  # three of the four in CI's slow run: `make test` stays short
    pytest.param(c, marks=pytest.mark.slow) if c != "strength_tripled"
    else c for c in FLAGGED])
def test_a_flagged_page_is_rejected_by_its_check(server, published_v1, raw_dir, case):
    body, check = FLAGGED[case]
    url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": HTML})
    before = file_sha256(published_v1)

    out = kfor("refresh", "--source", url)

    record = assert_refused(out, published_v1, raw_dir, before, f"rejected: {check}")
    assert record["outcome"] == f"rejected: {check}"
    assert out.stderr.startswith(f"rejected: {check} ("), out.stderr


def accepting(project: Path, version: str, check: str) -> None:
    """Add an acceptance (P6) to the corrections seed of a private project copy."""
    seed = project / "dbt_project" / "seeds" / "corrections.csv"
    with open(seed, newline="") as f:
        rows = list(csv.reader(f))
    rows.append([version, "accept", "", check, "", "", "the CMS stamped the page ahead; checked"])
    with open(seed, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


@pytest.mark.slow  # in CI's slow run: keeps `make test` under ten minutes
def test_a_flagged_page_publishes_once_a_corrections_row_accepts_it(server, published_v1, raw_dir,
                                                                    tmp_path):
    body, check = FLAGGED["stamp_2099"]
    url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": HTML})
    before = file_sha256(published_v1)
    assert_refused(kfor("refresh", "--source", url), published_v1, raw_dir, before,
                   f"rejected: {check}")

    project = project_copy(tmp_path / "project")  # the checkout's seed is never touched
    version = parse_page(body, HTML, load_reference()).content_sha256
    accepting(project, version, check)
    out = kfor("refresh", "--source", url, env=copy_env(project))

    assert out.returncode == 0, out.stderr
    assert log_records(raw_dir)[-1]["outcome"] == "published"
    assert query(published_v1, "SELECT content_sha256, page_last_updated::date::varchar "
                               "FROM marts.meta") == [(version, "2099-11-20")]
    assert query(published_v1, "SELECT field, content_sha256 FROM marts.fct_correction "
                               "WHERE fact = 'accept'") == [(check, version)]


@pytest.mark.slow  # in CI's slow run: keeps `make test` under ten minutes
def test_an_acceptance_naming_no_check_fails_the_build(server, published_v1, raw_dir, tmp_path):
    """A typo in the check's name must not silently accept nothing (P6)."""
    project = project_copy(tmp_path / "project")
    accepting(project, parse_page(pages.v2(), HTML, load_reference()).content_sha256,
              "assert_page_date_not_in_futur")
    url = server.route("/topics_48818.htm", body=pages.v2(), headers={"Content-Type": HTML})
    before = file_sha256(published_v1)

    out = kfor("refresh", "--source", url, env=copy_env(project))

    assert_refused(out, published_v1, raw_dir, before, "rejected: assert_acceptances_name_a_check")


@pytest.mark.slow  # in CI's slow run: keeps `make test` under ten minutes
def test_a_replay_through_a_rollback_passes(server, published_v1, raw_dir):
    """v1 -> v2 -> rollback to v1: the newest publication goes back in date and reopens a tenure,
    which the checks would flag; a rollback is exempt (P1), so the replay rebuilds it."""
    url = server.route("/topics_48818.htm", body=pages.v2(), headers={"Content-Type": HTML})
    assert kfor("refresh", "--source", url).returncode == 0
    v1 = query(published_v1, "SELECT content_sha256 FROM marts.fct_page_version "
                             "WHERE NOT is_current")[0][0]
    assert kfor("rollback").returncode == 0
    out = kfor("replay")
    assert out.returncode == 0, out.stderr
    assert query(published_v1, "SELECT content_sha256 FROM marts.meta") == [(v1,)]
    assert [r["source"] for r in log_records(raw_dir)][-1] == "rollback"


# --- the checks' SQL on a small DuckDB ------------------------------------------------------------

@functools.cache
def render(check: str) -> str:
    """The check's SQL as dbt compiles it: our macros, `ref` naming the relation in staging."""
    macros = (DBT_PROJECT_DIR / "macros" / "version_checks.sql").read_text()
    test = (DBT_PROJECT_DIR / "tests" / f"{check}.sql").read_text()
    return jinja2.Environment().from_string(macros + test).render(
        ref=lambda name: f"staging.{name}")


@pytest.fixture(scope="module")
def v1_build(built_warehouse, tmp_path_factory) -> Path:
    """The tables the checks read, from a real build of v1."""
    db = tmp_path_factory.mktemp("version-checks") / "v1.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"ATTACH '{built_warehouse}' AS built (READ_ONLY)")
    con.execute("CREATE SCHEMA staging")
    for table in ("int_version_spans", "int_sightings", "int_page_versions", "int_troop_levels",
                  "int_command_tenures", "stg_raw__fetch_log", "corrections"):
        con.execute(f"CREATE TABLE staging.{table} AS SELECT * FROM built.staging.{table}")
    con.close()
    return db


class Build:
    """v1 (as built) and a second version 'new' made from it, published after it."""

    def __init__(self, db: Path):
        self.con = duckdb.connect(str(db))
        self.con.execute("BEGIN TRANSACTION")
        self.v1 = self.one("SELECT content_sha256 FROM staging.int_page_versions")
        for table in ("int_page_versions", "int_troop_levels", "int_command_tenures"):
            self.con.execute(f"INSERT INTO staging.{table} SELECT * REPLACE ('new' AS content_sha256) "
                             f"FROM staging.{table}")
        # the new version's span, a day after v1's, in valid time (rule V3)
        self.con.execute("INSERT INTO staging.int_version_spans SELECT * REPLACE "
                         "(2 AS span_seq, 'new' AS content_sha256, 'live' AS opened_by, "
                         "valid_from + INTERVAL 1 DAY AS valid_from, "
                         "first_sighted_at + INTERVAL 1 DAY AS first_sighted_at) "
                         "FROM staging.int_version_spans")
        self.con.execute("INSERT INTO staging.int_sightings SELECT * REPLACE "
                         "('new' AS content_sha256, sighted_at + INTERVAL 1 DAY AS sighted_at) "
                         "FROM staging.int_sightings")
        self.con.execute("INSERT INTO staging.stg_raw__fetch_log SELECT * REPLACE "
                         "('new' AS content_sha256, fetched_at + INTERVAL 1 DAY AS fetched_at) "
                         "FROM staging.stg_raw__fetch_log")

    def one(self, sql: str, params=None):
        return self.con.execute(sql, params or []).fetchone()[0]

    def run(self, sql: str, params=None) -> None:
        self.con.execute(sql, params or [])

    def failing(self, check: str) -> int:
        return len(self.con.execute(render(check)).fetchall())

    def accept(self, check: str) -> None:
        self.run("INSERT INTO staging.corrections (content_sha256, fact, field, reason) "
                 "VALUES ('new', 'accept', ?, 'checked')", [check])

    def new_is_a_rollback(self) -> None:
        self.run("UPDATE staging.int_version_spans SET opened_by = 'rollback' WHERE span_seq = 2")

    def close(self) -> None:
        self.con.execute("ROLLBACK")
        self.con.close()


@pytest.fixture
def build(v1_build):
    b = Build(v1_build)
    yield b
    b.close()


SQL_SETTINGS = settings(max_examples=60, deadline=None, database=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_the_snapshot_after_itself_passes_every_check(build):
    assert {check: build.failing(check) for check in CHECKS} == dict.fromkeys(CHECKS, 0)


@SQL_SETTINGS
@given(previous=st.integers(50, 200_000), factor=st.floats(0.05, 20), days=st.integers(0, 4000))
def test_strength_jumps_fail_beyond_3_to_the_years_apart(v1_build, previous, factor, days):
    new = max(1, round(previous * factor))
    ratio, limit = max(new, previous) / min(new, previous), 3 ** max(days / 365.25, 1)
    if abs(ratio - limit) < 1e-6 * limit:
        return  # too close to the boundary to compare floats
    b = Build(v1_build)
    try:
        b.run("UPDATE staging.int_troop_levels SET troops = ? WHERE is_current AND content_sha256 = ?",
              [previous, b.v1])
        b.run("UPDATE staging.int_troop_levels SET troops = ? WHERE is_current AND content_sha256 = 'new'",
              [new])
        b.run("UPDATE staging.int_page_versions SET page_date = page_date + ?::integer "
              "WHERE content_sha256 = 'new'", [days])
        assert b.failing("assert_current_strength_plausible") == int(ratio >= limit)
        b.accept("assert_current_strength_plausible")
        assert b.failing("assert_current_strength_plausible") == 0
    finally:
        b.close()


@pytest.mark.parametrize("troops", [0, None])
def test_a_zero_or_unreadable_strength_is_left_to_its_own_tests(build, troops):
    build.run("UPDATE staging.int_troop_levels SET troops = ? WHERE is_current AND content_sha256 = 'new'",
              [troops])
    assert build.failing("assert_current_strength_plausible") == 0


def test_a_version_without_a_current_figure_has_no_jump(build):
    build.run("DELETE FROM staging.int_troop_levels WHERE is_current AND content_sha256 = 'new'")
    assert build.failing("assert_current_strength_plausible") == 0


# Edits of the newest commanders list: (SQL on the new version's tenures, tenures lost or rewritten)
TENURE_EDITS = {
    "drop": ("DELETE FROM staging.int_command_tenures WHERE content_sha256 = 'new' "
             "AND command_sequence = $n", 1),
    "move_start": ("UPDATE staging.int_command_tenures SET start_date = start_date - 1 "
                   "WHERE content_sha256 = 'new' AND command_sequence = $n", 1),
    "move_end": ("UPDATE staging.int_command_tenures SET end_date = end_date + 1 "
                 "WHERE content_sha256 = 'new' AND command_sequence = $n AND end_date IS NOT NULL", 1),
    "rename": ("UPDATE staging.int_command_tenures SET commander_key = commander_key || '-x' "
               "WHERE content_sha256 = 'new' AND command_sequence = $n", 1),
    "reopen": ("UPDATE staging.int_command_tenures SET end_date = NULL "
               "WHERE content_sha256 = 'new' AND command_sequence = $n AND end_date IS NOT NULL", 1),
    "drop_all": ("DELETE FROM staging.int_command_tenures WHERE content_sha256 = 'new' "
                 "AND command_sequence >= $n", None),
    # not rewrites: other fields change, tenures are added, the open tenure is closed
    "new_rank_and_nation": ("UPDATE staging.int_command_tenures SET rank_abbreviation = 'Gen.', "
                            "nation_key = 'XX' WHERE content_sha256 = 'new' AND command_sequence = $n", 0),
    "added_after": ("INSERT INTO staging.int_command_tenures SELECT * REPLACE "
                    "(command_sequence + 100 AS command_sequence, 'someone-new' AS commander_key, "
                    "start_date + 400 AS start_date) FROM staging.int_command_tenures "
                    "WHERE content_sha256 = 'new' AND end_date IS NULL AND $n > 0", 0),
    "close_open": ("UPDATE staging.int_command_tenures SET end_date = start_date + 300 + $n "
                   "WHERE content_sha256 = 'new' AND end_date IS NULL", 0),
}


def tenures(b: Build, version: str) -> list[tuple]:
    return b.con.execute("SELECT commander_key, start_date, end_date FROM staging.int_command_tenures "
                         "WHERE content_sha256 = ?", [version]).fetchall()


def lost_tenures(previous: list[tuple], new: list[tuple]) -> list[tuple]:
    """P3 in Python: a previous tenure is kept by one with its key and start and, unless it was
    open, its end. A version without a commanders list (an older layout) is not compared (P1, L1;
    a live page without one is refused by the parser before dbt)."""
    if not new:
        return []
    return [p for p in previous
            if not any(n[:2] == p[:2] and (p[2] is None or n[2] == p[2]) for n in new)]


@pytest.mark.parametrize(("edit", "n", "lost"), [
    ("drop", 5, 1), ("move_start", 1, 1), ("move_end", 27, 1), ("rename", 12, 1), ("reopen", 3, 1),
    ("drop_all", 20, 9), ("move_start", 28, 1), ("drop", 28, 1),
    ("new_rank_and_nation", 7, 0), ("added_after", 1, 0), ("close_open", 0, 0)])
def test_each_tenure_edit(build, edit, n, lost):
    build.run(TENURE_EDITS[edit][0].replace("$n", str(n)))
    assert build.failing("assert_past_tenures_kept") == lost


@SQL_SETTINGS
@given(edits=st.lists(st.tuples(st.sampled_from(sorted(TENURE_EDITS)), st.integers(1, 28)),
                      min_size=1, max_size=4))
def test_past_tenures_must_be_kept(v1_build, edits):
    b = Build(v1_build)
    try:
        for name, n in edits:
            b.run(TENURE_EDITS[name][0].replace("$n", str(n)))
        lost = lost_tenures(tenures(b, b.v1), tenures(b, "new"))
        if all(TENURE_EDITS[name][1] == 0 for name, _ in edits):
            assert lost == []
        assert b.failing("assert_past_tenures_kept") == len(lost)
        b.accept("assert_past_tenures_kept")
        assert b.failing("assert_past_tenures_kept") == 0
    finally:
        b.close()


def test_a_rollback_is_not_compared(build):
    build.run("DELETE FROM staging.int_command_tenures WHERE content_sha256 = 'new' "
              "AND command_sequence > 1")  # every tenure but the first lost
    build.run("UPDATE staging.int_page_versions SET page_last_updated = page_last_updated - "
              "INTERVAL 1 YEAR WHERE content_sha256 = 'new'")
    assert build.failing("assert_past_tenures_kept") == 27
    assert build.failing("assert_page_date_not_backwards") == 1
    build.new_is_a_rollback()
    assert [build.failing(c) for c in CHECKS] == [0, 0, 0, 0]


@SQL_SETTINGS
@given(minutes=st.integers(-10 * 366 * 24 * 60, 10 * 366 * 24 * 60))
def test_a_page_date_going_backwards_fails(v1_build, minutes):
    b = Build(v1_build)
    try:
        b.run("UPDATE staging.int_page_versions SET page_last_updated = page_last_updated + "
              "to_minutes(?::bigint) WHERE content_sha256 = 'new'", [minutes])
        assert b.failing("assert_page_date_not_backwards") == int(minutes < 0)
        b.accept("assert_page_date_not_backwards")
        assert b.failing("assert_page_date_not_backwards") == 0
    finally:
        b.close()


@SQL_SETTINGS
@given(minutes=st.integers(-3 * 24 * 60, 80 * 366 * 24 * 60), rollback=st.booleans())
def test_a_stamp_more_than_6_hours_after_the_first_sighting_fails(v1_build, minutes, rollback):
    """The stamp is `minutes` after the new version's first sighting (V1); later ones do not
    count."""
    b = Build(v1_build)
    try:
        first_seen = b.one("SELECT min(sighted_at) FROM staging.int_sightings "
                           "WHERE content_sha256 = 'new'")
        b.run("INSERT INTO staging.int_sightings SELECT * REPLACE "
              "(sighted_at + INTERVAL 30 DAY AS sighted_at) FROM staging.int_sightings "
              "WHERE content_sha256 = 'new'")
        b.run("UPDATE staging.int_page_versions SET page_last_updated = ? WHERE content_sha256 = 'new'",
              [first_seen + timedelta(minutes=minutes)])
        if rollback:
            b.new_is_a_rollback()
        expected = int(minutes > 6 * 60 and not rollback)
        assert b.failing("assert_page_date_not_in_future") == expected
        b.accept("assert_page_date_not_in_future")
        assert b.failing("assert_page_date_not_in_future") == 0
    finally:
        b.close()


def test_the_first_publication_is_checked_against_its_fetch_only(build):
    """With one publication there is no previous version; the stamp is still checked (P5)."""
    build.run("DELETE FROM staging.int_version_spans WHERE content_sha256 = ?", [build.v1])
    build.run("UPDATE staging.int_page_versions SET page_last_updated = '2099-11-20 17:24' "
              "WHERE content_sha256 = 'new'")
    assert [build.failing(c) for c in CHECKS] == [0, 0, 0, 1]


def test_every_version_check_can_be_accepted_by_its_own_name():
    macros = (DBT_PROJECT_DIR / "macros" / "version_checks.sql").read_text()
    for check in CHECKS:
        assert f"accepted('{check}'" in (DBT_PROJECT_DIR / "tests" / f"{check}.sql").read_text()
        assert f"'{check}'" in macros.split("acceptable_checks")[1]


def test_the_former_count_check_is_gone():
    """assert_past_tenures_kept subsumes assert_commanders_did_not_drop (P3)."""
    assert not (DBT_PROJECT_DIR / "tests" / "assert_commanders_did_not_drop.sql").exists()


@pytest.mark.parametrize(("version", "field", "reason", "ordinal", "failing"), [
    ("new", "assert_page_date_not_in_future", "checked", None, 0),
    ("new", "assert_page_date_not_in_futur", "checked", None, 1),  # a typo accepts nothing
    ("new", "converts_stg_raw__commanders_end_text__end_date", "checked", None, 1),  # not P2-P5
    ("not-loaded", "assert_past_tenures_kept", "checked", None, 1),
    ("new", "assert_past_tenures_kept", " ", None, 1),
    ("new", "assert_past_tenures_kept", None, None, 1),
    ("new", "assert_past_tenures_kept", "checked", 3, 1),
])
def test_an_acceptance_names_a_version_check_a_loaded_version_and_a_reason(
        build, version, field, reason, ordinal, failing):
    build.run("INSERT INTO staging.corrections (content_sha256, fact, ordinal, field, reason) "
              "VALUES (?, 'accept', ?, ?, ?)", [version, ordinal, field, reason])
    assert build.failing("assert_acceptances_name_a_check") == failing
