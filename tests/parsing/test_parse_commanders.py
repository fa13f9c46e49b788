"""commanders.py: split_name (rank, honorific, name; C1) and the line-level list reader."""

from __future__ import annotations

import pytest

from orchestration.core.reference import load_reference
from orchestration.parsing import ParseError
from orchestration.parsing.commanders import (
    Line,
    commander_lists,
    name_line,
    parse_commanders,
    split_name,
)

REFERENCE = load_reference()


@pytest.mark.parametrize(("who", "expected"), [
    ("Lt. Gen. Sir Michael Jackson", ("Lt. Gen.", "Sir", "Michael Jackson")),
    ("Maj. Gen. Özkan Ulutaş", ("Maj. Gen.", None, "Özkan Ulutaş")),
    ("Lt. Gen. Giuseppe E. Gay", ("Lt. Gen.", None, "Giuseppe E. Gay")),
    ("Lt. Gen. Xavier Bout de Marnhac", ("Lt. Gen.", None, "Xavier Bout de Marnhac")),
    ("Maj. Gen. Lorenzo D'Addario", ("Maj. Gen.", None, "Lorenzo D'Addario")),
    # the longest rank wins: "Lt. Gen." over "Gen.", "Brig. Gen." over "Brig."
    ("Gen. Wesley Clark", ("Gen.", None, "Wesley Clark")),
    ("Brig. Gen. John Doe", ("Brig. Gen.", None, "John Doe")),
    ("Brig. John Doe", ("Brig.", None, "John Doe")),
    ("Lt. Col. Jane Doe", ("Lt. Col.", None, "Jane Doe")),
    ("Air Vice-Marshal John Doe", ("Air Vice-Marshal", None, "John Doe")),
    # spellings NATO might use: no space after the dot, the rank written out, lower case
    ("Lt.Gen. Klaus Reinhardt", ("Lt. Gen.", None, "Klaus Reinhardt")),
    ("Lieutenant General Klaus Reinhardt", ("Lt. Gen.", None, "Klaus Reinhardt")),
    ("General Sir Mike Jackson", ("Gen.", "Sir", "Mike Jackson")),
    ("lt. gen. Klaus Reinhardt", ("Lt. Gen.", None, "Klaus Reinhardt")),
    # no rank
    ("Michael Jackson", (None, None, "Michael Jackson")),
    ("Dame Jane Smith", (None, "Dame", "Jane Smith")),
    # a rank must be a whole word: "Generalov" is a name, not "General"
    ("Generalov Ivan", (None, None, "Generalov Ivan")),
    ("Majorca Smith", (None, None, "Majorca Smith")),
    # an honorific needs a name after it
    ("Lt. Gen. Sir", ("Lt. Gen.", None, "Sir")),
])
def test_split_name(who: str, expected: tuple) -> None:
    assert split_name(who, REFERENCE) == expected


def _read(*lines: str) -> list[tuple]:
    return [(c.rank, c.full_name, c.nation_code, c.service_code, c.start_text, c.end_text)
            for c in parse_commanders(list(lines), "Commanders", REFERENCE)]


def test_name_line_then_date_line() -> None:
    assert _read("Lt. Gen. Sir Michael Jackson, UK A", "09 Jun 1999 - 08 Oct 1999") == [
        ("Lt. Gen.", "Michael Jackson", "UK", "A", "09 Jun 1999", "08 Oct 1999")]


def test_name_and_dates_on_one_line() -> None:
    assert _read("Maj. Gen. Erhard Drews (GE A) 09 Sep 2011 - 07 Sep 2012") == [
        ("Maj. Gen.", "Erhard Drews", "GE", "A", "09 Sep 2011", "07 Sep 2012")]


def test_start_and_end_in_separate_lines() -> None:
    assert _read("Maj. Gen. Özkan Ulutaş, TU A", "10 Oct 2023", "present") == [
        ("Maj. Gen.", "Özkan Ulutaş", "TU", "A", "10 Oct 2023", None)]


def test_a_lone_start_at_the_end_of_the_list_is_in_office() -> None:
    assert _read("Maj. Gen. Özkan Ulutaş, TU A", "10 Oct 2023")[0][-2:] == ("10 Oct 2023", None)


def test_lines_that_are_neither_are_skipped() -> None:
    assert len(_read("Commander", "From", "To", "Lt. Gen. Klaus Reinhardt, GE A",
                     "08 Oct 1999", "18 Apr 2000")) == 1


def test_present_without_a_start_is_no_tenure() -> None:
    """"present" ends a tenure; it cannot start one (that would be a commander without dates)."""
    with pytest.raises(ParseError) as raised:
        parse_commanders(["Lt. Gen. Klaus Reinhardt, GE A", "present"], "Commanders", REFERENCE)
    assert raised.value.check == "commander_without_dates"


@pytest.mark.parametrize(("lines", "check"), [
    ([], "commanders_empty"),
    (["To be announced."], "commanders_empty"),
    (["Lt. Gen. Klaus Reinhardt, GE A", "Lt. Gen. Juan Ortuño, SP A", "18 Apr 2000 - 16 Oct 2000"],
     "commander_without_dates"),
    (["Lt. Gen. Klaus Reinhardt, GE A"], "commander_without_dates"),
    (["08 Oct 1999 - 18 Apr 2000"], "commander_dates_without_name"),
    (["Maj. Gen., UK A", "08 Oct 1999 - 18 Apr 2000"], "commander_dates_without_name"),
])
def test_list_errors(lines: list[str], check: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_commanders(lines, "Commanders", REFERENCE)
    assert raised.value.check == check


# -- C4: the list by its shape -----------------------------------------------------------------------

def _lists(*lines: str | tuple[str, str | int]) -> list[list[str]]:
    """commander_lists over lines; ("h", text) is a heading, (row, text) a table cell."""
    out = []
    for i, line in enumerate(lines):
        if isinstance(line, tuple):
            kind, text = line
            out.append(Line(text, i, heading=kind == "h", row=kind if isinstance(kind, int) else 0))
        else:
            out.append(Line(line, i))
    return [list(found.lines) for found in commander_lists(out, REFERENCE)]


JACKSON, J_DATES = "Lt. Gen. Sir Michael Jackson, UK A", "09 Jun 1999 - 08 Oct 1999"
REINHARDT, R_DATES = "Lt. Gen. Klaus Reinhardt, GE A", "08 Oct 1999 - 18 Apr 2000"
PROSE = "KFOR deployed into Kosovo on 12 June 1999, in the wake of an air campaign."


def test_a_list_is_found_under_any_heading_or_none() -> None:
    assert _lists(PROSE, JACKSON, J_DATES, REINHARDT, R_DATES, PROSE) == [
        [JACKSON, J_DATES, REINHARDT, R_DATES]]
    assert _lists(("h", "Leadership"), JACKSON, J_DATES) == [[JACKSON, J_DATES]]


def test_headings_and_short_lines_inside_a_list_do_not_end_it() -> None:
    assert _lists(JACKSON, J_DATES, ("h", "2000-2009"), REINHARDT, "(acting)", R_DATES) == [
        [JACKSON, J_DATES, "2000-2009", REINHARDT, "(acting)", R_DATES]]


def test_a_line_of_prose_ends_a_list_and_dates_alone_are_prose() -> None:
    assert _lists(JACKSON, J_DATES, PROSE, REINHARDT, R_DATES) == [
        [JACKSON, J_DATES], [REINHARDT, R_DATES]]
    assert _lists(PROSE, "12 June 2009", J_DATES, PROSE) == []  # no one named: no list


def test_dates_that_lost_their_name_are_a_list_when_the_page_has_one() -> None:
    """A whole date line after the list (its name lost in prose) is refused, never dropped."""
    found = _lists(JACKSON, J_DATES, "Lt. Gen. Klaus Reinhardt of the German Army", R_DATES)
    assert found == [[JACKSON, J_DATES], [R_DATES]]
    with pytest.raises(ParseError) as raised:
        parse_commanders(found[1], "Commanders", REFERENCE)
    assert raised.value.check == "commander_dates_without_name"


def test_dates_before_a_heading_that_opens_the_list_are_not_its() -> None:
    assert _lists("12 June 2009", ("h", "Commanders"), JACKSON, J_DATES) == [
        [JACKSON, J_DATES]]


def test_a_row_whose_cells_split_the_name_line_is_one_name_line() -> None:
    rows = [(1, "Lt. Gen."), (1, "Sir Michael Jackson"), (1, "UK A"), (1, "09 Jun 1999"),
            (1, "08 Oct 1999"), (2, "08 Oct 1999"), (2, "Lt. Gen."), (2, "Klaus Reinhardt"),
            (2, "GE A")]
    found = _lists((3, "Rank"), (3, "Name"), *rows)
    assert found == [["Lt. Gen. Sir Michael Jackson UK A", "09 Jun 1999", "08 Oct 1999",
                      "08 Oct 1999", "Lt. Gen. Klaus Reinhardt GE A"]]


def test_a_line_of_several_entries_is_read_entry_by_entry() -> None:
    line = f"{JACKSON} {J_DATES}; {REINHARDT} {R_DATES}."
    assert _lists(line) == [[JACKSON, J_DATES, REINHARDT, R_DATES]]
    assert _lists(f"{J_DATES} {JACKSON}") == [[JACKSON, J_DATES]]  # dates first, one entry
    assert _lists(f"{JACKSON} {J_DATES} and then {R_DATES}") == []  # not entries: prose


@pytest.mark.parametrize(("line", "is_name"), [
    ("Lt. Gen. Sir Michael Jackson, UK A", True),
    ("Lt. Gen. Sir Michael Jackson (UK A)", True),
    ("Lt. Gen. Sir Michael Jackson - UK A", True),
    ("Lt. Gen. Sir Michael Jackson UK A", True),
    ("Lt. Gen. Sir Michael Jackson, UK/A", True),
    ("Lt. Gen. JOHN SMITH, UK A", True),
    ("Lt. Gen. Sir Michael Jackson, UK A (acting)", True),
    ("Michael Jackson, UK A", True),
    ("Kosovo Security Force (KSF)", False),
    ("NATO Advisory and Liaison Team (NALT)", False),
    ("Jackson, UK A", False),  # one word and no rank
    ("the general, UK A", False),
    ("Lt. Gen. Sir Michael Jackson, UK A, who led the force", False),
])
def test_name_lines(line: str, is_name: bool) -> None:
    assert bool(name_line(line, REFERENCE)) is is_name


def test_a_name_line_with_its_dates_keeps_its_source_once() -> None:
    [c] = parse_commanders(["Maj. Gen. Özkan Ulutaş (TU A) 10 Oct 2023 \u2013 present"],
                           "Commanders", REFERENCE)
    assert c.source_text == "Maj. Gen. Özkan Ulutaş (TU A) 10 Oct 2023 \u2013 present"
