"""prose.py: figures in sentences. Ranges are one figure with two ends (T8), "x of its y" is two
figures (T9); neither end of a range is ever an exact figure. The older wordings of the figure for
today (L3) are in test_old_layouts.py; the thousands separators (T7) in
tests/reliability/test_subtle_pages.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.parsing import ParseError
from orchestration.parsing.prose import parse_prose
from orchestration.parsing.records import figure_text


def figures(sentence: str) -> list[tuple]:
    found, _ = parse_prose([("Lead", [sentence])])
    return [(f.force, f.figure_type, f.troops_text, f.troops_low_text, f.troops_high_text,
             f.approximation, f.period_text) for f in found]


@pytest.mark.parametrize("sentence", [
    "Today, KFOR consists of between 4,500 and 5,000 troops.",
    "Today, KFOR numbers from 4,500 to 5,000 troops.",
    "KFOR currently has 4,500 to 5,000 soldiers, approximately.",
    "Today, KFOR has 4,500-5,000 troops.",
    "Today, KFOR has 4,500 \u2013 5,000 troops.",
    "Today, KFOR consists of between some 4,500 and 5,000 troops.",
    "Today, KFOR has 4 500 to 5 000 troops.",
])
def test_a_range_is_one_figure_with_two_ends(sentence: str) -> None:
    assert figures(sentence) == [("KFOR", "reported", None, "4,500", "5,000", "range", "today")]


@pytest.mark.parametrize(("sentence", "expected"), [
    # a change, not a range: the figure is where it went
    ("By 2003, KFOR was reduced from 39,000 to 26,000 troops.",
     [("KFOR", "reported", "26,000", None, None, "exact", "2003")]),
    ("In 2023, Allies raised KFOR from 3,800 to 4,500 troops.",
     [("KFOR", "reported", "4,500", None, None, "exact", "2023")]),
    ("In 2023, Allies increased KFOR from 3,800 to 4,500 troops.",
     [("KFOR", "reported", "4,500", None, None, "exact", "2023")]),
    ("In 2023, KFOR grew by 500 to 4,500 troops.",
     [("KFOR", "reported", "4,500", None, None, "exact", "2023")]),
    # the first is not the smaller: no range
    ("In 2003, KFOR went 26,000 to 17,500 troops.",
     [("KFOR", "reported", "17,500", None, None, "exact", "2003")]),
    # "and" without "between" joins two figures
    ("Today, the KSF has 2,500 active personnel and 800 reservists.",
     [("KSF", "reported", "2,500", None, None, "exact", "today"),
      ("KSF", "reported", "800", None, None, "exact", "today")]),
    # years are not a range's ends
    ("In 1999-2000, KFOR had 50,000 troops.",
     [("KFOR", "reported", "50,000", None, None, "exact", None)]),
])
def test_what_is_not_a_range(sentence: str, expected: list[tuple]) -> None:
    assert figures(sentence) == expected


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Today, KFOR has some 4,500 of its 5,000 troops in Kosovo.",
     [("KFOR", "reported", "4,500", None, None, "some", "today"),
      ("KFOR", "authorised", "5,000", None, None, "exact", "today")]),
    ("Currently, KFOR has some 16,000 out of its authorised 17,500 troops.",
     [("KFOR", "reported", "16,000", None, None, "some", "today"),
      ("KFOR", "authorised", "17,500", None, None, "exact", "today")]),
    ("The KSF has 2,000 of its mandated maximum of 2,500 active personnel.",
     [("KSF", "reported", "2,000", None, None, "exact", "today"),
      ("KSF", "mandated_maximum", "2,500", None, None, "exact", "today")]),
])
def test_x_of_its_y_is_what_a_force_has_and_what_it_may_have(sentence, expected) -> None:
    assert figures(sentence) == expected


def test_a_range_takes_the_force_and_date_of_its_sentence() -> None:
    found, _ = parse_prose([("History", [
        "KFOR deployed on 12 June 1999. At its peak in 1999, KFOR numbered between 45,000 and "
        "50,000 troops from 39 countries."])])
    [f] = found
    assert (figure_text(f), f.period_text, f.date_rule, f.force,
            f.contributing_nations_text) == ("45,000 to 50,000", "1999", "sentence_date", "KFOR",
                                            "39")


def test_an_unreadable_end_of_a_range_refuses_the_page() -> None:
    with pytest.raises(ParseError) as raised:
        figures("Today, KFOR has between 4,50 and 5,000 troops.")
    assert raised.value.check == "unreadable_number"


@settings(max_examples=60, deadline=None, database=None)
@given(low=st.integers(100, 60_000), step=st.integers(1, 20_000),
       joint=st.sampled_from(["between {} and {}", "from {} to {}", "{} to {}", "{}-{}",
                              "{} \u2013 {}"]),
       noun=st.sampled_from(["troops", "soldiers", "KFOR troops", "personnel"]))
def test_neither_end_of_a_range_is_ever_an_exact_figure(low, step, joint, noun) -> None:
    high = low + step
    sentence = f"Today, KFOR has {joint.format(f'{low:,}', f'{high:,}')} {noun}."
    assert [(t, lo, hi, a) for _, _, t, lo, hi, a, _ in figures(sentence)] == [
        (None, f"{low:,}", f"{high:,}", "range")]


@pytest.mark.parametrize("separator", [",", " ", "'", "."])
def test_every_thousands_separator_reads_one_number(separator: str) -> None:
    """T7 (the hypothesis version, with every space character, is in
    tests/reliability/test_subtle_pages.py)."""
    assert figures(f"Today, KFOR has about 4{separator}500 troops and 12{separator}000 "
                   "reservists.") == [
        ("KFOR", "reported", "4,500", None, None, "about", "today"),
        ("KFOR", "reported", "12,000", None, None, "exact", "today")]


@pytest.mark.parametrize("sentence", [
    "Currently, KFOR's strength is 16,000.",
    "KFOR's current strength stands at 16,000.",
    "Currently, KFOR's strength totals some 16,000.",
])
def test_older_wordings_of_a_strength_as_a_target(sentence: str) -> None:
    """T1: a number after a strength word and "is", "stands at", "totals"."""
    assert [(f, t, a, p) for f, _, t, _, _, a, p in figures(sentence)] == [
        ("KFOR", "16,000", "some" if "some" in sentence else "exact", "today")]
