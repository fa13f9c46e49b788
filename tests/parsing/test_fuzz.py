"""Property tests over generated pages: whatever the body, parse_page returns a non-empty page or
raises ParseError with a known check, never another exception, never an empty success; and the
version key does not move under markup-only changes (comments, whitespace, other markup for the
same text, the site's chrome around an older layout's article, L4).

The normal run draws 50 to 150 examples per property; the `slow` versions draw 1,000
(`pytest -m slow tests/parsing`)."""

from __future__ import annotations

import hashlib
import re

import pytest
from families import LAYOUTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from variants import (
    CONTENT_TYPE,
    commanders_as_br_lines,
    commanders_as_definition_list,
    commanders_as_table_rows,
    snapshot_bytes,
    snapshot_text,
    with_crlf,
    with_div_headings,
    with_entities,
    with_unclosed_p_and_li,
    with_uppercase_tags,
    with_wrappers,
    without_main,
)

from orchestration.core.reference import load_reference
from orchestration.parsing import ParsedPage, ParseError, parse_page

REFERENCE = load_reference()

KNOWN_CHECKS = {
    "empty_body", "not_html", "charset_unknown", "charset_mismatch", "title_missing",
    "last_updated_missing", "commanders_missing", "commanders_empty", "commander_without_dates",
    "commander_dates_without_name", "unreadable_number", "last_updated_conflict", "truncated",
    "too_many_elements", "nesting_too_deep", "parse_deadline",
}
_LIST_DATE = re.compile(r"\d\d [A-Z][a-z]{2} \d{4}")
# The canonical period grammar the dbt macro period_bounds reads (see dates.py).
_PERIOD = re.compile(r"(?:\d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} - )?"
                     r"(?:(?:\d\d|\d{1,2}-\d{1,2}) )?"
                     r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}"
                     r"|(?:early|mid|late|end of|beginning of|spring|summer|autumn|winter) \d{4}"
                     r"|\d{4}|today")

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.large_base_example])
FAST = settings(max_examples=150, **_COMMON)
PAGES = settings(max_examples=50, **_COMMON)  # whole pages: 20-40 ms each
SLOW = settings(max_examples=1000, **_COMMON)

SNAPSHOT = snapshot_text()
SNAPSHOT_PAGE = parse_page(snapshot_bytes(), CONTENT_TYPE, REFERENCE)

CONTENT_TYPES = st.sampled_from([
    None, "text/html", CONTENT_TYPE, "text/html; charset=windows-1252",
    "text/html; charset=ISO-8859-2", "text/html; charset=utf-16", "text/html; charset=x-bogus",
    "text/html; charset=rot13", "application/octet-stream"])

# Pieces of the page's own vocabulary, so random documents reach the commanders and prose parsers.
TOKENS = [
    "<p>", "</p>", "<br>", "<li>", "</li>", "<ul>", "</ul>", "<table>", "<tr>", "<td>", "</td>",
    "<th>", "<h1>", "</h1>", "<h2>", "</h2>", "<h3>", "</h3>",
    '<div role="heading" aria-level="2">',
    '<div role="heading" aria-level="x">', "</div>", "<main>", "</main>", "<article>", "<aside>",
    "<script>", "</script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>", "<?xml version='1.0'?>",
    '<meta charset="windows-1252">', '<meta charset="bogus">', "<title>", "</title>", "<", ">",
    "&", "&nbsp;", "&ndash;", "&#0;", "&#xD800;", "&#1114112;", "&#99999999999;", "&bogus;", "\r\n",
    "\x00", "\ufeff", "\u2028", "KFOR commanders in chronological order", "Commanders",
    "Last updated: 20 Nov. 2023 17:24", "Last updated: 31 Feb 2023 99:99",
    "Lt. Gen. Sir Michael Jackson, UK A", "Maj. Gen. Özkan Ulutaş, TU A", ", UK A", "(GE A)",
    "09 Jun 1999 - 08 Oct 1999", "10 Oct 2023 - present", "09 Jun 1999", "- present", "present",
    "Today, KFOR consists of approximately 4,500 troops provided by 27 Allied and partner "
    "countries.",
    "on 12 June", "By 20 June,", "in 2008", "11-12 June 2009", "the end of 2003", "autumn 2023",
    " Lt. Gen.", "e.g.", ". ", "KFOR", "KSF", "NALT", "troops", "personnel", "reservists", "1,000",
]
TOKEN = st.one_of(st.sampled_from(TOKENS), st.text(max_size=12))


def assert_parses_or_refuses(body: bytes, content_type: str | None) -> ParsedPage | None:
    """The property: a ParseError with a known check and a one-line message, or a page that has
    a title, a Last-updated stamp, well-formed commanders and a version key of its text."""
    try:
        page = parse_page(body, content_type, REFERENCE)
    except ParseError as error:
        assert error.check in KNOWN_CHECKS, error
        assert error.message and error.message.isprintable(), repr(error.message)
        return None
    assert page.title
    assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d{4}( \d\d:\d\d)?", page.last_updated_text)
    assert page.commanders, "a success without commanders"
    for c in page.commanders:
        assert _LIST_DATE.fullmatch(c.start_text or ""), c
        assert c.end_text is None or _LIST_DATE.fullmatch(c.end_text), c
        assert c.full_name and re.fullmatch(r"[A-Z]{2}", c.nation_code), c
    assert [c.ordinal for c in page.commanders] == list(range(1, len(page.commanders) + 1))
    assert page.content_sha256 == hashlib.sha256(page.article_text.encode()).hexdigest()
    periods = [e.period_text for e in page.events]
    periods += [f.period_text for f in page.troop_figures if f.period_text is not None]
    assert all(_PERIOD.fullmatch(p) for p in periods), periods
    return page


# -- arbitrary input -------------------------------------------------------------------------------

@FAST
@given(body=st.binary(max_size=2048), content_type=CONTENT_TYPES)
def test_arbitrary_bytes(body: bytes, content_type: str | None) -> None:
    assert_parses_or_refuses(body, content_type)


@pytest.mark.slow
@SLOW
@given(body=st.binary(max_size=8192), content_type=CONTENT_TYPES)
def test_arbitrary_bytes_long_run(body: bytes, content_type: str | None) -> None:
    assert_parses_or_refuses(body, content_type)


_SOUP = st.lists(TOKEN, max_size=40).map("".join)


def _skeleton(lead: str, body: str, commanders: str) -> str:
    """Soup inside the page's skeleton (title, Last updated, a commanders heading), so that most
    documents get past the first checks to the prose and commanders parsers."""
    return (f"<h1>NATO's role in Kosovo</h1>{lead}<p>Last updated: 20 Nov. 2023 17:24</p>{body}"
            f"<h2>KFOR commanders in chronological order</h2>{commanders}")


# Commander entries and their parts, for the list after the commanders heading.
_COMMANDER_TOKENS = st.sampled_from([
    "<p>Lt. Gen. Sir Michael Jackson, UK A</p><p>09 Jun 1999 - 08 Oct 1999</p>",
    "<tr><td>Maj. Gen. Erhard Drews, GE A</td><td>09 Sep 2011</td><td>07 Sep 2012</td></tr>",
    "<li>Maj. Gen. Özkan Ulutaş (TU A) 10 Oct 2023 &ndash; present</li>",
    "Lt. Gen. Klaus Reinhardt, GE A<br>", "8 Oct 1999 \u2013 18 Apr 2000<br>", "present", "<td>",
])
_COMMANDERS_SOUP = st.lists(st.one_of(_COMMANDER_TOKENS, TOKEN), max_size=20).map("".join)
TOKEN_SOUP = st.one_of(_SOUP, st.builds(_skeleton, _SOUP, _SOUP, _COMMANDERS_SOUP))
SOUP_CONTENT_TYPES = st.sampled_from([None, CONTENT_TYPE])


@FAST
@given(text=TOKEN_SOUP, content_type=SOUP_CONTENT_TYPES)
def test_token_soup(text: str, content_type: str | None) -> None:
    """Random documents of tags, entities, headings, name and date lines."""
    assert_parses_or_refuses(text.encode("utf-8", "surrogatepass"), content_type)


@pytest.mark.slow
@SLOW
@given(text=TOKEN_SOUP, content_type=SOUP_CONTENT_TYPES)
def test_token_soup_long_run(text: str, content_type: str | None) -> None:
    assert_parses_or_refuses(text.encode("utf-8", "surrogatepass"), content_type)


# -- mutations of the snapshot ---------------------------------------------------------------

@st.composite
def mutated_snapshot(draw) -> bytes:
    """The snapshot after 1-6 edits: delete, duplicate or swap slices, insert tags, entities,
    page vocabulary or random text, truncate; sometimes random bytes spliced into the encoding.
    Half the edits fall in the commanders list, the part with the most rules."""
    page = SNAPSHOT
    for _ in range(draw(st.integers(1, 6))):
        n = len(page)
        commanders = max(0, page.find("KFOR commanders in chronological order"))
        i = draw(st.one_of(st.integers(0, n), st.integers(commanders, n)))  # half in the list
        j = draw(st.integers(i, min(n, i + 3000)))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "insert", "truncate"]))
        if op == "delete":
            page = page[:i] + page[j:]
        elif op == "duplicate":
            page = page[:j] + page[i:j] + page[j:]
        elif op == "swap":
            k = draw(st.integers(j, n))
            m = draw(st.integers(k, min(n, k + 3000)))
            page = page[:i] + page[k:m] + page[j:k] + page[i:j] + page[m:]
        elif op == "insert":
            page = page[:i] + draw(TOKEN) + page[i:]
        else:
            page = page[:i]
    body = page.encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=16)) + body[at:]
    return body


@PAGES
@given(body=mutated_snapshot(), content_type=st.sampled_from([CONTENT_TYPE, None]))
def test_mutated_snapshot(body: bytes, content_type: str | None) -> None:
    assert_parses_or_refuses(body, content_type)


@pytest.mark.slow
@SLOW
@given(body=mutated_snapshot(), content_type=st.sampled_from([CONTENT_TYPE, None]))
def test_mutated_snapshot_long_run(body: bytes, content_type: str | None) -> None:
    assert_parses_or_refuses(body, content_type)


# -- markup noise that must change nothing ---------------------------------------------------

_TAG_BOUNDARIES = [m.end() for m in re.finditer(r">", SNAPSHOT)]
NOISE = st.sampled_from(["<!-- note -->", "\n", "  \n\t", "<!---->", "\r\n"])


@st.composite
def snapshot_with_noise(draw) -> str:
    """The snapshot with comments and whitespace inserted after random tags."""
    cuts = sorted(draw(st.lists(st.sampled_from(_TAG_BOUNDARIES), min_size=1, max_size=20)))
    pieces, last = [], 0
    for cut in cuts:
        pieces += [SNAPSHOT[last:cut], draw(NOISE)]
        last = cut
    return "".join(pieces) + SNAPSHOT[last:]


@PAGES
@given(page=snapshot_with_noise())
def test_comments_and_whitespace_between_tags_change_nothing(page: str) -> None:
    assert parse_page(page.encode("utf-8"), CONTENT_TYPE, REFERENCE) == SNAPSHOT_PAGE


# -- other markup for the same text -----------------------------------------------------------------

# Renderings that change only markup, in an order in which each still finds what it rewrites.
LIST_MARKUP = [None, commanders_as_br_lines, commanders_as_table_rows,
               commanders_as_definition_list]
MARKUP = [without_main, with_wrappers, with_div_headings, with_entities, with_uppercase_tags,
          with_unclosed_p_and_li, with_crlf]


@PAGES
@given(commanders=st.sampled_from(LIST_MARKUP),
       rest=st.lists(st.sampled_from(MARKUP), unique=True, max_size=4))
def test_markup_only_changes_keep_the_version_key(commanders, rest) -> None:
    page = snapshot_text()
    for transform in [commanders, *sorted(rest, key=MARKUP.index)]:
        if transform is not None:
            page = transform(page)
    assert parse_page(page.encode(), CONTENT_TYPE, REFERENCE) == SNAPSHOT_PAGE


# The site's chrome: menus, link lists, footers, sidebars, tools; some with dates and figures that
# would become facts if they were read (L4).
CHROME = [
    "<ul><li><a href='/a'>Home</a></li><li><a href='/b'>NATO A-Z</a></li></ul>",
    "<nav><a href='/'>Home</a> <a href='/n'>News: 12 June 2009 - 4,000 troops leave</a></nav>",
    "<div role='navigation'><a href='/x'>Multimedia</a><br><a href='/y'>Official texts</a></div>",
    "<p>&copy; NATO 2011 | <a href='/c'>Contact</a> | <a href='/d'>Disclaimer</a></p>",
    "<footer><p>Copyright NATO, 2 March 2011</p></footer>",
    "<p><a href='/r'>Related: the 5,000 troops of 2004</a></p>",
    "<aside><h3>In focus</h3><p>On 3 May 2010, 2,000 troops left.</p></aside>",
    "<div class='tools'><a href='#'>Print</a> | <a href='#'>E-mail this page</a></div>",
    "<table><tr><td><a href='/1'>One</a></td><td><a href='/2'>Two</a></td></tr></table>",
]
OLDER = {layout.id: (layout.body(), layout.requirements) for layout in LAYOUTS
         if not layout.id.startswith("snapshot")}
_BOUNDARY = re.compile(r"(?i)</(?:p|ul|div|table)>")


@st.composite
def older_page_with_chrome(draw) -> tuple[str, bytes, bytes]:
    name = draw(st.sampled_from(sorted(OLDER)))
    body, _ = OLDER[name]
    encoding = "cp1252" if b"windows-1252" in body else "utf-8"
    text = body.decode(encoding)
    cuts = sorted(draw(st.lists(st.sampled_from([m.end() for m in _BOUNDARY.finditer(text)]),
                                min_size=1, max_size=6)))
    pieces, last = [], 0
    for cut in cuts:
        pieces += [text[last:cut], draw(st.sampled_from(CHROME))]
        last = cut
    return name, body, ("".join(pieces) + text[last:]).encode(encoding)


@PAGES
@given(case=older_page_with_chrome())
def test_the_sites_chrome_around_an_older_article_changes_nothing(case) -> None:
    name, body, with_chrome = case
    requirements = OLDER[name][1]
    assert parse_page(with_chrome, None, REFERENCE, requirements) == \
        parse_page(body, None, REFERENCE, requirements)
