"""Older versions of the page (issue 12, part 3): what a live refresh and an imported historical
capture must have (rules L1-L2), older wordings (L3), ranges across months and years (D7) and
commander tables that give the dates first (C3). The facts each older layout gives are in
test_pages.py (families.py)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.dbt_macros import duckdb_macros
from test_fuzz import KNOWN_CHECKS, TOKEN_SOUP
from variants import (
    CONTENT_TYPE,
    commander_pairs,
    replace_commanders,
    snapshot_bytes,
    snapshot_text,
    split_dates,
)

from orchestration.core.reference import load_reference
from orchestration.parsing import HISTORICAL, LIVE, ParseError, parse_page
from orchestration.parsing.commanders import dates_first_rows, parse_commanders
from orchestration.parsing.dates import find_dates
from orchestration.parsing.prose import parse_prose
from orchestration.parsing.records import figure_text

REFERENCE = load_reference()
FIXTURES = Path(__file__).parent / "fixtures"
ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FULL = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December"]
_SETTINGS = settings(max_examples=100, deadline=None, database=None)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def today_figures(page):
    return [f for f in page.troop_figures
            if f.force == "KFOR" and f.figure_type == "reported" and f.period_text == "today"]


@pytest.mark.parametrize("name", ["natolive-2009-08.html", "natolive-2012-10.html"])
def test_an_older_version_without_a_stamp_is_rejected_live_and_has_no_stamp_line(name) -> None:
    with pytest.raises(ParseError) as raised:
        parse_page(fixture(name), None, REFERENCE)
    assert raised.value.check == "last_updated_missing"
    page = parse_page(fixture(name), None, REFERENCE, HISTORICAL)
    assert page.last_updated_text is None
    assert "Last updated" not in page.article_text


def test_the_2019_layout_passes_live_with_the_same_reading() -> None:
    """L2: a version with a stamp and a commanders table reads the same either way."""
    body = fixture("natohq-2019-10.html")
    live, historical = (parse_page(body, None, REFERENCE, r) for r in (LIVE, HISTORICAL))
    assert live == historical
    assert live.last_updated_text == "17 Oct 2019 14:54"


def test_the_snapshot_reads_the_same_under_both_requirements() -> None:
    live = parse_page(snapshot_bytes(), CONTENT_TYPE, REFERENCE)
    assert parse_page(snapshot_bytes(), CONTENT_TYPE, REFERENCE, HISTORICAL) == live


def test_the_title_comes_from_title_without_the_sites_prefix() -> None:
    """The 2012 fixture has no <h1>: its title is "NATO Topics: NATO's role in Kosovo" (L3)."""
    assert b"<h1" not in fixture("natolive-2012-10.html")
    body = b"<html><head><title>NATO's role in Kosovo</title></head><body>%s</body></html>"
    today = b"<p>Today, some 5,000 KFOR troops are deployed in Kosovo.</p>"
    assert parse_page(body % today, None, REFERENCE, HISTORICAL).title == "NATO's role in Kosovo"


# -- L1: what a historical capture must have -----------------------------------------------------

def _old(transform) -> bytes:
    return transform(fixture("natolive-2012-10.html").decode()).encode()


_TODAY_2012 = ("Today, some 5,000 troops from the NATO-led Kosovo Force (KFOR), provided by 31 "
               "countries (22 NATO and 9 partner countries), are still deployed in Kosovo")
_TABLE_2012 = fixture("natolive-2012-10.html").decode()
_TABLE_2012 = _TABLE_2012[_TABLE_2012.index("<table"):_TABLE_2012.index("</table>") + 8]

HISTORICAL_REJECTIONS = {
    "no today figure": (_old(lambda p: p.replace(_TODAY_2012, "KFOR is still deployed")),
                        "today_figure_missing"),
    "only another force's figure for today": (
        b"<html><body><h1>NATO's role in Kosovo</h1><p>Currently, the NALT has a team of about 45"
        b" military and civilian personnel.</p></body></html>", "today_figure_missing"),
    "an archive's error page": (
        b"<html><head><title>Wayback Machine</title></head><body><h1>Hrm.</h1><p>The Wayback "
        b"Machine has not archived that URL.</p></body></html>", "today_figure_missing"),
    "the today figure twice": (_old(lambda p: p.replace(
        "<h3 class=\"h3\">Background</h3>",
        "<p>KFOR currently numbers some 5,500 troops.</p><h3 class=\"h3\">Background</h3>")),
        "today_figure_ambiguous"),
    "no title": (_old(lambda p: p.replace("<title>NATO Topics: NATO's role in Kosovo</title>", "")),
                 "title_missing"),
    "a commander without dates": (_old(lambda p: p.replace(
        '<td class="period">06 Apr 2001 - 03 Oct 2001</td>', "<td></td>")),
        "commander_without_dates"),
    "dates without a commander": (_old(lambda p: p.replace(
        '<td class="name">Maj. Gen. Volker Halbauer, GE A</td>', "<td>to be announced</td>")),
        "commander_dates_without_name"),
    "not HTML": (b"\x89PNG\r\n\x1a\n" + bytes(200), "not_html"),
}


@pytest.mark.parametrize(("body", "check"), HISTORICAL_REJECTIONS.values(),
                         ids=HISTORICAL_REJECTIONS.keys())
def test_a_historical_capture_without_a_required_part_is_rejected(body: bytes, check: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_page(body, None, REFERENCE, HISTORICAL)
    error = raised.value
    assert error.check == check, error
    assert error.message.isprintable() and len(error.message) < 600, error.message


def test_the_ambiguous_figure_error_quotes_both_statements() -> None:
    with pytest.raises(ParseError) as raised:
        parse_page(HISTORICAL_REJECTIONS["the today figure twice"][0], None, REFERENCE,
                   HISTORICAL)
    assert "5,000" in raised.value.message and "5,500" in raised.value.message


def test_a_commanders_section_that_lists_no_one_is_no_list_only_historically() -> None:
    body = _old(lambda p: p.replace(_TABLE_2012, "<p>See the KFOR website.</p>"))
    assert parse_page(body, None, REFERENCE, HISTORICAL).commanders == ()
    live = body.replace(b"<div id=\"content\">",
                        b"<div id=\"content\"><p>Last updated: 5 Oct. 2012 10:00</p>")
    with pytest.raises(ParseError) as raised:
        parse_page(live, None, REFERENCE)
    assert raised.value.check == "commanders_empty"


def test_a_live_page_still_needs_its_commanders() -> None:
    """The live requirements are unchanged: the 2009 layout with a stamp still lacks a list."""
    body = fixture("natolive-2009-08.html").replace(
        b"<h1>NATO's role in Kosovo</h1>",
        b"<h1>NATO's role in Kosovo</h1><p>Last updated: 3 Aug. 2009 11:00</p>")
    with pytest.raises(ParseError) as raised:
        parse_page(body, None, REFERENCE)
    assert raised.value.check == "commanders_missing"
    assert parse_page(body, None, REFERENCE, HISTORICAL).last_updated_text == "03 Aug 2009 11:00"


HISTORICAL_CHECKS = KNOWN_CHECKS | {"today_figure_missing", "today_figure_ambiguous"}


@_SETTINGS
@given(text=TOKEN_SOUP)
def test_random_documents_parse_historically_or_raise_a_named_check(text: str) -> None:
    """Whatever the body: a known check, or a page with a title and one figure for today (stated
    once or more)."""
    try:
        page = parse_page(text.encode("utf-8", "surrogatepass"), None, REFERENCE, HISTORICAL)
    except ParseError as error:
        assert error.check in HISTORICAL_CHECKS, error
        assert error.message and error.message.isprintable(), repr(error.message)
        return
    assert page.title
    assert len({figure_text(f) for f in today_figures(page)}) == 1  # one figure (L1)
    assert (page.last_updated_text is None) == ("\nLast updated: " not in page.article_text)


# -- L3: older wordings of the "today" figure ----------------------------------------------------

@pytest.mark.parametrize(("sentence", "troops", "approx", "nations"), [
    (_TODAY_2012 + ".", "5,000", "some", "31"),
    ("There are currently approximately 5,000 KFOR troops in Kosovo, from 31 NATO and partner "
     "countries.", "5,000", "approximately", "31"),
    ("KFOR troops currently number around 5,000, from 31 countries.", "5,000", "around", "31"),
    ("Some 5,600 soldiers from 31 NATO and non-NATO countries currently serve in KFOR.", "5,600",
     "some", "31"),
    ("Currently, approximately 4,600 NATO-led troops from 31 nations serve in KFOR.", "4,600",
     "approximately", "31"),
    ("Today, KFOR consists of approximately 3,500 troops provided by 28 Allied and partner "
     "countries.", "3,500", "approximately", "28"),
])
def test_older_wordings_of_the_today_figure(sentence, troops, approx, nations) -> None:
    figures, _ = parse_prose([("Lead", [sentence])])
    assert [(f.force, f.figure_type, f.troops_text, f.approximation, f.period_text,
             f.contributing_nations_text) for f in figures] == [
        ("KFOR", "reported", troops, approx, "today", nations)]


# -- D7: ranges across months and years ------------------------------------------------------------

_MACROS = duckdb_macros("conversions.sql")
_PERIOD_BOUNDS = "select " + _MACROS.period_bounds("$period", "date '2023-11-20'")
_DUCKDB = duckdb.connect()


def bounds_in_duckdb(period: str) -> tuple[dt.date, dt.date, str]:
    """The dbt macro period_bounds, run on DuckDB."""
    row = _DUCKDB.execute(_PERIOD_BOUNDS, {"period": period}).fetchone()[0]
    return row["period_start"], row["period_end"], row["date_precision"]


@st.composite
def cross_ranges(draw) -> tuple[str, dt.date, dt.date]:
    """A range across months (and sometimes years) as a page might write it, and its days."""
    start = draw(st.dates(dt.date(1999, 1, 1), dt.date(2030, 12, 31)))
    end = start + dt.timedelta(days=draw(st.integers(1, 330)))
    if end.month == start.month:
        end = end.replace(day=1) + dt.timedelta(days=32)  # some day of the next month
    names = draw(st.sampled_from([FULL, ABBR, [m + "." for m in ABBR]]))
    dash = draw(st.sampled_from(["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212"]))
    gap = draw(st.sampled_from(["", " ", "  "]))
    sep = (gap + dash + draw(st.sampled_from(["", " "])) if draw(st.booleans())
           else " " + draw(st.sampled_from(["to", "until"])) + " ")
    # the start's year is needed only when it cannot be told from the end's (D7)
    start_year = draw(st.booleans()) or (start.year != end.year and start.month <= end.month)
    day = draw(st.sampled_from(["{}", "{:02d}"]))
    text = (day.format(start.day) + " " + names[start.month - 1]
            + (f" {start.year}" if start_year else "") + sep
            + day.format(end.day) + " " + names[end.month - 1] + f" {end.year}")
    return text, start, end


@_SETTINGS
@given(case=cross_ranges(), before=st.sampled_from(["On ", "From ", "Between ", ""]))
def test_a_range_across_months_is_one_period(case, before) -> None:
    text, start, end = case
    dates = find_dates(f"{before}{text}, NATO Defence Ministers met in Brussels.")
    assert [d.kind for d in dates] == ["cross_range"], (text, dates)
    assert dates[0].text == f"{start:%d} {ABBR[start.month - 1]} {start.year} - " \
                            f"{end:%d} {ABBR[end.month - 1]} {end.year}"


@settings(max_examples=40, deadline=None, database=None)
@given(case=cross_ranges())
def test_the_canonical_range_is_what_period_bounds_reads(case) -> None:
    text, start, end = case
    [d] = find_dates(text)
    assert bounds_in_duckdb(d.text) == (start, end, "day")


@pytest.mark.parametrize(("sentence", "period"), [
    ("NATO Defence Ministers met from 30 June to 2 July 2009.", "30 Jun 2009 - 02 Jul 2009"),
    ("NATO Defence Ministers met on 30 June \u2013 2 July 2009.", "30 Jun 2009 - 02 Jul 2009"),
    ("The Council met on 30 Dec 2009 \u2013 2 Jan 2010.", "30 Dec 2009 - 02 Jan 2010"),
    ("The Council met on 30 Dec \u2013 2 Jan 2010.", "30 Dec 2009 - 02 Jan 2010"),
    ("The Council met from 30 December 2009 to 2 January.", "30 Dec 2009 - 02 Jan 2010"),
])
def test_cross_month_ranges_in_prose(sentence: str, period: str) -> None:
    _, events = parse_prose([("Section", [sentence])])
    assert [e.period_text for e in events] == [period]


def test_a_range_without_a_year_takes_the_paragraphs() -> None:
    """D3 applies to a range as to a day: the year of the latest full date before it."""
    _, events = parse_prose([("Section", [
        "On 11-12 June 2009, Ministers decided to adjust KFOR's posture. A team visited Kosovo "
        "from 30 June to 2 July to prepare it."])])
    assert [e.period_text for e in events] == ["11-12 Jun 2009", "30 Jun 2009 - 02 Jul 2009"]


@pytest.mark.parametrize(("sentence", "periods"), [
    ("on 11-12 June 2009 they decided", ["11-12 Jun 2009"]),  # D2: a range within a month
    ("on 12 June 1999. On 13 June 2000 they met", ["12 Jun 1999", "13 Jun 2000"]),
    ("from 10 June 1999 to 26,000 troops", ["10 Jun 1999"]),  # no day and month after "to"
])
def test_what_is_not_a_cross_month_range(sentence: str, periods: list[str]) -> None:
    assert [d.text for d in find_dates(sentence)] == periods


# -- C3: commander tables with the dates first -----------------------------------------------------

RAW_PAIRS = commander_pairs(snapshot_text())  # HTML fragments
PAIRS = [(html.unescape(n), html.unescape(d)) for n, d in RAW_PAIRS]
SNAPSHOT_COMMANDERS = parse_page(snapshot_bytes(), CONTENT_TYPE, REFERENCE).commanders


def _tenures(commanders) -> list[tuple]:
    return [(c.ordinal, c.rank, c.full_name, c.nation_code, c.service_code, c.start_text,
             c.end_text) for c in commanders]


@_SETTINGS
@given(picked=st.lists(st.integers(0, len(PAIRS) - 1), min_size=1, max_size=8, unique=True),
       split=st.booleans(), header=st.sampled_from([[], ["Dates", "Commander"],
                                                     ["From", "To", "Commander"]]))
def test_a_dates_first_list_reads_as_the_names_first_list(picked, split, header) -> None:
    pairs = [PAIRS[i] for i in sorted(picked)]
    names_first, dates_first = [*header], [*header]
    for i in sorted(picked):
        name, dates = PAIRS[i]
        cells = [html.unescape(c) for c in split_dates(RAW_PAIRS[i][1])] if split else [dates]
        names_first += [name, *cells]
        dates_first += [*cells, name]
    expected = parse_commanders(names_first, "Commanders", REFERENCE)
    got = parse_commanders(dates_first, "Commanders", REFERENCE, dates_first=True)
    assert _tenures(got) == _tenures(expected)
    assert [c.source_text.split(" | ")[-1] for c in got] == [n for n, _ in pairs]  # page order


def test_the_snapshot_with_a_dates_first_table_has_the_same_commanders() -> None:
    rows = [f"<tr><td>{d}</td><td>{n}</td></tr>" for n, d in commander_pairs(snapshot_text())]
    table = "<table><tr><th>Dates</th><th>Commander</th></tr>" + "".join(rows) + "</table>"
    page = parse_page(replace_commanders(snapshot_text(), table).encode(), CONTENT_TYPE, REFERENCE)
    assert _tenures(page.commanders) == _tenures(SNAPSHOT_COMMANDERS)
    assert len(page.commanders) == 28


@pytest.mark.parametrize(("lines", "check", "quoted"), [
    (["09 Jun 1999 - 08 Oct 1999", "Lt. Gen. Sir Michael Jackson, UK A",
      "Lt. Gen. Klaus Reinhardt, GE A"], "commander_without_dates", "Klaus Reinhardt"),
    (["09 Jun 1999 - 08 Oct 1999", "Lt. Gen. Sir Michael Jackson, UK A",
      "08 Oct 1999 - 18 Apr 2000"], "commander_dates_without_name", "08 Oct 1999 - 18 Apr 2000"),
    (["09 Jun 1999 - 08 Oct 1999", "08 Oct 1999 - 18 Apr 2000", "Lt. Gen. Klaus Reinhardt, GE A"],
     "commander_dates_without_name", "08 Oct 1999 - 18 Apr 2000"),
])
def test_a_dates_first_list_with_a_gap_is_rejected(lines, check, quoted) -> None:
    with pytest.raises(ParseError) as raised:
        parse_commanders(lines, "Commanders", REFERENCE, dates_first=True)
    assert raised.value.check == check
    assert quoted in raised.value.message


_NAME, _DATES = "Lt. Gen. Sir Michael Jackson, UK A", "09 Jun 1999 - 08 Oct 1999"


@pytest.mark.parametrize(("rows", "dates_first"), [
    ([[_DATES, _NAME]], True),
    ([["Period", "Commander"], ["09 Jun 1999", "08 Oct 1999", _NAME]], True),
    ([[_NAME, _DATES]], False),
    ([[_DATES, _NAME], [_NAME, _DATES]], False),  # contradicting rows: no reading is chosen
    ([[_DATES], [_NAME]], False),  # no row holds both
    ([], False),
])
def test_only_table_rows_tell_that_the_dates_come_first(rows, dates_first) -> None:
    assert dates_first_rows(rows, REFERENCE) is dates_first


def test_a_names_first_list_missing_its_first_name_and_last_dates_is_still_rejected() -> None:
    """Read dates first, this list would give every commander the one before's dates: without
    table rows that show the order, the list is read name first and rejected."""
    lines = [f"<p>{line}</p>" for name, dates in commander_pairs(snapshot_text())
             for line in (f"<strong>{name}</strong>", dates)]
    markup = "\n".join(lines[1:-1])
    body = replace_commanders(snapshot_text(), markup).encode()
    with pytest.raises(ParseError) as raised:
        parse_page(body, CONTENT_TYPE, REFERENCE)
    assert raised.value.check == "commander_dates_without_name"
