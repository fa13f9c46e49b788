"""The parser's representative pages: one per markup family, each with the facts it must give.

RENDERINGS are the 20 Nov 2023 snapshot in other markup (variants.py): the same facts as the
snapshot, and, when only markup changed, the same article text and version key. LAYOUTS are older
layouts of the page (fixtures/, written for these tests in the markup of their years; they are not
captures of the real page) and the snapshot with its structure changed, each with the facts it
must give. Every page is parsed once per test session (`parsed`)."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from variants import (
    Variant,
    as_windows_1252,
    commander_pairs,
    commanders_as_br_lines,
    commanders_as_definition_list,
    commanders_as_list_items,
    commanders_as_list_items_with_br,
    commanders_as_split_table,
    commanders_as_table_rows,
    replace_commanders,
    snapshot_text,
    with_article_instead_of_main,
    with_crlf,
    with_curly_apostrophes,
    with_date_separator,
    with_div_headings,
    with_entities,
    with_full_month_names,
    with_one_digit_days,
    with_present_spelt,
    with_unclosed_p_and_li,
    with_uppercase_tags,
    with_wrappers,
    with_xml_declaration,
    without_main,
)

from orchestration.core.reference import load_reference
from orchestration.parsing import HISTORICAL, LIVE, ParsedPage, Requirements, parse_page
from orchestration.parsing.records import figure_text

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = load_reference()
TITLE = "NATO's role in Kosovo"


def _utf16(page: str) -> bytes:
    return page.replace('<meta charset="utf-8">', '<meta charset="utf-16">').encode("utf-16")


# -- renderings of the snapshot -------------------------------------------------------------------

RENDERINGS = [
    # (a)-(d) the commanders list as <br> lines, table rows, a definition list, list items
    Variant("a-br-lines", commanders_as_br_lines),
    Variant("a-br-in-list-items", commanders_as_list_items_with_br),
    Variant("b-table-rows", commanders_as_table_rows),
    Variant("b-definition-list", commanders_as_definition_list),
    # header cells and separate start and end cells are other text
    Variant("c-split-table", commanders_as_split_table, same_text=False),
    # name and dates on one line: the page's two lines become one
    Variant("d-list-items", commanders_as_list_items, same_text=False),
    Variant("d-list-items-bracketed-dates", lambda p: commanders_as_list_items(p, " (", ")"),
            same_text=False),
    # (e) date separators (every one is read by list_range: test_parse_dates.py)
    Variant("e-en-dash-entity", lambda p: with_date_separator(p, " &ndash;"), same_text=False),
    Variant("e-em-dash-tight", lambda p: with_date_separator(p, "\u2014"), same_text=False),
    Variant("e-to", lambda p: with_date_separator(p, " to "), same_text=False),
    # (f) day and month spellings, (j) "present" spelt otherwise
    Variant("f-one-digit-days", with_one_digit_days, same_text=False),
    Variant("f-full-month-names", with_full_month_names, same_text=False),
    Variant("j-Today", lambda p: with_present_spelt(p, "Today"), same_text=False),
    # (g) entities and typographic apostrophes
    Variant("g-entities", with_entities),
    Variant("g-curly-apostrophes", with_curly_apostrophes),
    # (h) structure: ARIA headings, wrappers, <article>, no landmark at all (L4)
    Variant("h-div-headings", with_div_headings),
    Variant("h-wrappers", with_wrappers),
    Variant("h-article", with_article_instead_of_main),
    Variant("h-no-main", without_main),
    # (i) markup and bytes: tag case, unclosed elements, line ends, BOM, XML prolog, charsets
    Variant("i-uppercase-tags", with_uppercase_tags),
    Variant("i-unclosed-p-li", with_unclosed_p_and_li),
    Variant("i-crlf", with_crlf),
    Variant("i-bom-no-content-type", lambda p: b"\xef\xbb\xbf" + p.encode(), None),
    Variant("i-xml-declaration", with_xml_declaration),
    Variant("i-utf-16-bom", _utf16, None),
    Variant("i-windows-1252-meta", as_windows_1252, "text/html"),
    Variant("i-windows-1252-header", as_windows_1252, "text/html; charset=windows-1252"),
    Variant("i-windows-1252-http-equiv", lambda p: as_windows_1252(
        p, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'), None),
    Variant("i-latin-1-label-windows-1252-bytes", lambda p: as_windows_1252(
        p, '<meta charset="ISO-8859-1">'), "text/html"),
    Variant("i-everything", lambda p: with_crlf(with_unclosed_p_and_li(with_uppercase_tags(
        with_entities(with_div_headings(with_wrappers(commanders_as_br_lines(p)))))))),
]


# -- layouts --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """A page and the facts it must give. `today` is KFOR's reported figure for today: (figure,
    approximation, contributing nations) with the figure as figure_text writes it ("4,500", "4,500
    to 5,000"). `figures` are (force, figure type, figure, approximation, period) and `events`
    (event type, period) the page must state among others; `sections` its headings in order;
    `absent` words of the site's chrome the article text must not hold."""

    name: str
    body: Callable[[], bytes]
    requirements: Requirements
    stamp: str | None
    commanders: int
    last: tuple[str, str, str | None] | None  # the last commander: name, start, end
    today: tuple[str, str, str | None]
    commanders_section: str | None = None
    figures: tuple[tuple, ...] = ()
    events: tuple[tuple[str, str], ...] = ()
    sections: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    content_type: str | None = None
    snapshot_key: bool = False  # only markup changed: the snapshot's version key ...
    same_records: bool = False  # ... and its records too
    title: str = TITLE

    @property
    def id(self) -> str:
        return self.name if self.name.startswith("snapshot") else self.name.split(" ")[0]


def fixture(name: str) -> Callable[[], bytes]:
    return lambda: (FIXTURES / name).read_bytes()


def _snapshot(transform: Callable[[str], str]) -> Callable[[], bytes]:
    return lambda: transform(snapshot_text()).encode("utf-8")


def _stamp_in_a_header(page: str) -> str:
    """The stamp moved out of <main>, into a line before the breadcrumb."""
    page = page.replace('<li class="date">Last updated: 20 Nov. 2023 17:24</li>', "")
    return page.replace('<div class="breadcrumb">', '<p class="updated">Last updated: 20 Nov. '
                                                     '2023 17:24</p><div class="breadcrumb">')


def _bold_headings(page: str) -> str:
    """Every <h2>/<h3> as a bold paragraph (L5)."""
    page = re.sub(r'<h2 class="fs-large">(.*?)</h2>', r"<p><b>\1</b></p>", page)
    return re.sub(r"<h3>(.*?)</h3>", r"<p><strong>\1</strong></p>", page)


def _linked_names(page: str) -> str:
    """The list as table rows whose names link to biographies (L4 keeps them)."""
    rows = [f'<tr><td><a href="/bio/{i}.htm">{n}</a></td><td>{d}</td></tr>'
            for i, (n, d) in enumerate(commander_pairs(page))]
    return replace_commanders(page, "<table>" + "".join(rows) + "</table>")


def _dates_first(page: str) -> str:
    rows = [f"<tr><td>{d}</td><td>{n}</td></tr>" for n, d in commander_pairs(page)]
    return replace_commanders(page, "<table><tr><th>Dates</th><th>Commander</th></tr>"
                                    + "".join(rows) + "</table>")


HEADING = '<h2 class="fs-large">KFOR commanders in chronological order</h2>'
ULUTAS = ("Özkan Ulutaş", "10 Oct 2023", None)
SNAPSHOT_TODAY = ("4,500", "approximately", "27")

LAYOUTS = [
    # older layouts (fixtures/)
    Layout("natolive-2006-05 upper-case HTML, <font>, windows-1252, nested layout tables, bold "
           "headings, name lines split over table cells, 'x of its y' today",
           fixture("natolive-2006-05.html"), HISTORICAL, "12 May 2006 10:05", 10,
           ("Giuseppe Valotto", "01 Sep 2005", None), ("16,000", "some", "35"),
           commanders_section="Commanders of KFOR",
           figures=(("KFOR", "authorised", "17,500", "exact", "today"),
                    ("KFOR", "reported", "17,500", "exact", "end of 2003"),
                    ("KFOR", "reported", "50,000", "some", "Jun 1999")),
           events=(("deployment", "12 Jun 1999"), ("force_reduction", "end of 2003")),
           sections=(TITLE, "Background", "Commanders of KFOR"),
           absent=("NATO Issues", "Press releases", "Multimedia", "Contact", "Disclaimer",
                   "Home")),
    Layout("natolive-2008-03 the list in one paragraph, entries not broken",
           fixture("natolive-2008-03.html"), HISTORICAL, "14 Mar 2008 09:12", 12,
           ("Xavier Bout de Marnhac", "01 Sep 2007", None), ("16,000", "some", "34"),
           commanders_section="Commanders", events=(("deployment", "12 Jun 1999"),),
           sections=(TITLE, "Commanders", "Background"), absent=("NATO A-Z", "News", "Home")),
    Layout("natolive-2009-08 layout table, left menu, no list, no stamp",
           fixture("natolive-2009-08.html"), HISTORICAL, None, 0, None, ("13,800", "some", "31"),
           figures=(("KFOR", "reported", "39,000", "around", "early 2002"),),
           events=(("decision", "11-12 Jun 2009"), ("other", "30 Jun 2009 - 02 Jul 2009")),
           sections=(TITLE, "The origins of KFOR", "A deterrent presence",
                     "KFOR and the Kosovo Security Force"),
           absent=("NATO A-Z", "Multimedia", "Related: Peace support", "Disclaimer", "Home")),
    Layout("natolive-2010-12 layout table, left menu, news column, no <h1>, bold headings, "
           "names in <b>, stamp dd-Mon-yyyy", fixture("natolive-2010-12.html"), HISTORICAL,
           "16 Dec 2010 16:26", 15, ("Erhard Bühler", "01 Sep 2010", None),
           ("10,000", "about", "32"), commanders_section="Commanders of KFOR",
           figures=(("KFOR", "authorised", "5,000", "approximately", "29 Oct 2010"),
                    ("KFOR", "reported", "10,200", "some", "3-4 Feb 2010")),
           events=(("decision", "11-12 Jun 2009"), ("milestone", "3-4 Feb 2010")),
           sections=(TITLE, "Background", "Towards a deterrent presence", "Commanders of KFOR"),
           absent=("Multimedia", "Official texts", "Secretary General visits", "troop cut",
                   "Sitemap", "Disclaimer", "NATO 2010", "Peace support operations",
                   "Member countries")),
    Layout("natolive-2012-10 #content, no <h1>, a dates-first table, no stamp",
           fixture("natolive-2012-10.html"), HISTORICAL, None, 17,
           ("Volker Halbauer", "08 Sep 2012", None), ("5,000", "some", "31"),
           commanders_section="Commanders of KFOR",
           events=(("decision", "30 Dec 2011 - 02 Jan 2012"), ("milestone", "3-4 Feb 2010")),
           absent=("NATO A-Z", "Home")),
    Layout("natolive-2013-11 columns, stamp before the <h1>, bold subheadings, the list under "
           "a heading that does not name it, today a range", fixture("natolive-2013-11.html"),
           HISTORICAL, "05 Nov 2013 11:43", 18, ("Salvatore Farina", "07 Sep 2013", None),
           ("4,500 to 5,000", "range", "31"), commanders_section="Leadership",
           events=(("agreement", "19 Apr 2013"), ("milestone", "28 Feb 2011")),
           sections=(TITLE, "Background", "Background > A deterrent presence",
                     "Background > Normalisation of relations", "Leadership"),
           absent=("Afghanistan", "Mediterranean Dialogue", "Print this page", "E-mail",
                   "Did you know", "22-23 October", "Organization 2013", "NATO A-Z")),
    Layout("natohq-2016-03 HTML5 without <main>, news teasers in <article>s, a past range",
           fixture("natohq-2016-03.html"), HISTORICAL, "07 Mar 2016 15:12", 20,
           ("Guglielmo Luigi Miglietta", "07 Aug 2015", None), ("4,600", "approximately", "31"),
           commanders_section="KFOR commanders",
           figures=(("KFOR", "reported", "45,000 to 50,000", "range", "1999"),
                    ("KFOR", "reported", "39,000", "around", "early 2002")),
           sections=(TITLE, "KFOR's objectives", "The evolution of NATO's role in Kosovo",
                     "KFOR commanders"),
           absent=("Secretary General in Pristina", "600 KFOR soldiers", "Ministers meet",
                   "Privacy", "Organization 2016")),
    Layout("natohq-2019-10 <main>, the list as a table", fixture("natohq-2019-10.html"), LIVE,
           "17 Oct 2019 14:54", 23, ("Lorenzo D'Addario", "28 Nov 2018", None),
           ("3,500", "approximately", "28"), commanders_section="KFOR commanders",
           absent=("Member countries", "Organization 2019")),
    # the snapshot with its structure changed
    Layout("snapshot, the list under a heading that does not name it",
           _snapshot(lambda p: p.replace(HEADING, "<h2>Leadership history</h2>")), LIVE,
           "20 Nov 2023 17:24", 28, ULUTAS, SNAPSHOT_TODAY,
           commanders_section="Leadership history"),
    Layout("snapshot, the list under no heading", _snapshot(lambda p: p.replace(HEADING, "")),
           LIVE, "20 Nov 2023 17:24", 28, ULUTAS, SNAPSHOT_TODAY,
           commanders_section="The evolution of NATO's role in Kosovo > Allies reinforce KFOR"),
    Layout("snapshot, headings as bold paragraphs", _snapshot(_bold_headings), LIVE,
           "20 Nov 2023 17:24", 28, ULUTAS, SNAPSHOT_TODAY, snapshot_key=True,
           commanders_section="KFOR commanders in chronological order",
           sections=(TITLE, "KFOR's objectives", "KFOR's tasks", "Initial tasks")),
    Layout("snapshot, the stamp in a header outside <main>", _snapshot(_stamp_in_a_header), LIVE,
           "20 Nov 2023 17:24", 28, ULUTAS, SNAPSHOT_TODAY, snapshot_key=True, same_records=True,
           commanders_section="KFOR commanders in chronological order"),
    Layout("snapshot, the names linked to biographies", _snapshot(_linked_names), LIVE,
           "20 Nov 2023 17:24", 28, ULUTAS, SNAPSHOT_TODAY, snapshot_key=True, same_records=True,
           commanders_section="KFOR commanders in chronological order"),
    Layout("snapshot, a dates-first table", _snapshot(_dates_first), LIVE, "20 Nov 2023 17:24",
           28, ULUTAS, SNAPSHOT_TODAY,
           commanders_section="KFOR commanders in chronological order"),
]


@functools.cache
def parsed(body: bytes, content_type: str | None,
           requirements: Requirements = LIVE) -> ParsedPage:
    """Each page parsed once per session."""
    return parse_page(body, content_type, REFERENCE, requirements)


def today_figures(page: ParsedPage) -> list:
    return [f for f in page.troop_figures
            if f.force == "KFOR" and f.figure_type == "reported" and f.period_text == "today"]


def figure_facts(page: ParsedPage) -> set[tuple]:
    return {(f.force, f.figure_type, figure_text(f), f.approximation, f.period_text)
            for f in page.troop_figures}


def plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))
