"""The analyst questions of dbt_project/analyses/: each compiles with dbt, and its compiled SQL runs
read-only against a warehouse built from the bundled snapshot and answers what the golden file
says (tests/golden/nato-kosovo-2023-11-20.yml)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from statistics import mean, median

import pytest
from support.warehouse import rows

PAGE_DATE = dt.date(2023, 11, 20)
QUESTIONS = {"commanders_per_nation", "average_tenure_by_rank", "troop_drawdown_by_year",
             "events_per_year", "commander_on_date", "page_strength_over_time"}


run = rows  # a compiled question's rows, read-only


def tenures(golden) -> list[dict]:
    out = []
    for rank, _honorific, name, nation, _service, start, end in golden["commanders"]:
        out.append({"rank": rank, "name": name, "nation": nation, "start": start, "end": end,
                    "days": ((end or PAGE_DATE) - start).days, "current": end is None})
    return out


def test_every_question_compiles_against_the_published_marts(compiled_analyses):
    """Each question's answer is asserted by a test of its own below (read-only, as a BI tool)."""
    assert set(compiled_analyses) == QUESTIONS
    for name, sql in compiled_analyses.items():
        assert '"kfor"."marts".' in sql, name  # refs resolved to the published marts


def test_commanders_per_nation(compiled_analyses, built_warehouse, golden):
    rows = run(built_warehouse, compiled_analyses["commanders_per_nation"])
    expected = Counter()
    for nation, names in _names_by_nation(golden).items():
        expected[nation] = len(names)
    assert {r["nato_code"]: r["commanders"] for r in rows} == dict(expected)
    assert dict(expected) == {"IT": 13, "GE": 7, "FR": 3, "UK": 1, "SP": 1, "NO": 1, "HU": 1,
                              "TU": 1}
    assert [r["nato_code"] for r in rows][:3] == ["IT", "GE", "FR"]  # most commanders first
    assert {r["nato_code"]: r["nation_name"] for r in rows}["GE"] == "Germany"  # NATO code, not ISO
    assert sum(r["tenures"] for r in rows) == len(golden["commanders"])
    days = defaultdict(int)
    for t in tenures(golden):
        days[t["nation"]] += t["days"]
    assert {r["nato_code"]: r["days_in_command"] for r in rows} == dict(days)


def _names_by_nation(golden) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for t in tenures(golden):
        out[t["nation"]].add(t["name"])
    return out


def test_average_tenure_by_rank(compiled_analyses, built_warehouse, golden):
    rows = {r["rank_abbreviation"]: r
            for r in run(built_warehouse, compiled_analyses["average_tenure_by_rank"])}
    by_rank: dict[str, list[dict]] = defaultdict(list)
    for t in tenures(golden):
        by_rank[t["rank"]].append(t)
    assert set(rows) == set(by_rank) == {"Lt. Gen.", "Maj. Gen."}
    for rank, ts in by_rank.items():
        done = [t["days"] for t in ts if not t["current"]]
        row = rows[rank]
        assert row["tenures"] == len(ts)
        assert row["in_office"] == sum(t["current"] for t in ts)
        assert row["avg_days_completed"] == pytest.approx(mean(done), abs=0.05)
        assert row["median_days_completed"] == pytest.approx(median(done))
        assert (row["shortest_days"], row["longest_days"]) == (min(done), max(done))
    assert rows["Lt. Gen."]["rank_name"] == "Lieutenant General"
    assert rows["Maj. Gen."]["nato_rank_code"] == "OF-7"
    assert rows["Maj. Gen."]["in_office"] == 1  # Ulutas, left out of the averages


def test_troop_drawdown_by_year(compiled_analyses, built_warehouse, golden):
    rows = run(built_warehouse, compiled_analyses["troop_drawdown_by_year"])
    reported = [f for f in golden["troop_levels"]
                if f["force"] == "KFOR" and f["figure_type"] == "reported"
                and f["personnel"] == "troops"]
    latest: dict[int, dict] = {}
    for f in sorted(reported, key=lambda f: (f["start"], -f["end"].toordinal())):
        latest[f["end"].year] = f
    assert [r["year"] for r in rows] == sorted(latest)  # years without a figure are absent
    for r in rows:
        f = latest[r["year"]]
        assert (r["troops"], r["date_precision"], r["period_start"], r["period_end"]) == \
            (f["troops"], f["precision"], f["start"], f["end"])
        word = "" if f["approximation"] == "exact" else f["approximation"] + " "
        assert r["stated"] == f"{word}{f['troops']:,}"
        assert r["figures_in_year"] == sum(g["end"].year == r["year"] for g in reported)
    assert [(r["year"], r["troops"]) for r in rows] == [
        (1999, 50000), (2002, 39000), (2003, 17500), (2010, 10200), (2023, 4500)]
    assert rows[0]["change_pct"] is None
    assert all(r["change_pct"] < 0 for r in rows[1:])  # a drawdown, as reported
    assert 5000 not in [r["troops"] for r in rows]  # the authorised level is not a reported figure
    assert rows[-1]["period"] == "today, 20 Nov 2023"


def test_events_per_year(compiled_analyses, built_warehouse, golden):
    rows = run(built_warehouse, compiled_analyses["events_per_year"])
    expected = Counter(e[2].year for e in golden["events"])
    commands = Counter(t["start"].year for t in tenures(golden))
    assert [r["year"] for r in rows] == list(range(1999, PAGE_DATE.year + 1))  # zeros included
    assert sum(r["events"] for r in rows) == golden["event_count"] == 52
    for r in rows:
        assert r["assumptions_of_command"] == commands[r["year"]], r
        assert r["other_events"] == expected[r["year"]], r
        assert r["events"] == r["assumptions_of_command"] + r["other_events"]


def test_commander_on_date(compiled_analyses, built_warehouse):
    sql = compiled_analyses["commander_on_date"]
    assert "date '2010-01-01'" in sql  # the literal date the file documents
    rows = run(built_warehouse, sql)
    assert [(r["full_name"], r["nation_name"], r["rank"]) for r in rows] == [
        ("Markus Bentler", "Germany", "Lt. Gen.")]
    assert rows[0]["days_in_command_so_far"] == (dt.date(2010, 1, 1) - dt.date(2009, 9, 8)).days

    def on(day: str) -> list[tuple]:
        got = run(built_warehouse, sql.replace("date '2010-01-01'", f"date '{day}'"))
        return [(r["full_name"], r["assumed_command_that_day"]) for r in got]

    # a handover day is the incoming commander's (rule H1), the day before the outgoing one's
    assert on("2010-09-01") == [("Erhard Bühler", True)]
    assert on("2010-08-31") == [("Markus Bentler", False)]
    assert on("1999-06-09") == [("Michael Jackson", False)]  # the first command
    assert on("2023-11-20") == [("Özkan Ulutaş", False)]  # in office on the page's date
    assert on("2023-11-21") == []  # past the page's date the page says nothing
    assert on("1999-01-01") == []


def test_page_strength_over_time(compiled_analyses, built_warehouse):
    """The bundled page alone: one version, its figure for today from its own stamp (V2)."""
    rows = run(built_warehouse, compiled_analyses["page_strength_over_time"])
    assert [(r["said_from"], r["said_until"], r["page_date"], r["stated"], r["troops"],
             r["contributing_nations"], r["change_from_previous_version"]) for r in rows] == [
        (PAGE_DATE, None, PAGE_DATE, "approximately 4,500", 4500, 27, None)]
