"""Renderings of the 20 Nov 2023 snapshot that say the same thing in other markup.

Each helper takes the snapshot's HTML (a str) and returns the transformed HTML; a `Variant` names
one rendering with the Content-Type to feed it and whether it changes only markup (then the
article text, and so the version key, must not change). families.py lists the renderings the
parser must read to the snapshot's facts. Other tests may import these helpers: tests/parsing is
on sys.path under pytest's default import mode."""

from __future__ import annotations

import html as htmllib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_PATH = PROJECT_ROOT / "raw" / "bundled" / "topics_48818-2023-11-20.html"
GOLDEN_PATH = PROJECT_ROOT / "tests" / "golden" / "nato-kosovo-2023-11-20.yml"
CONTENT_TYPE = "text/html; charset=utf-8"

COMMANDERS_HEADING = '<h2 class="fs-large">KFOR commanders in chronological order</h2>'
_PAIR = re.compile(r"<p><strong>(?P<name>[^<]*)</strong></p>\s*<p>(?P<dates>[^<]*)</p>")
# The separator of a date line as the snapshot writes it: " - ", "- ", " &ndash; ", " &ndash;".
_SEPARATOR = re.compile(r"\s*(?:-|&ndash;)\s*")
_TAG = re.compile(r"(<script\b.*?</script>|<style\b.*?</style>|<[^>]*>)", re.S | re.I)


def snapshot_bytes() -> bytes:
    return SNAPSHOT_PATH.read_bytes()


def snapshot_text() -> str:
    return snapshot_bytes().decode("utf-8")


# -- the commanders list -------------------------------------------------------------------------

def commander_pairs(page: str) -> list[tuple[str, str]]:
    """(name line, date line) of every commander, as HTML fragments (entities kept)."""
    pairs = [(m["name"], m["dates"]) for m in _PAIR.finditer(_commanders_markup(page))]
    assert len(pairs) == 28, f"the snapshot's commanders list changed shape ({len(pairs)} pairs)"
    return pairs


def split_dates(dates: str) -> tuple[str, str]:
    """"09 Jun 1999 - 08 Oct 1999" -> ("09 Jun 1999", "08 Oct 1999")."""
    start, end = _SEPARATOR.split(dates, maxsplit=1)
    return start, end


def _commanders_markup(page: str) -> str:
    start = page.index(COMMANDERS_HEADING) + len(COMMANDERS_HEADING)
    return page[start:page.index("</section>", start)]


def replace_commanders(page: str, markup: str) -> str:
    """The page with the markup after the commanders heading (up to </section>) replaced."""
    start = page.index(COMMANDERS_HEADING) + len(COMMANDERS_HEADING)
    end = page.index("</section>", start)
    return page[:start] + "\n" + markup + "\n" + page[end:]


def map_date_lines(page: str, fn: Callable[[str], str]) -> str:
    """The page with fn applied to every date line of the commanders list."""
    markup = _PAIR.sub(lambda m: f"<p><strong>{m['name']}</strong></p>\n<p>{fn(m['dates'])}</p>",
                       _commanders_markup(page))
    return replace_commanders(page, markup)


def commanders_as_br_lines(page: str) -> str:
    """(a) One <p>, a <br> between every name line and date line."""
    lines = [f"<strong>{name}</strong><br>\n{dates}" for name, dates in commander_pairs(page)]
    return replace_commanders(page, "<p>" + "<br>\n".join(lines) + "</p>")


def commanders_as_table_rows(page: str) -> str:
    """(b) A table, one row per commander: a name cell and a dates cell."""
    rows = [f"<tr><td>{name}</td><td>{dates}</td></tr>" for name, dates in commander_pairs(page)]
    return replace_commanders(page, "<table><tbody>\n" + "\n".join(rows) + "\n</tbody></table>")


def commanders_as_split_table(page: str) -> str:
    """(c) A table with a header row and separate start and end cells."""
    rows = []
    for name, dates in commander_pairs(page):
        start, end = split_dates(dates)
        rows.append(f"<tr><td>{name}</td><td>{start}</td><td>{end}</td></tr>")
    head = "<thead><tr><th>Commander</th><th>From</th><th>To</th></tr></thead>"
    return replace_commanders(page, f"<table>{head}<tbody>\n" + "\n".join(rows)
                              + "\n</tbody></table>")


def commanders_as_list_items(page: str, separator: str = ", ", closing: str = "") -> str:
    """(d) One <li> per commander, name and dates on one line."""
    items = [f"<li>{name}{separator}{dates}{closing}</li>" for name, dates in commander_pairs(page)]
    return replace_commanders(page, "<ul>\n" + "\n".join(items) + "\n</ul>")


def commanders_as_list_items_with_br(page: str) -> str:
    """(a) One <li> per commander, a <br> between name and dates."""
    items = [f"<li><strong>{name}</strong><br>{dates}</li>"
             for name, dates in commander_pairs(page)]
    return replace_commanders(page, "<ul>\n" + "\n".join(items) + "\n</ul>")


def commanders_as_definition_list(page: str) -> str:
    """(b) A definition list: the name as <dt>, the dates as <dd>."""
    items = [f"<dt>{name}</dt><dd>{dates}</dd>" for name, dates in commander_pairs(page)]
    return replace_commanders(page, "<dl>\n" + "\n".join(items) + "\n</dl>")


def with_date_separator(page: str, separator: str) -> str:
    """(e) Every date line of the list with `separator` between its start and end."""
    def rewrite(dates: str) -> str:
        start, end = split_dates(dates)
        return f"{start}{separator}{end}"
    return map_date_lines(page, rewrite)


def with_one_digit_days(page: str) -> str:
    """(f) "09 Jun 1999" -> "9 Jun 1999" in the commanders list."""
    return map_date_lines(page, lambda dates: re.sub(r"\b0(\d)\b", r"\1", dates))


_FULL_MONTHS = {"Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April",
                "Jun": "June", "Jul": "July", "Aug": "August", "Sep": "September",
                "Oct": "October", "Nov": "November", "Dec": "December"}


def with_full_month_names(page: str) -> str:
    """"09 Jun 1999" -> "09 June 1999" in the commanders list."""
    return map_date_lines(page, lambda dates: re.sub(
        r"\b(" + "|".join(_FULL_MONTHS) + r")\b", lambda m: _FULL_MONTHS[m[1]], dates))


def with_present_spelt(page: str, word: str) -> str:
    """(j) The current tenure's "present" written as `word`."""
    return map_date_lines(page, lambda dates: re.sub(r"present$", word, dates))


# -- text nodes: entities, spaces, apostrophes -----------------------------------------------------

def map_text_nodes(page: str, fn: Callable[[str], str]) -> str:
    """fn applied to every text node holding more than whitespace (not to tags, scripts, styles)."""
    parts = _TAG.split(page)
    return "".join(part if i % 2 or not part.strip() else fn(part) for i, part in enumerate(parts))


_APOSTROPHES = ("&#8217;", "&#x2019;", "&rsquo;", "&#39;")
_ENTITY_TOKEN = re.compile(r"&#?\w+;|(?<=\S) (?=\S)|[A-Za-z0-9']|[^\x00-\x7f]")


def _to_entities(text: str) -> str:
    """Spaces between words as &nbsp;; named entities as numeric ones (decimal and hex in turn);
    apostrophes as &#8217; / &#x2019; / &rsquo; / &#39; in turn; non-ASCII characters and about
    every seventh letter or digit as numeric entities."""
    counter = itertools.count(1)

    def entity(m: re.Match) -> str:
        token, n = m[0], next(counter)
        if token.startswith("&"):
            if token.startswith("&#") or token in ("&amp;", "&lt;", "&gt;"):
                return token
            code = ord(htmllib.unescape(token))
            return f"&#{code};" if n % 2 else f"&#x{code:x};"
        if token == " ":
            return "&nbsp;"
        if token == "'":
            return _APOSTROPHES[n % 4]
        return f"&#{ord(token)};" if ord(token) > 127 or n % 7 == 0 else token

    return _ENTITY_TOKEN.sub(entity, text)


def with_entities(page: str) -> str:
    """(g) Entities everywhere in the text: &nbsp;, numeric (decimal, hex) and named ones."""
    return map_text_nodes(page, _to_entities)


def with_curly_apostrophes(page: str) -> str:
    """(g) Straight apostrophes as curly ones (raw U+2019), &rsquo; as straight ones."""
    return map_text_nodes(page, lambda t: t.replace("'", "\u2019").replace("&rsquo;", "'"))


# -- structure -------------------------------------------------------------------------------------

def with_div_headings(page: str) -> str:
    """(h) <h1>-<h6> as <div role="heading" aria-level="N">."""
    return re.sub(r"<h([1-6])\b[^>]*>(.*?)</h\1>",
                  r'<div role="heading" aria-level="\1">\2</div>', page, flags=re.S)


def with_wrappers(page: str) -> str:
    """(h) Extra wrapper <div>s around the article, paragraphs and lists; <span>s inside
    headings, paragraphs and items and around the months of dates."""
    page = page.replace('<section class="content-topic">',
                        '<div class="outer"><div class="inner"><section class="content-topic">')
    page = page.replace("</section>", "</section></div></div>")
    page = re.sub(r"<p\b([^>]*)>(.*?)</p>",
                  r'<div class="para"><div><p\1><span class="t">\2</span></p></div></div>', page)
    page = re.sub(r"<(h[1-6])\b([^>]*)>(.*?)</\1>", r'<\1\2><span class="h">\3</span></\1>', page)
    page = re.sub(r"<li\b([^>]*)>(.*?)</li>", r"<li\1><span>\2</span></li>", page)
    page = re.sub(r"<ul\b([^>]*)>", r'<div class="list"><ul\1>', page)
    page = page.replace("</ul>", "</ul></div>")
    return map_text_nodes(page, lambda t: re.sub(
        r"\b(Jan|Feb|Mar|Apr|May|June?|July?|Aug|Sep|Oct|Nov|Dec)(\w*)\b",
        r'<span class="month">\1\2</span>', t))


def with_article_instead_of_main(page: str) -> str:
    """(h) The article in <article> instead of <main id="content" role="main">."""
    return re.sub(r"<main\b[^>]*>", "<article>", page).replace("</main>", "</article>")


def without_main(page: str) -> str:
    """(h) No landmark at all: the article's <main> is a plain <div>."""
    return re.sub(r"<main\b[^>]*>", "<div>", page).replace("</main>", "</div>")


def with_uppercase_tags(page: str) -> str:
    """(i) <P>, </H2>, <LI CLASS=...>: tag and attribute names in upper case."""
    def upper(m: re.Match) -> str:
        tag = m[0]
        return re.sub(r"(?<=\s)([a-z-]+)(?==)", lambda a: a[1].upper(), tag).replace(
            m[1], m[1].upper(), 1)
    return re.sub(r"</?([a-zA-Z][a-zA-Z0-9]*)[^>]*>", upper, page)


def with_unclosed_p_and_li(page: str) -> str:
    """(i) No </p> and no </li>: the HTML parser closes them."""
    return page.replace("</p>", "").replace("</li>", "")


def with_crlf(page: str) -> str:
    """(i) Windows line endings."""
    return page.replace("\n", "\r\n")


def with_xml_declaration(page: str) -> str:
    """(i) An XML declaration before the doctype (XHTML served as text/html)."""
    return '<?xml version="1.0" encoding="utf-8"?>\n' + page


def as_windows_1252(page: str, meta: str = '<meta charset="windows-1252">') -> bytes:
    """(i) Declared windows-1252 and encoded in it: named entities become the characters (so the
    bytes hold cp1252's own 0x80-0xFF codes: 0x92 for ’, 0x96 for –), characters cp1252
    lacks (ş) become numeric entities. `meta` replaces the snapshot's <meta charset>."""
    page = re.sub(r"&(?!amp;|lt;|gt;)\w+;", lambda m: htmllib.unescape(m[0]), page)
    page = page.replace('<meta charset="utf-8">', meta)
    return page.encode("cp1252", errors="xmlcharrefreplace")


# -- a rendering ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    name: str
    render: Callable[[str], str | bytes]
    content_type: str | None = CONTENT_TYPE
    same_text: bool = True  # only markup changes: the article text and content_sha256 must not

    def body(self) -> bytes:
        out = self.render(snapshot_text())
        return out if isinstance(out, bytes) else out.encode("utf-8")
