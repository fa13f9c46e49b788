"""The warehouse built from the 20 Nov 2023 snapshot holds exactly the golden facts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from support.warehouse import query

from orchestration.core.layout import DBT_PROJECT_DIR

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden" / "nato-kosovo-2023-11-20.yml").read_text())


def test_tenures_match_the_golden_list(built_warehouse):
    rows = query(built_warehouse, """
        SELECT t.command_sequence, t.rank_abbreviation, c.honorific, c.full_name, t.nation_key,
               c.service_code, t.start_date, t.end_date, t.is_current
        FROM marts.fct_command_tenure t JOIN marts.dim_commander c USING (commander_key)
        ORDER BY t.command_sequence""")
    expected = [(i, rank, hon, name, code, svc, start, end, end is None)
                for i, (rank, hon, name, code, svc, start, end) in enumerate(GOLDEN["commanders"], 1)]
    assert rows == expected
    assert rows[0][3] == "Michael Jackson" and rows[-1][3] == "Özkan Ulutaş"


def test_current_tenure_counts_to_the_page_date(built_warehouse):
    assert query(built_warehouse, "SELECT tenure_days FROM marts.fct_command_tenure "
                                  "WHERE is_current") == [(GOLDEN["current_tenure_days"],)]


def test_every_nation_code_on_the_page_maps_to_its_country(built_warehouse):
    rows = dict(query(built_warehouse, """
        SELECT DISTINCT n.nato_code, n.iso_alpha3 FROM marts.fct_command_tenure t
        JOIN marts.dim_nation n USING (nation_key)"""))
    assert rows == GOLDEN["nations_on_page"]
    members = query(built_warehouse, "SELECT count(*) FROM marts.dim_nation "
                                     "WHERE nato_member_since IS NOT NULL")
    assert members == [(32,)]
    # membership as of the page (rule A1): Sweden joined on 7 Mar 2024, after 20 Nov 2023
    members = query(built_warehouse, "SELECT count(*) FROM marts.dim_nation WHERE is_nato_member")
    assert members == [(31,)]


def test_troop_levels_match_the_golden_figures(built_warehouse):
    rows = query(built_warehouse, """
        SELECT force, figure_type, personnel, troops, approximation, period_text, period_start,
               period_end, date_precision, contributing_nations, is_current, source_sentence
        FROM marts.fct_troop_level ORDER BY period_start, troops DESC""")
    expected = sorted(GOLDEN["troop_levels"], key=lambda t: (t["start"], -t["troops"]))
    assert len(rows) == len(expected)
    for row, g in zip(rows, expected, strict=True):
        assert row[:11] == (g["force"], g["figure_type"], g["personnel"], g["troops"],
                            g["approximation"], g["period"], g["start"], g["end"], g["precision"],
                            g["contributing_nations"], g["is_current"])
        assert row[11].startswith(g["sentence_starts"])


def test_kfor_strength_runs_from_50000_in_1999_to_4500_today(built_warehouse):
    first, last = query(built_warehouse, """
        (SELECT troops, approximation, period_start FROM marts.fct_troop_level
         WHERE force = 'KFOR' ORDER BY period_start LIMIT 1)
        UNION ALL
        (SELECT troops, approximation, period_start FROM marts.fct_troop_level WHERE is_current)""")
    assert first == (50000, "some", date(1999, 6, 1))
    assert last == (4500, "approximately", date(2023, 11, 20))


def test_events_match_the_golden_events(built_warehouse):
    rows = query(built_warehouse, """
        SELECT event_type, period_text, event_date, event_end_date, date_precision,
               source_section, source_text
        FROM marts.fct_event WHERE event_type <> 'assumption_of_command'
        ORDER BY event_date, event_type""")
    expected = sorted(GOLDEN["events"], key=lambda e: (e[2], e[0]))
    assert [r[:6] for r in rows] == [tuple(e[:6]) for e in expected]
    for row, e in zip(rows, expected, strict=True):
        assert e[6] in row[6], (row, e)
    assert query(built_warehouse, "SELECT count(*) FROM marts.fct_event") == [(GOLDEN["event_count"],)]


def test_each_tenure_start_is_one_assumption_of_command_event(built_warehouse):
    assert query(built_warehouse, """
        SELECT count(*), count(DISTINCT e.event_date) FROM marts.fct_event e
        JOIN marts.fct_command_tenure t ON e.event_date = t.start_date AND e.commander_key = t.commander_key
        WHERE e.event_type = 'assumption_of_command'""") == [(28, 28)]


def test_dim_date_spans_1999_to_a_year_past_the_latest_content_date(built_warehouse):
    # the latest content date is 2023-12-31 (the year 2023 of the tension event)
    assert query(built_warehouse, "SELECT min(date_day), max(date_day), count(*) FROM marts.dim_date") \
        == [(date(1999, 1, 1), date(2024, 12, 31), 9497)]


@pytest.mark.parametrize("table", ["fct_command_tenure", "fct_troop_level", "fct_event",
                                   "dim_commander"])
def test_every_fact_row_traces_to_its_page_version_and_source_text(built_warehouse, table):
    version = query(built_warehouse, "SELECT content_sha256 FROM marts.meta")[0][0]
    assert query(built_warehouse, f"""
        SELECT count(*) FROM marts.{table}
        WHERE content_sha256 IS DISTINCT FROM ? OR coalesce(source_text, '') = ''""",
                 [version]) == [(0,)]
    assert query(built_warehouse, "SELECT count(*) FROM marts.fct_page_version WHERE content_sha256 = ?",
                 [version]) == [(1,)]


# -- what the columns are: one name for source text, instants, every column described -----------

def columns(path: Path, schemas: tuple[str, ...] = ("marts", "snapshots")) -> list[tuple]:
    return query(path, f"""
        SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema IN {schemas} ORDER BY ALL""")


def test_source_text_has_one_name_in_every_mart_and_history(built_warehouse):
    """Every mart or history that carries source text calls it source_text (the contract's
    name); source_sentence, its old name in two of them, stays as an alias with the same text."""
    tables = {(s, t) for s, t, *_ in columns(built_warehouse)}
    named = {(s, t, c) for s, t, c, _ in columns(built_warehouse)}
    with_text = {(s, t) for s, t, c in named if c in ("source_text", "source_sentence")}
    assert {(s, t) for s, t in with_text if (s, t, "source_text") not in named} == set()
    assert {("marts", "fct_troop_level"), ("marts", "fct_page_strength"),
            ("snapshots", "snap_troop_level")} <= with_text <= tables
    for schema, table in with_text:
        if (schema, table, "source_sentence") in named:
            assert query(built_warehouse, f"SELECT count(*) FROM {schema}.{table} WHERE "
                         "source_text IS DISTINCT FROM source_sentence") == [(0,)], table


def test_every_stored_time_is_an_instant(built_warehouse):
    """Rule V6: every timestamp of the marts and histories is `timestamp with time zone`, but the
    page's stamp as stated (Brussels wall clock, V4), which has its instant beside it."""
    times = [(t, c, kind) for _, t, c, kind in columns(built_warehouse) if "TIMESTAMP" in kind]
    assert len(times) > 20
    naive = {(t, c) for t, c, kind in times if kind != "TIMESTAMP WITH TIME ZONE"}
    assert naive == {("fct_page_version", "page_last_updated"), ("meta", "page_last_updated")}
    assert {(t, c) for t, c, _ in times if c == "page_last_updated_utc"} == {
        ("fct_page_version", "page_last_updated_utc"), ("meta", "page_last_updated_utc")}


def test_every_column_of_the_marts_and_histories_is_described(built_warehouse):
    """The dbt docs (the manifest `make setup` parses) describe every column the build writes to
    marts.* and snapshots.*: a column missing from the YAML would show undocumented."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    described = {(n["schema"], n["name"], c["name"]) for n in manifest["nodes"].values()
                 if n["resource_type"] == "model" for c in n["columns"].values()
                 if c["description"].strip()}
    built = {(s, t, c) for s, t, c, _ in columns(built_warehouse)}
    assert len(built) > 200
    assert sorted(built - described) == []
