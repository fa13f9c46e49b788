"""dates.py: date expressions in prose (find_dates, D2-D5) and in the commanders list (list_date,
list_range, C1)."""

from __future__ import annotations

import pytest

from orchestration.parsing.dates import find_dates, list_date, list_range


def _texts(sentence: str) -> list[str]:
    return [d.text for d in find_dates(sentence)]


@pytest.mark.parametrize(("sentence", "expected"), [
    # D2: each precision, normalised
    ("KFOR deployed into Kosovo on 12 June 1999, in the wake", ["12 Jun 1999"]),
    ("entered into force on 1 April 2016", ["01 Apr 2016"]),
    ("on June 12, 1999, KFOR", ["12 Jun 1999"]),
    ("on 11-12 June 2009, NATO Defence Ministers", ["11-12 Jun 2009"]),
    ("in Istanbul on 3-4 February 2010, NATO", ["3-4 Feb 2010"]),
    ("in Istanbul on 3\u20134 February 2010, NATO", ["3-4 Feb 2010"]),
    ("launched by the Alliance in March 1999 to halt", ["Mar 1999"]),
    ("in Sept. 2011", ["Sep 2011"]),
    ("By early 2002, KFOR was reduced", ["early 2002"]),
    ("mid-2005", ["mid 2005"]),
    ("the middle of 2003", ["mid 2003"]),
    ("late 2005", ["late 2005"]),
    ("then to 17,500 by the end of 2003.", ["end of 2003"]),
    ("at the beginning of 2003", ["beginning of 2003"]),
    ("the start of 2003", ["beginning of 2003"]),
    ("in the autumn 2023, Allies", ["autumn 2023"]),
    ("in fall 2023", ["autumn 2023"]),
    ("the summer of 2020", ["summer 2020"]),
    ("which was created in 2016 following", ["2016"]),
    ("tensions in the region throughout 2023 are", ["2023"]),
    ("since 1999", ["1999"]),
    # D4: "by <date>" is the date
    ("to 26,000 by June 2003", ["Jun 2003"]),
    # E1: two dates, two expressions, in order
    ("signed on 27 October 2015 and entered into force on 1 April 2016",
     ["27 Oct 2015", "01 Apr 2016"]),
    # D5: citations and bare years are not dates
    ("Security Council Resolution 1244 (1999) and the", []),
    ("the EU-brokered Normalisation Agreement (2013).", []),
    ("In the years following 2003, the security situation", []),
    ("in 2008-2010", []),
    # "may" the verb is not May; capitalised May is
    ("The Council may decide later.", []),
    ("troops may 2020", []),
    ("in May 2020", ["May 2020"]),
    ("in MAY 2020", ["May 2020"]),
    # No calendar check here: dbt rejects it
    ("on 31 Feb 2020", ["31 Feb 2020"]),
])
def test_find_dates(sentence: str, expected: list[str]) -> None:
    assert _texts(sentence) == expected


def test_a_day_inside_a_longer_expression_is_not_also_a_month() -> None:
    """Overlaps are resolved longest first: "12 June 1999" is one day, not also "June 1999"."""
    (mention,) = find_dates("on 12 June 1999")
    assert (mention.kind, mention.days, mention.month, mention.year) == ("day", "12", "Jun", "1999")
    assert "on 12 June 1999"[mention.start:mention.end] == "12 June 1999"


def test_a_day_without_its_year_is_left_for_the_paragraph() -> None:
    """D3: "By 20 June" comes back without a year (text "") for the caller to resolve."""
    (mention,) = find_dates("By 20 June, the withdrawal of Serbian forces was complete.")
    assert mention.year is None and mention.text == ""
    assert mention.with_year("1999").text == "20 Jun 1999"


def test_widened_to_month() -> None:
    """T3's last resort widens a day to its month and keeps coarser periods."""
    assert find_dates("By 20 June 1999")[0].widened_to_month() == "Jun 1999"
    assert find_dates("on 11-12 June 2009")[0].widened_to_month() == "Jun 2009"
    assert find_dates("by the end of 2003")[0].widened_to_month() == "end of 2003"


@pytest.mark.parametrize(("token", "expected"), [
    ("09 Jun 1999", "09 Jun 1999"),
    ("9 June 1999", "09 Jun 1999"),
    ("1 Sep 2010", "01 Sep 2010"),
    ("Sept. 1, 2010", "01 Sep 2010"),
    ("09 Jun 1999.", "09 Jun 1999"),
    (" 09 Jun 1999 ", "09 Jun 1999"),
    ("31 Feb 2020", "31 Feb 2020"),  # kept as written; dbt's date cast rejects it
    ("Jun 1999", None),
    ("1999", None),
    ("Lt. Gen.", None),
    ("present", None),
])
def test_list_date(token: str, expected: str | None) -> None:
    assert list_date(token) == expected


@pytest.mark.parametrize("line", [
    "09 Jun 1999 - 08 Oct 1999", "09 Jun 1999-08 Oct 1999", "09 Jun 1999- 08 Oct 1999",
    "09 Jun 1999 -08 Oct 1999", "09 Jun 1999 \u2013 08 Oct 1999", "09 Jun 1999 \u201308 Oct 1999",
    "09 Jun 1999\u201408 Oct 1999", "09 Jun 1999 \u2014 08 Oct 1999",
    "09 Jun 1999 \u2212 08 Oct 1999",
    "09 Jun 1999 to 08 Oct 1999", "9 June 1999 \u2013 8 October 1999.",
    "June 9, 1999 - October 8, 1999", "(09 Jun 1999 - 08 Oct 1999)", "[09 Jun 1999 - 08 Oct 1999]",
])
def test_list_range_reads_every_separator(line: str) -> None:
    assert list_range(line) == ("09 Jun 1999", "08 Oct 1999", True)


@pytest.mark.parametrize("word", ["present", "Present", "PRESENT", "today", "Today", "now"])
def test_list_range_present_is_an_open_end(word: str) -> None:
    assert list_range(f"10 Oct 2023 - {word}") == ("10 Oct 2023", None, True)


def test_list_range_a_lone_start_waits_for_its_end() -> None:
    """Separate start and end cells: the start alone is incomplete."""
    assert list_range("09 Jun 1999") == ("09 Jun 1999", None, False)


@pytest.mark.parametrize("line", [
    "", "present", "Lt. Gen. Sir Michael Jackson, UK A", "09 Jun 1999 - later",
    "09 Jun 1999 - 08 Oct", "Jun 1999 - Oct 1999", "09 Jun 1999 - 08 Oct 1999 (acting)",
])
def test_list_range_refuses_what_is_not_a_date_line(line: str) -> None:
    assert list_range(line) is None
