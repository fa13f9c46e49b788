"""The characters the parser reads (docs/rules.md, X3 and T7): the invisible class is exactly
Unicode's format characters, and the number grammar's canonical text."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from orchestration.parsing.document import _INVISIBLE, clean
from orchestration.parsing.prose import read_number


def test_the_invisible_characters_are_exactly_the_format_characters() -> None:
    """X3 writes the class out (a Python upgrade must not move a version key); it must still be
    category Cf, no more and no less, for the Unicode version this Python has."""
    format_characters = {chr(c) for c in range(sys.maxunicode + 1)
                         if unicodedata.category(chr(c)) == "Cf"}
    matched = {chr(c) for c in range(sys.maxunicode + 1) if _INVISIBLE.match(chr(c))}
    assert matched == format_characters


@pytest.mark.parametrize(("text", "expected"), [
    ("Maj. Gen. \u00d6zkan\u202e Uluta\u015f", "Maj. Gen. \u00d6zkan Uluta\u015f"),
    ("Ortu\u200f\u00f1o", "Ortu\u00f1o"),
    ("Ortun\u00ad\u0303o", "Ortu\u00f1o"),  # a soft hyphen between a letter and its accent: NFC
    ("\u2066KFOR\u2069 4\u202f500 troops", "KFOR 4 500 troops"),
    ("\u200b\ufeff", ""),
])
def test_clean_drops_invisible_characters_before_it_composes(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(("digits", "expected"), [
    ("45", (45, "45")), ("4500", (4500, "4500")), ("4,500", (4500, "4,500")),
    ("4 500", (4500, "4,500")), ("4'500", (4500, "4,500")), ("4.500", (4500, "4,500")),
    ("1 000 000", (1000000, "1,000,000")),
])
def test_read_number_gives_the_value_and_its_canonical_text(digits: str, expected) -> None:
    assert read_number(digits) == expected
