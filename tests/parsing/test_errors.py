"""Bodies that are not the page, or the page without a part the warehouse needs, raise ParseError
with a named check and a one-line message a person can act on; never an empty success."""

from __future__ import annotations

import gzip
import random
import re

import pytest
from variants import (
    CONTENT_TYPE,
    as_windows_1252,
    commander_pairs,
    replace_commanders,
    snapshot_bytes,
    snapshot_text,
)

from orchestration.core.reference import load_reference
from orchestration.parsing import ParseError, parse_page

REFERENCE = load_reference()

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\nIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
_LAST_UPDATED = ('<ul class="list-meta">\n  <li class="date">Last updated: 20 Nov. 2023 17:24</li>'
                 "\n</ul>")


def _page(transform) -> bytes:
    return transform(snapshot_text()).encode("utf-8")


def _without_commander_line(index: int, which: str) -> bytes:
    """The snapshot without the name line (which="name") or date line (which="dates") of the
    index-th commander."""
    page = snapshot_text()
    pairs = commander_pairs(page)
    markup = "\n".join(
        "\n".join(([f"<p><strong>{n}</strong></p>"] if (i != index or which != "name") else [])
                  + ([f"<p>{d}</p>"] if (i != index or which != "dates") else []))
        for i, (n, d) in enumerate(pairs))
    return replace_commanders(page, markup).encode("utf-8")


CASES = {
    # -- not the page at all --
    "empty": (b"", CONTENT_TYPE, "empty_body"),
    "whitespace only": (b" \r\n\t \n  ", CONTENT_TYPE, "empty_body"),
    "random bytes": (random.Random(1244).randbytes(4096), None, "not_html"),
    "png image": (PNG, "image/png", "not_html"),
    "gzip body without Content-Encoding": (gzip.compress(snapshot_bytes(), mtime=0), CONTENT_TYPE,
                                           "not_html"),
    "plain text, no markup": (b"NATO's role in Kosovo. Last updated: 20 Nov. 2023 17:24.",
                              "text/plain", "not_html"),
    "only a comment": (b"<!-- nothing here -->", CONTENT_TYPE, "not_html"),
    "an error page": (b"<html><head><title>404 Not Found</title></head>"
                      b"<body><h1>Not Found</h1></body></html>", CONTENT_TYPE,
                      "last_updated_missing"),
    "no title and no h1": (b"<html><body><p>Hello</p></body></html>", CONTENT_TYPE,
                           "title_missing"),
    # -- charsets --
    "declared utf-8, windows-1252 bytes": (as_windows_1252(snapshot_text()), CONTENT_TYPE,
                                           "charset_mismatch"),
    "meta utf-8, windows-1252 bytes": (as_windows_1252(snapshot_text(), '<meta charset="utf-8">'),
                                       None, "charset_mismatch"),
    "declared windows-1252, utf-8 bytes": (snapshot_bytes(), "text/html; charset=windows-1252",
                                           "charset_mismatch"),
    "meta windows-1252, utf-8 bytes": (snapshot_bytes().replace(
        b'<meta charset="utf-8">', b'<meta charset="windows-1252">'), None, "charset_mismatch"),
    "declared latin-1, utf-8 bytes": (snapshot_bytes(), "text/html; charset=ISO-8859-1",
                                      "charset_mismatch"),
    "unknown charset in the header": (snapshot_bytes(), "text/html; charset=x-klingon",
                                      "charset_unknown"),
    "unknown charset in the meta": (snapshot_bytes().replace(
        b'<meta charset="utf-8">', b'<meta charset="x-klingon">'), None, "charset_unknown"),
    "a codec that is not a charset": (snapshot_bytes(), "text/html; charset=base64",
                                      "charset_unknown"),
    # -- the page without a part the warehouse needs --
    "no list and no heading naming the commanders": (_page(lambda p: replace_commanders(
        p, "<p>See the KFOR website.</p>").replace("KFOR commanders in chronological order",
                                                   "Leadership history")), CONTENT_TYPE,
        "commanders_missing"),
    "commanders section empty": (_page(lambda p: replace_commanders(p, "")), CONTENT_TYPE,
                                 "commanders_empty"),
    "commanders section without commanders": (_page(lambda p: replace_commanders(
        p, "<p>The list will be published soon.</p>")), CONTENT_TYPE, "commanders_empty"),
    "a name line with no dates": (_without_commander_line(4, "dates"), CONTENT_TYPE,
                                  "commander_without_dates"),
    "the last name line with no dates": (_without_commander_line(27, "dates"), CONTENT_TYPE,
                                         "commander_without_dates"),
    "a name line followed only by present": (_page(lambda p: p.replace(
        "<p>10 Oct 2023 - present</p>", "<p>present</p>")), CONTENT_TYPE,
        "commander_without_dates"),
    "a name line with a rank but no name": (_page(lambda p: p.replace(
        "Maj. Gen. &Ouml;zkan Ulutaş, TU A", "Maj. Gen., TU A")), CONTENT_TYPE,
        "commander_dates_without_name"),
    "dates with no name line": (_without_commander_line(4, "name"), CONTENT_TYPE,
                                "commander_dates_without_name"),
    "dates before the first name line": (_without_commander_line(0, "name"), CONTENT_TYPE,
                                         "commander_dates_without_name"),
    "dates after a line that is not a name": (_page(lambda p: p.replace(
        "<p><strong>Lt. Gen. Fabio Mini, IT A</strong></p>", "<p>Lt. Gen. Fabio Mini</p>")),
        CONTENT_TYPE, "commander_dates_without_name"),
    "Last updated missing": (_page(lambda p: p.replace(_LAST_UPDATED, "")), CONTENT_TYPE,
                             "last_updated_missing"),
    "Last updated without a date": (_page(lambda p: p.replace(
        "Last updated: 20 Nov. 2023 17:24", "Last updated: recently")), CONTENT_TYPE,
        "last_updated_missing"),
}


@pytest.mark.parametrize(("body", "content_type", "check"), CASES.values(), ids=CASES.keys())
def test_bad_input_raises_its_check(body: bytes, content_type: str | None, check: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_page(body, content_type, REFERENCE)
    assert raised.value.check == check, raised.value.message


@pytest.mark.parametrize(("body", "content_type", "check"), CASES.values(), ids=CASES.keys())
def test_error_message_is_one_readable_line(body: bytes, content_type: str | None,
                                            check: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_page(body, content_type, REFERENCE)
    error = raised.value
    assert str(error) == f"{error.check}: {error.message}"
    assert error.message.strip() == error.message != ""
    assert error.message.isprintable(), error.message  # no newline, no control character
    assert len(error.message) < 600, error.message
    assert re.fullmatch(r"[a-z_]+", error.check)


def test_error_names_the_offending_commander_line() -> None:
    with pytest.raises(ParseError) as raised:
        parse_page(_without_commander_line(4, "dates"), CONTENT_TYPE, REFERENCE)
    assert "Thorstein Skiaker" in raised.value.message


def test_renamed_heading_error_lists_the_headings_found() -> None:
    body = CASES["no list and no heading naming the commanders"][0]
    with pytest.raises(ParseError) as raised:
        parse_page(body, CONTENT_TYPE, REFERENCE)
    assert "'Leadership history'" in raised.value.message


def test_parse_error_is_a_value_error() -> None:
    """Callers that catch ValueError keep working."""
    with pytest.raises(ValueError):
        parse_page(b"", None, REFERENCE)


def test_dates_without_name_error_quotes_the_line_before() -> None:
    with pytest.raises(ParseError) as raised:
        parse_page(_without_commander_line(4, "name"), CONTENT_TYPE, REFERENCE)
    assert "'06 Apr 2001 - 03 Oct 2001'" in raised.value.message
    assert "'16 Oct 2000 - 06 Apr 2001'" in raised.value.message
