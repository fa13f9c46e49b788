"""From bytes to the article's blocks: decode strictly, build the BeautifulSoup tree (lxml as its
tree builder), find the article, linearise its markup.

The rest of the parser sees only blocks (heading / paragraph / item / cell lines of plain text), so
paragraph pairs, <br>-separated lines, table rows and list items all read the same. Text is what
the tree's strings say: comments, processing instructions, CDATA and doctypes are not text."""

from __future__ import annotations

import codecs
import re
import time
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, ParserRejectedMarkup, Tag
from bs4.element import PreformattedString

from .records import ParseError

# Tags whose text never belongs to the article.
_DROP = {"script", "style", "noscript", "template", "nav", "aside", "form", "button", "svg",
         "iframe", "select", "input", "textarea", "object", "embed", "canvas"}
# Tags that start a new block of text.
_BLOCK = {"p", "div", "section", "article", "main", "header", "footer", "ul", "ol", "dl", "li",
          "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "figure",
          "figcaption", "blockquote", "pre", "address", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
          "center", "details", "summary", "body"}
_HEADING = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BOLD = {"b", "strong"}
_BOLD_STYLE = re.compile(r"(?i)font-weight\s*:\s*(?:bold|[6-9]00)")
# L4: elements and ARIA roles that are the site's, not the article's, and a copyright line.
_CHROME = {"nav", "aside", "header", "footer", "menu"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu",
                 "menubar"}
_COPYRIGHT = re.compile(r"(?i)\s*(?:\u00a9|&copy;|\(c\)\s|copyright\b)")
# L6: what a body may be before it is read. The page has about 180 tags nested about 10 deep;
# a body beyond these is not a version of it, and reading it would hold the warehouse's lock.
MAX_ELEMENTS = 60_000
MAX_DEPTH = 512
_TAG_START = re.compile(r"<[A-Za-z]")
# L4: elements that hold paragraphs of an article, and lists (never the article's container).
_PARAGRAPHS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section",
               "article", "main"}
_LISTS = {"ul", "ol", "dl", "menu"}
_ONE_LINK = 80  # characters: a block that is one link this short is a link, not a paragraph
_AS_WINDOWS_1252 = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.I)
_UTF16 = {"utf-16", "utf-16-le", "utf-16-be"}  # codec names (codecs.lookup) of the UTF-16 labels
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Typographic quotes and odd spaces folded (X4). (str.replace per character present:
# str.translate with a dict looks up every character of a line.)
_FOLD = (("\u2018", "'"), ("\u2019", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'),
         ("\u00a0", " "), ("\u2007", " "), ("\u202f", " "), ("\u2009", " "))
# X3: the format characters (Unicode category Cf, as of Unicode 14) are invisible and dropped:
# bidi marks, embeddings, overrides and isolates, zero-width space, joiners, word joiner, soft
# hyphen, BOM, tags. Written out so that a Python upgrade cannot move a version key;
# tests/parsing/test_text_characters.py checks the class against unicodedata.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f]")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def clean(text: str) -> str:
    """Normalise text the same way everywhere: invisible characters dropped (X3), NFC,
    typographic quotes and odd spaces folded (X4), whitespace collapsed."""
    if not text.isascii():  # ASCII is already NFC and has no typographic characters
        text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
        for char, replacement in _FOLD:
            if char in text:
                text = text.replace(char, replacement)
    # str.split() splits on what the regex \s matches (Unicode whitespace): runs collapse to one
    # space, and the ends are stripped.
    return " ".join(text.split())


def decode(body: bytes, content_type: str | None = None) -> str:
    """Decode strictly with the page's charset (X1, X2); refuse binary bodies and charsets the
    bytes contradict."""
    if not body or not body.strip():
        raise ParseError("empty_body", "the body is empty")
    header = None
    if content_type and (m := _CT_CHARSET.search(content_type)):
        header = m.group(1)
    utf16 = _utf16_codec(body, header)
    if utf16:
        return _decode_utf16(body, *utf16)
    head = body[:4096]
    _refuse_binary(head)
    declared = header
    if declared is None and (m := _META_CHARSET.search(head)):
        declared = m.group(1).decode("ascii", "replace")
    if body.startswith(codecs.BOM_UTF8):
        declared, body = "utf-8", body[len(codecs.BOM_UTF8):]
    encoding = declared or "utf-8"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ParseError("charset_unknown", f"unknown declared charset {encoding!r}") from None
    if name in _UTF16:  # X2: a <meta> cannot declare UTF-16 in ASCII bytes; browsers read UTF-8
        encoding, name = "utf-8", "utf-8"
    # Browsers read these labels as windows-1252 (WHATWG Encoding), and so do pages that declare
    # them: a "latin-1" page's curly quotes and dashes are cp1252 bytes 0x80-0x9F.
    name = _AS_WINDOWS_1252.get(name, name)
    try:
        b"<".decode(name)  # (the empty bytes decode with any codec)
    except (LookupError, UnicodeError):  # a codec, not a charset: "base64", "rot13", "undefined"
        raise ParseError("charset_unknown", f"the declared charset {encoding!r} is not a text "
                                            "encoding") from None
    if name not in ("utf-8", "utf-8-sig"):
        _refuse_utf8_declared_otherwise(body, encoding)
    try:
        text = body.decode(name)
    except UnicodeDecodeError as e:
        _refuse_cut_character(body, e)
        raise ParseError("charset_mismatch", f"the body is not valid {encoding} "
                                             f"(byte {e.start}); refusing to guess") from None
    if "<" not in text:
        raise ParseError("not_html", "the body has no markup")
    return text


def _refuse_cut_character(body: bytes, error: UnicodeDecodeError) -> None:
    """A body whose bytes end in the middle of a character was cut off in transit."""
    if error.reason in ("unexpected end of data", "truncated data"):
        raise ParseError("truncated", f"the page looks truncated: its {len(body)} bytes end in "
                                      f"the middle of a {error.encoding.upper()} character")


def _refuse_utf8_declared_otherwise(body: bytes, encoding: str) -> None:
    """X1: bytes that are valid UTF-8 with non-ASCII characters contradict any other declared
    charset (a genuine single-byte page almost never is): reading them as declared would publish
    mojibake ("Ortuño" as windows-1251 is "OrtuГ±o")."""
    if body.isascii():
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    word = next(m.group(0) for m in re.finditer(r"\S*[^\x00-\x7f]\S*", text))[:40]
    raise ParseError("charset_mismatch", f"the page declares {encoding} but its bytes are UTF-8 "
                                         f"(e.g. {word!r}); refusing to guess")


def _utf16_codec(body: bytes, header: str | None) -> tuple[str, int, str] | None:
    """X2: (codec, BOM length, how it was found) when the body is UTF-16: a byte-order mark (which
    wins over any label, as in browsers), or a UTF-16 charset in the HTTP header, whose byte
    order the NUL bytes of the markup tell. Refuses a body that looks like UTF-16 otherwise."""
    for bom, codec in _UTF16_BOMS:
        if body.startswith(bom):
            return codec, len(bom), "its byte-order mark"
    try:
        label = codecs.lookup(header).name if header else None
    except LookupError:
        label = None
    order = _utf16_byte_order(body[:4096])
    if label in _UTF16:
        if order is None or label not in ("utf-16", order):
            if order is None:  # random bytes are binary, whatever the header says
                _refuse_binary(body[:4096])
            raise ParseError("charset_mismatch", f"the page declares {header} but its bytes are "
                                                 f"not {label.upper()} (no byte-order mark, and "
                                                 "not the NUL bytes of its markup); refusing to "
                                                 "guess")
        return order, 0, f"the declared {header}"
    if order is not None:
        said = f"declares {header}" if header else "declares no charset"
        raise ParseError("charset_mismatch", f"the body looks like {order.upper()} without a "
                                             f"byte-order mark, and the page {said}; refusing to "
                                             "guess")
    return None


def _refuse_binary(head: bytes) -> None:
    controls = len(_CONTROL_BYTES.findall(head))
    if b"\x00" in head or controls > len(head) // 20:
        raise ParseError("not_html", f"the body is binary ({controls} control bytes in the first "
                                     f"{len(head)}), not HTML")


def _utf16_byte_order(head: bytes) -> str | None:
    """The byte order of UTF-16 markup: the high bytes of its ASCII characters are NUL, in the
    odd positions (little-endian) or the even ones (big-endian); None for other bytes."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if len(head) < 8 or max(even, odd) < len(head) // 4 or min(even, odd) > max(even, odd) // 10:
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


def _decode_utf16(body: bytes, codec: str, bom: int, found: str) -> str:
    try:
        text = body[bom:].decode(codec)
    except UnicodeDecodeError as e:
        _refuse_cut_character(body, e)
        raise ParseError("charset_mismatch", f"the body is not valid {codec.upper()}, as "
                                             f"{found} says (byte {e.start}); refusing to "
                                             "guess") from None
    head = text[:4096]
    controls = len(_CONTROL_CHARACTERS.findall(head))
    if "\x00" in head or controls > len(head) // 20:
        raise ParseError("not_html", f"the body is binary ({controls} control characters in the "
                                     f"first {len(head)} of its {codec.upper()}), not HTML")
    if "<" not in text:
        raise ParseError("not_html", "the body has no markup")
    return text


def parse_tree(text: str) -> BeautifulSoup:
    """The document as a BeautifulSoup tree built by lxml. Its first element is the root (<html>);
    markup after a stray </html> makes lxml start another top-level <html> after it. A body with
    more tags than any version of the page has is refused before the tree is built (L6)."""
    # A leading XML declaration is no part of an HTML document (XHTML served as text/html).
    text = _XML_DECLARATION.sub("", text)
    tags = sum(1 for _ in _TAG_START.finditer(text))
    if tags > MAX_ELEMENTS:
        raise ParseError("too_many_elements", f"the body has {tags:,} tags, more than the "
                                              f"{MAX_ELEMENTS:,} any version of the page could "
                                              "have; refusing to read it")
    try:
        with warnings.catch_warnings():
            # BeautifulSoup warns about markup it thinks odd (XML parsed as HTML, text that looks
            # like a URL or a file name); the parser reports what it finds by ParseError instead.
            warnings.simplefilter("ignore")
            soup = BeautifulSoup(text, "lxml", multi_valued_attributes=None)
    except ParserRejectedMarkup as e:
        raise ParseError("not_html", f"the body cannot be parsed as HTML ({_one_line(e)})") from None
    if root_element(soup) is None:
        raise ParseError("not_html", "the body cannot be parsed as HTML (Document is empty)")
    return soup


def root_element(soup: BeautifulSoup) -> Tag | None:
    return next((node for node in soup.contents if isinstance(node, Tag)), None)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:200]


def is_text(node) -> bool:
    """A string of the document's text: not a comment, processing instruction, CDATA section,
    declaration or doctype (the PreformattedStrings)."""
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


def text_of(node: Tag) -> str:
    """All text inside an element, its descendants' included (no comments, no PIs)."""
    return "".join(s for s in node.descendants if is_text(s))


class Deadline:
    """L6: a parse's deadline, on the monotonic clock. It decides only whether a parse finishes,
    never what it reads: the records stay a function of the bytes."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def check(self, step: str) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise ParseError("parse_deadline", f"the parse took longer than {self.seconds:g} s "
                                               f"({step}); refusing the page")


NO_DEADLINE = Deadline(None)


@dataclass
class Landmarks:
    """What one walk over the document finds: the <h1>s and the first <title>, the elements that
    can hold the article, in document order, and the text each element holds (L4)."""

    h1: list[Tag]
    title: Tag | None
    candidates: dict[str, list[Tag]]  # main | role (role=main) | article
    # id(element) -> [characters of text outside links, characters inside links, links,
    # paragraphs (p, div, headings ...) inside it]
    text: dict[int, list[int]]
    first_text: dict[int, str]  # id(element) -> its first string of text

    def prose(self, node: Tag) -> int:
        return self.text[id(node)][0]

    def heading(self) -> Tag | None:
        """The page's own <h1> (L4): the first that holds text, not a link (a logo)."""
        with_text = [node for node in self.h1 if sum(self.text[id(node)][:2])]
        return next((node for node in with_text if self.text[id(node)][0]),
                    with_text[0] if with_text else None)


def landmarks(soup: BeautifulSoup, deadline: Deadline = NO_DEADLINE) -> Landmarks:
    """Over the whole document, every top-level element included; one iterative walk (a deep
    document cannot exhaust the stack), refusing nesting deeper than MAX_DEPTH (L6)."""
    h1: list[Tag] = []
    title = None
    found: dict[str, list[Tag]] = {"main": [], "role": [], "article": []}
    counts: dict[int, list[int]] = {}
    first_text: dict[int, str] = {}
    waiting: list[Tag] = []  # elements opened whose first text has not come yet
    open_counts: list[list[int]] = []
    in_link = in_drop = 0
    stack: list = [(node, 0) for node in reversed(soup.contents)]
    seen = 0
    while stack:
        node, closing = stack.pop()
        if closing:
            mine = open_counts.pop()
            if open_counts:
                parent = open_counts[-1]
                parent[0] += mine[0]
                parent[1] += mine[1]
                parent[2] += mine[2]
                parent[3] += mine[3] + (node.name in _PARAGRAPHS)
            in_link -= closing & 1
            in_drop -= closing >> 1 & 1
            continue
        if not isinstance(node, Tag):
            if open_counts and not in_drop and is_text(node) and not node.isspace():
                open_counts[-1][1 if in_link else 0] += len(node.strip())
                if waiting:
                    for element in waiting:
                        first_text[id(element)] = node
                    waiting.clear()
            continue
        seen += 1
        if not seen % 4096:
            deadline.check("reading the markup")
        if len(open_counts) >= MAX_DEPTH:
            raise ParseError("nesting_too_deep", f"the markup nests elements more than "
                                                 f"{MAX_DEPTH} deep (<{node.name}> inside "
                                                 f"{MAX_DEPTH} others); refusing to read it")
        name = node.name
        attrs = node.attrs
        mine = [0, 0, 0, 0]
        counts[id(node)] = mine
        open_counts.append(mine)
        waiting.append(node)
        flags = 0
        if name == "a" and attrs and attrs.get("href") is not None:
            mine[2] = 1
            in_link += 1
            flags = 1
        elif name in _DROP:
            in_drop += 1
            flags = 2
        elif name == "h1":
            h1.append(node)
        elif name == "title" and title is None:
            title = node
        elif name == "main" or name == "article":
            found[name].append(node)
        if attrs and attrs.get("role") == "main":
            found["role"].append(node)
        stack.append((node, flags | 4))
        stack.extend((child, 0) for child in reversed(node.contents))
    return Landmarks(h1, title, found, counts, first_text)


@dataclass(frozen=True)
class Article:
    """Where the article is (L4): the element holding it, the element reading starts at (None:
    the root's start) and the elements left out as navigation (ids)."""

    root: Tag
    start: Tag | None
    skip: frozenset[int]


def find_article(doc: Tag, marks: Landmarks, title: str,
                 keep: Callable[[str], bool] = lambda text: False) -> Article:
    """L4: the article is the page's <main>, [role=main] or <article> (the first that holds a
    heading and the page's <h1> or half its text); else it is found by content: from the page's
    <h1> (without one, the block that says the title) inside the lowest element around it that
    holds half the page's text outside links. Either way navigation inside it is left out."""
    heading = marks.heading()
    if heading is not None and clean(text_of(heading)) != title:
        heading = None  # the site's name (see page._title): the article starts at its title
    body = body_of(doc) or doc
    total = marks.prose(body)
    for kind in ("main", "role", "article"):
        for node in marks.candidates[kind]:
            if _has_heading(node) and (heading is None or _contains(node, heading)
                                       or 2 * marks.prose(node) >= total):
                return Article(node, None, _navigation(node, heading, marks, keep))
    start = heading if heading is not None else _title_block(body, title, marks)
    root = _around(start, body, marks, total) if start is not None else \
        _holding_half(body, marks, total)
    return Article(root, start, _navigation(root, start, marks, keep))


def _around(start: Tag, body: Tag, marks: Landmarks, total: int) -> Tag:
    """The lowest element around start holding half the page's text outside links; at most the
    <body>, or the top element holding start (markup after a stray </html> is another one)."""
    node = start
    for parent in (start, *start.parents):
        if id(parent) not in marks.text:  # the document itself
            return node
        node = parent
        if parent is body or 2 * marks.prose(parent) >= total:
            return parent
    return node


def _title_block(body: Tag, title: str, marks: Landmarks) -> Tag | None:
    """The first element outside links that says the title and nothing else."""
    size = len(title)
    for node in body.descendants:
        if isinstance(node, Tag) and node.name not in _DROP:
            prose, linked = marks.text[id(node)][:2]
            if not linked and size - 4 <= prose <= size + 4 and clean(text_of(node)) == title:
                return node
    return None


def _holding_half(body: Tag, marks: Landmarks, total: int) -> Tag:
    """The lowest element holding half the page's text outside links that holds paragraphs of it:
    a layout table's cell, never a list or a table of data (whose cells hold no paragraphs)."""
    node = body
    while True:
        for child in node.contents:
            if (isinstance(child, Tag) and 2 * marks.prose(child) >= total > 0
                    and child.name not in _LISTS and marks.text[id(child)][3]):
                node = child
                break
        else:
            return node


def _contains(node: Tag, inner: Tag) -> bool:
    return inner is node or any(parent is node for parent in inner.parents)


def body_of(doc: Tag) -> Tag | None:
    return next((node for node in doc.contents if isinstance(node, Tag) and node.name == "body"),
                None)


def _has_heading(node: Tag) -> bool:
    for el in node.descendants:
        if isinstance(el, Tag) and (el.name in ("h1", "h2", "h3")
                                    or (el.attrs and el.attrs.get("role") == "heading")):
            return True
    return False


def _navigation(root: Tag, start: Tag | None, marks: Landmarks,
                keep: Callable[[str], bool]) -> frozenset[int]:
    """L4: the elements inside the article that are navigation, not its text: <nav>, <aside>,
    <header>, <footer> and their ARIA roles, link lists (two links or more, four fifths of the
    text in links), a short block that is one link and nothing else ("Related: ...", "Top of
    page") unless `keep` says its text is the article's (a commander's name linked to a
    biography), and copyright lines. Never the start, an element holding it, or a heading."""
    protected = {id(start), *(id(p) for p in start.parents)} if start is not None else set()
    skip: set[int] = set()
    stack = [child for child in reversed(root.contents) if isinstance(child, Tag)]
    while stack:
        el = stack.pop()
        if id(el) not in protected and _is_navigation(el, marks, keep):
            skip.add(id(el))
            continue
        stack.extend(child for child in reversed(el.contents) if isinstance(child, Tag))
    return frozenset(skip)


def _is_navigation(el: Tag, marks: Landmarks, keep: Callable[[str], bool]) -> bool:
    name = el.name
    if name in _HEADING:
        return False
    if name in _CHROME or (el.attrs and el.attrs.get("role") in _CHROME_ROLES):
        return True
    prose, linked, links = marks.text[id(el)][:3]
    if links >= 2 and linked >= 4 * prose:
        return True
    if (links == 1 and not prose and 0 < linked <= _ONE_LINK and name in _BLOCK
            and not keep(clean(text_of(el)))):
        return True
    first = marks.first_text.get(id(el))
    return (0 < prose + linked < 300 and first is not None
            and _COPYRIGHT.match(first) is not None)


@dataclass(frozen=True)
class Block:
    kind: str  # heading | para | item | cell
    level: int  # heading level, 0 otherwise
    lines: tuple[str, ...]  # <br> and table cells split a block into lines
    bold: bool = False  # all its text is bold (<b>, <strong>, font-weight): a heading? (L5)
    row: int = 0  # the table row of a cell (1, 2, ...), 0 otherwise (C3)

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def blocks(root: Tag, start: Tag | None = None, skip: frozenset[int] = frozenset(),
           deadline: Deadline = NO_DEADLINE) -> list[Block]:
    """Linearise the article into blocks in document order: one iterative walk over its elements
    and strings from `start` on (L4), leaving out the `skip` elements, then the text that follows
    the root up to the next element (its tail)."""
    out: list[Block] = []
    lines: list[str] = []
    buf: list[str] = []
    # kind and level of the block being read; whether it has bold text and other text; its row
    state: list = ["para", 0, False, False, 0]
    rows = [0]  # table rows open, innermost last
    counter = [0]  # table rows seen

    def end_line():
        if not buf:
            return
        text = "".join(buf)
        buf.clear()
        if text and not text.isspace():  # most buffers are the whitespace between tags
            line = clean(text)
            if line:  # not only invisible characters (X3)
                lines.append(line)

    def end_block():
        end_line()
        if lines:
            out.append(Block(state[0], state[1], tuple(lines), state[2] and not state[3],
                             state[4]))
            lines.clear()
        state[:] = ["para", 0, False, False, 0]

    started = start is None
    bold = 0
    seen = 0
    # (node, 0) opens a node; (node, flags) closes an element: 1 a block, 2 bold, 4 a table row
    stack: list = [(root, 0)]
    while stack:
        node, closing = stack.pop()
        if closing:
            if closing & 1:
                end_block()
            bold -= closing >> 1 & 1
            if closing & 4:
                rows.pop()
            continue
        if type(node) is NavigableString or (not isinstance(node, Tag) and is_text(node)):
            if started:
                buf.append(node)
                if not node.isspace():
                    state[2 if bold else 3] = True
            continue
        if not isinstance(node, Tag):
            continue
        seen += 1
        if not seen % 4096:
            deadline.check("reading the article")
        if node is start:
            started = True
        tag = node.name.lower()
        attributes = node.attrs
        if tag in _DROP or id(node) in skip or (
                attributes and ("hidden" in attributes
                                or attributes.get("aria-hidden") == "true")):
            continue
        level = _HEADING.get(tag) or (
            _aria_level(attributes) if attributes and attributes.get("role") == "heading" else 0)
        block = tag in _BLOCK or bool(level)
        flags = 8
        if tag == "br":
            end_line()
        elif block:
            flags |= 1
            end_block()
            if level:
                state[0], state[1] = "heading", level
            elif tag == "li" or tag == "dd" or tag == "dt":
                state[0] = "item"
            elif tag in ("td", "th"):
                state[0], state[4] = "cell", rows[-1]
            elif tag == "tr":
                counter[0] += 1
                rows.append(counter[0])
                flags |= 4
        if tag in _BOLD or (attributes and "style" in attributes
                            and _BOLD_STYLE.search(str(attributes["style"]))):
            bold += 1
            flags |= 2
        stack.append((node, flags))
        stack.extend((child, 0) for child in reversed(node.contents))
    for node in root.next_siblings:
        if isinstance(node, Tag):
            break
        if is_text(node):
            buf.append(node)
            if not node.isspace():
                state[3] = True
    end_block()
    return out


def _aria_level(attributes: dict) -> int:
    try:
        return max(1, min(6, int(attributes.get("aria-level", "2"))))
    except ValueError:
        return 2
