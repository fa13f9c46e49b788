"""BeautifulSoup warns about markup it finds odd (MarkupResemblesLocatorWarning for a body that
looks like a URL or a file name, XMLParsedAsHTMLWarning for XML); none of that reaches the caller,
whose one line comes from ParseError or from the page."""

from __future__ import annotations

import contextlib
import re
import warnings

import pytest
from variants import CONTENT_TYPE, snapshot_bytes

from orchestration.core.reference import load_reference
from orchestration.parsing import ParseError, document, parse_page
from orchestration.parsing.document import parse_tree

ODD = {
    "a URL": b"https://www.nato.int/cps/en/natohq/topics_48818.htm",
    "a URL with markup": b"https://www.nato.int/<topics_48818.htm>",
    "a file name": b"topics_48818.htm",
    "an XML document": b"<?xml version='1.0'?><feed><entry>KFOR</entry></feed>",
    "an XML prolog before the page": b"<?xml version='1.0' encoding='utf-8'?>\n" + snapshot_bytes(),
    "an XML declaration after a comment": b"<!-- x --><?xml version='1.0'?><feed/>",
    "a processing instruction": b"<?php echo 'KFOR'; ?><p>x</p>",
    "a doctype only": b"<!DOCTYPE html>",
    "only a comment": b"<!-- nothing here -->",
    "markup-like text": b"<<>>",
}


@pytest.mark.parametrize("body", ODD.values(), ids=ODD.keys())
def test_no_warning_escapes_the_parser(body: bytes) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(ParseError):
            parse_page(body, CONTENT_TYPE, load_reference())
    assert [str(w.message) for w in caught] == []


def test_a_warning_beautifulsoup_gives_is_caught_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the XML declaration left in, BeautifulSoup warns XMLParsedAsHTMLWarning; parse_tree
    keeps it in."""
    xml = "<?xml version='1.0'?><feed><entry/></feed>"
    with pytest.warns(UserWarning):
        document.BeautifulSoup(xml, "lxml")
    monkeypatch.setattr(document, "_XML_DECLARATION", re.compile(r"(?!)"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parse_tree(xml)
    assert caught == []
