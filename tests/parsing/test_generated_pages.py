"""The parser against what it made of some hundreds of generated pages when they were recorded
(generated.py, generated_article_texts.json): the same article text, version key and records, or
the same ParseError check. Recorded with the lxml.html parser before the BeautifulSoup port."""

from __future__ import annotations

import difflib
import functools

import pytest
from generated import load, outcome, pages

from orchestration.core.reference import load_reference
from orchestration.parsing import parse_page

PARSE = functools.partial(parse_page, reference=load_reference())
RECORDED = load()
PAGES = list(pages())


def test_every_generated_page_is_recorded() -> None:
    assert [name for name, _, _ in PAGES] == list(RECORDED)


@pytest.mark.parametrize(("name", "body", "content_type"), PAGES, ids=[p[0] for p in PAGES])
def test_generated_page_reads_as_recorded(name: str, body: bytes, content_type: str | None) -> None:
    expected, actual = RECORDED[name], outcome(PARSE, body, content_type)
    if "text" in expected and "text" in actual and actual["text"] != expected["text"]:
        diff = "\n".join(difflib.unified_diff(expected["text"].split("\n"),
                                              actual["text"].split("\n"), "recorded", "now",
                                              lineterm="", n=1))
        pytest.fail(f"the article text changed:\n{diff}")
    assert actual == expected
