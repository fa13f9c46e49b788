"""text.py sentences(): a period after an abbreviation or an initial does not end a sentence."""

from __future__ import annotations

import pytest

from orchestration.parsing.text import sentences


def _texts(paragraph: str) -> list[str]:
    return [s for _, s in sentences(paragraph)]


@pytest.mark.parametrize(("paragraph", "expected"), [
    ("The current COMKFOR is Maj. Gen. Özkan Ulutaş (Turkish Army). He assumed command.",
     ["The current COMKFOR is Maj. Gen. Özkan Ulutaş (Turkish Army).", "He assumed command."]),
    ("Lt. Gen. Sir Michael Jackson commanded KFOR. He left in 1999.",
     ["Lt. Gen. Sir Michael Jackson commanded KFOR.", "He left in 1999."]),
    ("Lt. Gen. Giuseppe E. Gay took command. Then he left.",
     ["Lt. Gen. Giuseppe E. Gay took command.", "Then he left."]),
    ("local civil actors (e.g. Kosovo Police, institutions) through LMTs. Next one.",
     ["local civil actors (e.g. Kosovo Police, institutions) through LMTs.", "Next one."]),
    ("that is, i.e. The Team. Next.", ["that is, i.e. The Team.", "Next."]),
    ("adopted on 12 Jun. 1999 KFOR entered. Then.", ["adopted on 12 Jun. 1999 KFOR entered.",
                                                     "Then."]),
    ("It grew in 2003. 17,500 remained.", ["It grew in 2003.", "17,500 remained."]),
    ("Gate 2 was declared on 28 February 2011. Any decision requires approval.",
     ["Gate 2 was declared on 28 February 2011.", "Any decision requires approval."]),
    ("Is it over? Yes! Done.", ["Is it over?", "Yes!", "Done."]),
    ("No period at the end", ["No period at the end"]),
    ("", []),
    ("   ", []),
])
def test_sentences(paragraph: str, expected: list[str]) -> None:
    assert _texts(paragraph) == expected


def test_lower_case_after_a_period_is_not_a_new_sentence() -> None:
    assert _texts("about 45 staff vs. 13 countries, e.g. some partners.") == [
        "about 45 staff vs. 13 countries, e.g. some partners."]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    assert _texts('He said "Go." Then left. (See the annex.) Next.') == [
        'He said "Go."', "Then left.", "(See the annex.)", "Next."]


def test_offsets_point_at_each_sentence() -> None:
    paragraph = "KFOR deployed. Lt. Gen. Jackson led it. It  grew."
    for offset, sentence in sentences(paragraph):
        assert paragraph[offset:].startswith(sentence)
