"""L6: a parse is linear in the page's size and has named limits. A page of 1 MB decides in under
2 s; text that made the parser quadratic (one long sentence of dates, of numbers, of <br> lines,
of forces; nested tables) stays fast; deep nesting, too many tags and a passed deadline are named
checks, never a RecursionError."""

from __future__ import annotations

import contextlib
import time

import pytest
from variants import CONTENT_TYPE, snapshot_text

from orchestration.core.reference import load_reference
from orchestration.parsing import ParseError, parse_page
from orchestration.parsing.document import MAX_DEPTH, MAX_ELEMENTS

REFERENCE = load_reference()
ANCHOR = "<h2 class=\"fs-large\">KFOR commanders in chronological order</h2>"


def prose_page(size: int) -> bytes:
    """The snapshot with its prose sections repeated to about `size` bytes."""
    page = snapshot_text()
    start, end = page.index("<h2 class=\"fs-large\">KFOR's objectives</h2>"), page.index(ANCHOR)
    prose = page[start:end]
    return (page[:end] + prose * max(1, (size - len(page)) // len(prose)) + page[end:]).encode()


def seconds(body: bytes) -> float:
    """The parse's CPU time: other processes on a busy machine do not count."""
    started = time.process_time()
    with contextlib.suppress(ParseError):
        parse_page(body, CONTENT_TYPE, REFERENCE)
    return time.process_time() - started


def test_a_page_of_one_megabyte_parses_in_under_two_seconds() -> None:
    body = prose_page(1_000_000)
    assert len(body) >= 990_000
    started = time.process_time()  # CPU time: other processes on a busy machine do not count
    page = parse_page(body, CONTENT_TYPE, REFERENCE)
    assert time.process_time() - started < 2.0  # the snapshot's prose 18 times: about 0.6 s
    assert len(page.commanders) == 28 and len(page.troop_figures) > 18 * 10


UNIT = {  # 128 KB of each of these took a minute or more before issue 21
    "a sentence of dates": "on 12 June 1999 - 13 July 2000 and by early 2002 ",
    "a sentence of numbers": "some 4,500 troops and 4 500 soldiers to 5,000 troops ",
    "a sentence of forces": "KFOR KSF NALT troops 45 ",
    "lines of figures": "Today 4,500 troops<br>",
    "nested tables": "<table><tr><td>12 June 1999 ",
    "a run of digits": "1 000 000 000 000 000 000 ",
}


@pytest.mark.parametrize("unit", UNIT.values(), ids=UNIT.keys())
def test_text_that_was_quadratic_is_linear(unit: str) -> None:
    page = snapshot_text()
    filler = unit * (128_000 // len(unit))
    body = page.replace("<p>Over time,", f"<p>{filler}</p><p>Over time,", 1).encode()
    assert seconds(body) < 1.0  # 0.1 to 0.4 s; quadratic, this was a minute or more


def test_deep_nesting_is_a_named_check() -> None:
    page = snapshot_text()
    deep = page.replace("<p>Over time,", "<div>" * 1000 + "x" + "</div>" * 1000
                        + "<p>Over time,", 1).encode()
    with pytest.raises(ParseError) as raised:
        parse_page(deep, CONTENT_TYPE, REFERENCE)
    assert raised.value.check == "nesting_too_deep"
    # the page itself nests 8 deep where the <div>s go: MAX_DEPTH - 8 of them still parse
    within = page.replace("<p>Over time,", "<div>" * (MAX_DEPTH - 8) + "x"
                          + "</div>" * (MAX_DEPTH - 8) + "<p>Over time,", 1).encode()
    assert len(parse_page(within, CONTENT_TYPE, REFERENCE).commanders) == 28


def test_too_many_tags_are_refused_before_the_tree_is_built() -> None:
    body = ("<html><body><h1>NATO's role in Kosovo</h1>" + "<b></b>" * MAX_ELEMENTS
            + "</body></html>").encode()
    started = time.process_time()
    with pytest.raises(ParseError) as raised:
        parse_page(body, CONTENT_TYPE, REFERENCE)
    assert raised.value.check == "too_many_elements"
    assert time.process_time() - started < 0.5  # building the tree would take seconds


def test_a_parse_past_its_deadline_is_a_named_check_and_reads_nothing_else() -> None:
    body = prose_page(200_000)
    with pytest.raises(ParseError) as raised:
        parse_page(body, CONTENT_TYPE, REFERENCE, deadline=0.0)
    assert raised.value.check == "parse_deadline"
    assert parse_page(body, CONTENT_TYPE, REFERENCE, deadline=None) == \
        parse_page(body, CONTENT_TYPE, REFERENCE)
