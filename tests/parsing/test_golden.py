"""The parser against tests/golden/nato-kosovo-2023-11-20.yml, the contract, on the bundled
snapshot.

The parser emits text expressions; dates are compared here as dates, numbers as integers. Merging
statements of one event (E3) and the commanders' assumption_of_command events (E4) happen in dbt,
so the events are compared as raw mentions: every golden event must be stated, and every mention
must be a golden event or merge into one."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from golden_facts import golden, list_date, merged_event_count, nested, period_bounds

from orchestration.parsing import ParsedPage

GOLDEN_EVENTS = golden()["events"]


def test_title(parsed: ParsedPage, golden: dict) -> None:
    assert parsed.title == golden["page"]["title"]


def test_last_updated_is_the_pages_own_stamp(parsed: ParsedPage, golden: dict) -> None:
    assert parsed.last_updated_text == "20 Nov 2023 17:24"
    stamp = dt.datetime.strptime(parsed.last_updated_text, "%d %b %Y %H:%M")
    assert stamp == dt.datetime.strptime(golden["page"]["last_updated"], "%Y-%m-%d %H:%M")


def test_sections_in_page_order(parsed: ParsedPage, golden: dict) -> None:
    assert [s.heading_path for s in parsed.sections] == golden["sections"]
    assert [s.ordinal for s in parsed.sections] == list(range(len(golden["sections"])))


def test_commanders(parsed: ParsedPage, golden: dict) -> None:
    """C1: rank, honorific, name, NATO nation code, service, start and end (None = present)."""
    actual = [[c.rank, c.honorific, c.full_name, c.nation_code, c.service_code,
               list_date(c.start_text), list_date(c.end_text)] for c in parsed.commanders]
    assert actual == golden["commanders"]


def test_commanders_keep_list_order_and_source(parsed: ParsedPage) -> None:
    assert [c.ordinal for c in parsed.commanders] == list(range(1, 29))
    assert {c.section for c in parsed.commanders} == {"KFOR commanders in chronological order"}
    first = parsed.commanders[0]
    assert first.source_text == "Lt. Gen. Sir Michael Jackson, UK A | 09 Jun 1999 - 08 Oct 1999"


def test_troop_figures(parsed: ParsedPage, golden: dict) -> None:
    """T1-T5: every golden figure, and no other, with its force, type, personnel, number,
    approximation, period, contributing nations and sentence."""
    starts = [g["sentence_starts"] for g in golden["troop_levels"]]
    expected = [(g["force"], g["figure_type"], g["personnel"], g["troops"], g["approximation"],
                 g["period"], g["contributing_nations"], g["sentence_starts"])
                for g in golden["troop_levels"]]
    actual = [(f.force, f.figure_type, f.personnel, int(f.troops_text.replace(",", "")),
               f.approximation, f.period_text,
               int(f.contributing_nations_text) if f.contributing_nations_text else None,
               # the golden start of the figure's sentence, or the whole sentence if none fits
               next((s for s in starts if f.source_text.startswith(s)), f.source_text))
              for f in parsed.troop_figures]
    assert sorted(actual, key=repr) == sorted(expected, key=repr)


def test_troop_figures_in_page_order(parsed: ParsedPage) -> None:
    assert [f.ordinal for f in parsed.troop_figures] == list(range(1, 12))
    assert [f.troops_text for f in parsed.troop_figures][:3] == ["4,500", "2,500", "800"]


@pytest.mark.parametrize("event", GOLDEN_EVENTS, ids=lambda e: f"{e[0]}-{e[1]}")
def test_golden_event_is_stated(parsed: ParsedPage, event: list) -> None:
    """E1/E2: the event is mentioned with its type, period and section, in a statement that
    contains the golden words."""
    event_type, period, _start, _end, _precision, section, words = event
    statements = [m.source_text for m in parsed.events
                  if (m.event_type, m.period_text, m.section) == (event_type, period, section)]
    assert statements, f"no {event_type} mention of {period!r} in {section!r}"
    assert any(words in s for s in statements), statements


@pytest.mark.parametrize("event", GOLDEN_EVENTS, ids=lambda e: f"{e[0]}-{e[1]}")
def test_golden_event_period_reads_as_golden_bounds(event: list) -> None:
    """The test's own reading of the period grammar (D2) agrees with the golden bounds, so the
    E3 checks below rest on the golden's dates."""
    _type, period, start, end, *_ = event
    assert period_bounds(period) == (start, end)


def _allowed(golden: dict) -> list[tuple[str, str]]:
    """The golden events plus E4's assumption_of_command on every tenure's start date."""
    events = [(e[0], e[1]) for e in GOLDEN_EVENTS]
    starts = [c[5].strftime("%d %b %Y") for c in golden["commanders"]]
    return events + [("assumption_of_command", s) for s in starts]


def test_every_mention_is_a_golden_event_or_merges_into_one(parsed: ParsedPage,
                                                            golden: dict) -> None:
    """E3: raw mentions may repeat a golden event ("since June 1999" is the deployment of
    12 June 1999); none may state an event the golden file does not have."""
    allowed = _allowed(golden)
    stray = [(m.event_type, m.period_text, m.source_text) for m in parsed.events
             if not any(t == m.event_type and nested(p, m.period_text) for t, p in allowed)]
    assert stray == []


def test_mentions_merge_to_the_golden_event_count(parsed: ParsedPage, golden: dict) -> None:
    """E3 + E4: the mentions and the 28 tenures merge to the golden's 52 events."""
    starts = [c.start_text for c in parsed.commanders]
    mentions = [(m.event_type, m.period_text) for m in parsed.events]
    mentions += [("assumption_of_command", s) for s in starts]
    assert merged_event_count(mentions) == golden["event_count"]


def test_content_sha256_is_the_article_texts(parsed: ParsedPage) -> None:
    assert parsed.content_sha256 == hashlib.sha256(parsed.article_text.encode()).hexdigest()
    assert parsed.article_text.startswith(
        "NATO's role in Kosovo\nLast updated: 20 Nov 2023 17:24\nNATO's role in Kosovo\n"
        "NATO has been leading")
    assert parsed.article_text.endswith("Maj. Gen. Özkan Ulutaş, TU A\n10 Oct 2023 - present")


def test_version_key_of_the_snapshot_is_stable(parsed: ParsedPage) -> None:
    """content_sha256 identifies a version of the page in raw tables; a parser change that moves it
    makes every archived page look new. Change this value only on purpose."""
    assert parsed.content_sha256 == (
        "4d7556e21a20aa2f92e52c2ce7538945c2586fee014e00f5d661198ef49f4108")
