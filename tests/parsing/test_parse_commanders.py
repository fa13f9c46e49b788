"""commanders.py: split_name (rank, honorific, name; C1) and the line-level list reader."""

from __future__ import annotations

import pytest

from orchestration.core.reference import load_reference
from orchestration.parsing import ParseError
from orchestration.parsing.commanders import parse_commanders, split_name

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
