"""Issue 10, pages that are subtly wrong (the parser's side): pages that used to publish wrong data
or be refused under a misleading name. Each class is generated (hypothesis) at the parser's level,
then a handful go end to end through `kfor refresh --source http://127.0.0.1:...` against the
published v1: a refusal leaves the published file byte-identical and logs `rejected: parse:<check>`;
a page that says what v1 says is found unchanged.

    numbers            T7   "4 500", "4'500", "4.500" read; "4,500 000", "4 50" refused
    charsets           X1   UTF-8 bytes under any other declared charset refused by name
    UTF-16             X2   read with a byte-order mark or a UTF-16 header, else refused by name
    invisible controls X3   dropped: names, keys and the whole page as without them
    page date          D6   ISO stamps read; two different stamps refused
    truncated bodies        named as such, wherever the body was cut
"""

from __future__ import annotations

import codecs
import datetime as dt
import html
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.pages import V1
from support.warehouse import file_sha256, query

from orchestration.core.reference import load_reference
from orchestration.parsing import ParseError, parse_page
from orchestration.parsing.document import clean
from orchestration.parsing.prose import parse_prose

from .bad_pages import SAME_AS_V1, SUBTLE_CASES, TODAY, figure_with_narrow_spaces
from .harness import assert_refused, kfor, leftovers, log_records

REFERENCE = load_reference()
HTML = "text/html; charset=utf-8"
FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
PAGES = settings(max_examples=25, deadline=None, database=None,  # whole pages: ~10 ms each
                 suppress_health_check=[HealthCheck.too_slow])


def parse(body: bytes, content_type: str | None = HTML):
    return parse_page(body, content_type, REFERENCE)


SNAPSHOT = parse(V1.encode())


def refused(body: bytes, content_type: str | None = HTML) -> ParseError:
    with pytest.raises(ParseError) as raised:
        parse(body, content_type)
    message = raised.value.message
    assert message.isprintable() and len(message) < 600, message
    return raised.value


def figures(sentence: str) -> list:
    """The figures the parser reads in one paragraph of page text (cleaned as every line is)."""
    return parse_prose([("KFOR", [clean(sentence)])])[0]


# -- T7: numbers -----------------------------------------------------------------------------

SEPARATORS = [",", " ", "\u00a0", "\u202f", "\u2009", "\u2007", "'", "\u2019", "."]


def grouped(value: int, separator: str) -> str:
    return f"{value:,}".replace(",", separator)


@FAST
@given(value=st.integers(1000, 99_999_999), separator=st.sampled_from(SEPARATORS),
       approx=st.sampled_from(["approximately ", "some ", "around ", ""]))
def test_every_thousands_separator_is_read(value, separator, approx):
    found = figures(f"Today, KFOR consists of {approx}{grouped(value, separator)} troops.")
    assert [(f.troops_text, f.period_text) for f in found] == [(f"{value:,}", "today")]


@PAGES
@given(value=st.integers(1000, 999_999), separator=st.sampled_from(SEPARATORS))
def test_the_current_figure_of_the_page_is_read_whatever_its_separator(value, separator):
    body = V1.replace(TODAY, TODAY.replace("4,500", grouped(value, separator))).encode()
    today = [f for f in parse(body).troop_figures if f.force == "KFOR" and f.period_text == "today"]
    assert [f.troops_text for f in today] == [f"{value:,}"]


@FAST
@given(year=st.integers(1900, 2099), value=st.integers(1000, 999_999),
       separator=st.sampled_from([" ", "\u00a0", "\u202f", "\u2009"]),
       lead=st.sampled_from(["In {year}", "By {year}", "Since {year}", "Under Resolution {year}"]))
def test_a_space_separator_does_not_glue_a_year_or_a_resolution_to_the_figure(
        year, value, separator, lead):
    found = figures(f"{lead.format(year=year)} {grouped(value, separator)} troops served in KFOR.")
    assert [f.troops_text for f in found] == [f"{value:,}"]
    if not lead.startswith("Under"):
        assert found[0].period_text == str(year)


def _group(length: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=length, max_size=length)


@st.composite
def unreadable_numbers(draw) -> str:
    """Numerals no grammar of T7 reads: two kinds of separator, a group that is not three digits
    long, a decimal, or a leading zero."""
    first = str(draw(st.integers(1, 999)))
    kind = draw(st.sampled_from(["mixed", "bad group", "leading zero"]))
    if kind == "leading zero":  # (a target of a troop level is 100 or more: T1)
        return "0" + str(draw(st.integers(100, 999)))
    if kind == "mixed":
        one, two = draw(st.lists(st.sampled_from([",", " ", "'", "."]), min_size=2, max_size=2,
                                 unique=True))
        return f"{first}{one}{draw(_group(3))}{two}{draw(_group(3))}"
    separator = draw(st.sampled_from([",", " ", "'", "."]))
    groups = [draw(_group(3)) for _ in range(draw(st.integers(0, 2)))]
    groups.insert(draw(st.integers(0, len(groups))),
                  draw(_group(draw(st.sampled_from([1, 2, 4, 5])))))
    return first + "".join(separator + g for g in groups)


@FAST
@given(number=unreadable_numbers(), template=st.sampled_from([
    "Today, KFOR consists of approximately {} troops.",
    "KFOR has {} soldiers from 27 countries.",
    "In 2004 NATO reduced KFOR's troop levels to {}."]))
def test_a_figure_that_cannot_be_read_refuses_the_page(number, template):
    with pytest.raises(ParseError) as raised:
        figures(template.format(number))
    assert raised.value.check == "unreadable_number"
    assert number.split(" ")[-1] in raised.value.message


def test_an_unreadable_figure_refuses_the_whole_page_by_name():
    body, content_type = SUBTLE_CASES["figure_with_mixed_separators"]()
    error = refused(body, content_type)
    assert error.check == "unreadable_number" and "4,500 000" in error.message


# -- X1: a declared charset the UTF-8 bytes contradict ------------------------------------------

SINGLE_BYTE = ["windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254",
               "windows-1255", "windows-1256", "windows-1257", "windows-1258", "koi8-r", "koi8-u",
               "macintosh", "mac-roman", "mac-cyrillic", "iso-8859-1", "iso-8859-2",
               "iso-8859-5", "iso-8859-7", "iso-8859-9", "iso-8859-15", "latin-1", "ibm866",
               "cp437", "cp850"]
MULTI_BYTE = ["shift_jis", "euc-jp", "gbk", "big5", "euc-kr"]


LETTERS = "abcdefghijklmnoprstuvzñöüéèçşğıžčćđšåøæłńąęóúíáâêîôûàùäëïÿ"


@st.composite
def accented_names(draw, codec: str = "utf-8") -> str:
    """Two or three capitalised words with accented letters (those the codec can write)."""
    letters = st.sampled_from([c for c in LETTERS if c.upper().encode(codec, "ignore")
                               and c.encode(codec, "ignore")])
    word = st.lists(letters, min_size=2, max_size=9).map("".join)
    name = " ".join(w.capitalize() for w in draw(st.lists(word, min_size=2, max_size=3)))
    assume(not name.isascii())
    return name


RISI = [c.full_name for c in SNAPSHOT.commanders].index("Michele Risi")


def _with_name(page: str, name: str) -> str:
    return page.replace("Maj. Gen. Michele Risi, IT A", f"Maj. Gen. {name}, IT A")


@PAGES
@given(label=st.sampled_from(SINGLE_BYTE + MULTI_BYTE), where=st.sampled_from(["header", "meta"]),
       name=accented_names())
def test_utf8_bytes_under_any_other_declared_charset_are_refused_by_name(label, where, name):
    page = _with_name(V1, name)
    if where == "meta":
        page, content_type = page.replace('<meta charset="utf-8">',
                                          f'<meta charset="{label}">'), "text/html"
    else:
        content_type = f"text/html; charset={label}"
    error = refused(page.encode("utf-8"), content_type)
    assert error.check == "charset_mismatch"
    assert f"declares {label} but its bytes are UTF-8" in error.message


def _encoded(page: str, codec: str, label: str) -> bytes:
    """The page written in a single-byte charset: entities as characters where the charset has
    them, numeric references where it has not (as a CMS writes it)."""
    page = re.sub(r"&(?!amp;|lt;|gt;)\w+;", lambda m: html.unescape(m[0]), page)
    page = page.replace('<meta charset="utf-8">', f'<meta charset="{label}">')
    return page.encode(codec, errors="xmlcharrefreplace")


GENUINE = [("cp1250", "windows-1250"), ("cp1252", "windows-1252"), ("cp1254", "windows-1254"),
           ("cp1257", "windows-1257"), ("iso8859-2", "iso-8859-2"), ("iso8859-9", "iso-8859-9"),
           ("iso8859-15", "iso-8859-15"), ("mac-roman", "macintosh"), ("cp850", "cp850")]


@pytest.mark.parametrize(("codec", "label"), GENUINE, ids=[label for _, label in GENUINE])
def test_a_genuine_single_byte_page_still_parses_as_the_snapshot(codec, label):
    body = _encoded(V1, codec, label)
    assert not body.isascii()
    assert parse(body, None) == SNAPSHOT


@PAGES
@given(pair=st.sampled_from(GENUINE), data=st.data())
def test_a_genuine_single_byte_page_keeps_its_accented_names(pair, data):
    codec, label = pair
    name = data.draw(accented_names(codec))
    body = _encoded(_with_name(V1, name), codec, label)  # the name in this charset's bytes
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        names = [c.full_name for c in parse(body, None).commanders]
        assert names[RISI] == name
    else:  # X1's accepted cost: bytes that happen to be valid UTF-8 are refused, never misread
        assert refused(body, None).check == "charset_mismatch"


# -- X2: UTF-16 ------------------------------------------------------------------------------------

UTF16 = [
    (codecs.BOM_UTF16_LE, "utf-16-le", HTML),  # a byte-order mark wins over the header
    (codecs.BOM_UTF16_BE, "utf-16-be", None),
    (b"", "utf-16-le", "text/html; charset=utf-16"),
    (b"", "utf-16-be", "text/html; charset=UTF-16"),
    (b"", "utf-16-le", "text/html; charset=utf-16le"),
    (b"", "utf-16-be", "text/html; charset=UTF-16BE"),
]


@pytest.mark.parametrize(("bom", "codec", "content_type"), UTF16,
                         ids=["le-bom", "be-bom", "utf-16-le", "utf-16-be", "utf-16le", "utf-16be"])
def test_a_utf16_page_is_read_as_the_same_version(bom, codec, content_type):
    assert parse(bom + V1.encode(codec), content_type) == SNAPSHOT


@pytest.mark.parametrize(("body", "content_type", "says"), [
    (V1.encode("utf-16-le"), None, "UTF-16-LE without a byte-order mark"),
    (V1.encode("utf-16-be"), HTML, "UTF-16-BE without a byte-order mark, and the page declares "
                                   "utf-8"),
    (V1.encode("utf-16-le"), "text/html; charset=utf-16be", "declares utf-16be but its bytes are "
                                                            "not UTF-16-BE"),
    (V1.encode("utf-8"), "text/html; charset=utf-16", "declares utf-16 but its bytes are not"),
], ids=["no-bom-no-header", "no-bom-utf8-header", "wrong-byte-order", "utf8-bytes"])
def test_utf16_that_cannot_be_told_is_refused_by_name(body, content_type, says):
    error = refused(body, content_type)
    assert error.check == "charset_mismatch" and says in error.message, error.message
    assert "binary" not in error.message


# -- X3: invisible controls ----------------------------------------------------------------------

BIDI_AND_INVISIBLE = [chr(c) for c in (0x200E, 0x200F, *range(0x202A, 0x202F),
                                       *range(0x2066, 0x206A), 0x200B, 0x200C, 0x200D, 0x2060,
                                       0xFEFF, 0x00AD, 0x061C)]
INVISIBLE = st.one_of(st.sampled_from(BIDI_AND_INVISIBLE), st.characters(categories=["Cf"]))
# Where text may take a character: inside text nodes, not inside a tag or an entity.
_TEXT_SPOTS = [m.start() + i for m in re.finditer(r">([^<]+)<", V1)
               for i in range(1, len(m[1]) + 1) if "&" not in m[1][max(0, i - 8):i]]
_NAME_SPOTS = [m.start(1) + i for m in re.finditer(r"<strong>([^<]+), [A-Z]{2} A</strong>", V1)
               for i in range(len(m[1]) + 1) if "&" not in m[1][max(0, i - 8):i]]


def _insert(page: str, inserts: list[tuple[int, str]]) -> str:
    for at, char in sorted(inserts, reverse=True):
        page = page[:at] + char + page[at:]
    return page


@PAGES
@given(inserts=st.lists(st.tuples(st.sampled_from(_NAME_SPOTS), INVISIBLE), min_size=1,
                        max_size=6))
def test_bidi_and_invisible_controls_in_names_change_no_name_and_no_key(inserts):
    page = parse(_insert(V1, inserts).encode())
    assert [c.full_name for c in page.commanders] == [c.full_name for c in SNAPSHOT.commanders]
    assert page == SNAPSHOT


@PAGES
@given(inserts=st.lists(st.tuples(st.sampled_from(_TEXT_SPOTS), INVISIBLE), min_size=1,
                        max_size=12))
def test_invisible_controls_anywhere_in_the_text_change_nothing(inserts):
    assert parse(_insert(V1, inserts).encode()) == SNAPSHOT


def test_a_right_to_left_override_in_a_name_gives_no_reversed_name():
    body, content_type = SAME_AS_V1["bidi_controls_in_a_name"]()
    page = parse(body, content_type)
    assert page.commanders[-1].full_name == "Özkan Ulutaş"
    assert page.content_sha256 == SNAPSHOT.content_sha256


# -- D6: the page's date ---------------------------------------------------------------------------

STAMP_LINE = "Last updated: 20 Nov. 2023 17:24"
DATES = st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31))
TIMES = st.one_of(st.none(), st.times().map(lambda t: t.strftime("%H:%M")))


def _canonical(day: dt.date, hm: str | None) -> str:
    return f"{day:%d %b %Y}" + (f" {hm}" if hm else "")


@PAGES
@given(day=DATES, hm=TIMES, joiner=st.sampled_from([" ", "T", ", "]))
def test_an_iso_stamp_is_read_as_the_same_stamp(day, hm, joiner):
    iso = day.isoformat() + (f"{joiner}{hm}" if hm else "")
    by_name = _canonical(day, hm)
    page = parse(V1.replace(STAMP_LINE, f"Last updated: {iso}").encode())
    assert page.last_updated_text == by_name
    assert page == parse(V1.replace(STAMP_LINE, f"Last updated: {by_name}").encode())


@PAGES
@given(first=DATES, second=DATES, hm=TIMES, iso=st.booleans())
def test_two_different_stamps_refuse_the_page_naming_both(first, second, hm, iso):
    assume(first != second)
    written = second.isoformat() if iso else f"{second.day} {second:%b}. {second.year}"
    body = V1.replace(STAMP_LINE, f"Last updated: {_canonical(first, hm)}").replace(
        "<h3>KFOR deploys</h3>", f"<p>Last updated: {written}</p>\n<h3>KFOR deploys</h3>")
    error = refused(body.encode())
    assert error.check == "last_updated_conflict"
    assert _canonical(first, hm) in error.message and _canonical(second, None) in error.message


@pytest.mark.parametrize("second", ["Last updated: 20 Nov. 2023 17:24", "Last updated: 2023-11-20",
                                    "Last updated: 20 November 2023"])
def test_stamps_that_agree_are_one(second):
    body = V1.replace("<h3>KFOR deploys</h3>", f"<p>{second}</p>\n<h3>KFOR deploys</h3>")
    assert parse(body.encode()).last_updated_text == "20 Nov 2023 17:24"


def test_an_ambiguous_numeric_stamp_is_not_read():
    body = V1.replace(STAMP_LINE, "Last updated: 11/10/2023").encode()
    assert refused(body).check == "last_updated_missing"


# -- truncated bodies ------------------------------------------------------------------------------

BYTES = V1.encode()
BODY_START, MAIN_END, BODY_END = BYTES.index(b"<body"), BYTES.index(b"</main>"), BYTES.index(
    b"</body>")


@FAST
@given(cut=st.integers(BODY_START + 6, MAIN_END + 6))
def test_a_body_cut_off_inside_the_article_is_called_truncated(cut):
    error = refused(BYTES[:cut])
    assert error.check == "truncated", error
    assert error.message.startswith(f"the page looks truncated: its {cut} bytes end")


@FAST
@given(cut=st.integers(MAIN_END + 7, BODY_END))
def test_a_body_cut_off_after_the_article_is_the_whole_article_or_truncated(cut):
    try:
        assert parse(BYTES[:cut]) == SNAPSHOT
    except ParseError as error:
        assert error.check == "truncated"


def test_thirty_percent_of_the_page_is_truncated_not_a_missing_commander():
    body, content_type = SUBTLE_CASES["truncated_body"]()
    error = refused(body, content_type)
    assert error.check == "truncated" and "commanders_missing" in error.message


# -- end to end: refused pages leave the published file as it was ------------------------------

REFUSED = {
    "figure_with_mixed_separators": "parse:unreadable_number",
    "utf8_as_windows_1251": "parse:charset_mismatch",
    "utf8_as_mac_roman": "parse:charset_mismatch",
    "two_last_updated": "parse:last_updated_conflict",
    "truncated_body": "parse:truncated",
}


def test_every_subtle_case_is_tested_end_to_end():
    assert sorted(REFUSED) == sorted(SUBTLE_CASES)


def _cases(names) -> list:
    """End to end in CI's slow run: each class is decided above at the unit level, and one parse
    refusal runs end to end in `make test` (test_bad_pages)."""
    return [pytest.param(n, marks=pytest.mark.slow) for n in sorted(names)]


@pytest.mark.parametrize("case", _cases(REFUSED))
def test_a_subtly_wrong_page_is_refused_by_name(server, published_v1, raw_dir, case):
    body, content_type = SUBTLE_CASES[case]()
    url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": content_type})
    before = file_sha256(published_v1)

    out = kfor("refresh", "--source", url)

    record = assert_refused(out, published_v1, raw_dir, before, "rejected: ")
    assert record["outcome"] == f"rejected: {REFUSED[case]}"
    assert out.stderr.startswith(f"rejected: {REFUSED[case]} (")
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published", record["outcome"]]


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
@pytest.mark.parametrize("case", _cases(SAME_AS_V1))
def test_a_page_that_says_what_v1_says_is_v1(server, published_v1, raw_dir, case):
    body, content_type = SAME_AS_V1[case]()
    url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": content_type})
    before = file_sha256(published_v1)
    version = query(published_v1, "SELECT content_sha256 FROM marts.meta")[0][0]

    out = kfor("refresh", "--source", url)

    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"unchanged: page version {version[:12]} "), out.stdout
    assert file_sha256(published_v1) == before
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published", "unchanged"]
    assert not leftovers(published_v1, raw_dir)


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_figure_written_with_narrow_spaces_publishes_its_value(server, published_v1, raw_dir):
    body, content_type = figure_with_narrow_spaces()
    url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": content_type})

    out = kfor("refresh", "--source", url)

    assert out.returncode == 0, out.stderr
    assert query(published_v1, "SELECT troops FROM marts.fct_troop_level WHERE is_current") == [
        (4700,)]
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published", "published"]
