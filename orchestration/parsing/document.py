"""From bytes to the article's blocks: decode strictly, build the BeautifulSoup tree (lxml as its
tree builder), find the article, linearise its markup.

The rest of the parser sees only blocks (heading / paragraph / item / cell lines of plain text), so
paragraph pairs, <br>-separated lines, table rows and list items all read the same. Text is what
the tree's strings say: comments, processing instructions, CDATA and doctypes are not text."""

from __future__ import annotations

import codecs
import re
import unicodedata
import warnings
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


@dataclass(frozen=True)
class Block:
    kind: str  # heading | para | item | cell
    level: int  # heading level, 0 otherwise
    lines: tuple[str, ...]  # <br> and table cells split a block into lines

    @property
    def text(self) -> str:
        return " ".join(self.lines)


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
    markup after a stray </html> makes lxml start another top-level <html> after it."""
    # A leading XML declaration is no part of an HTML document (XHTML served as text/html).
    text = _XML_DECLARATION.sub("", text)
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


@dataclass
class Landmarks:
    """What one walk over the document finds: the <h1>s and the first <title>, and the elements
    that can hold the article, in document order."""

    h1: list[Tag]
    title: Tag | None
    candidates: dict[str, list[Tag]]  # main | role=main | article | id=content


def landmarks(soup: BeautifulSoup) -> Landmarks:
    """Over the whole document, every top-level element included."""
    h1: list[Tag] = []
    title = None
    found: dict[str, list[Tag]] = {"main": [], "role": [], "article": [], "id": []}
    for node in soup.descendants:
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name == "h1":
            h1.append(node)
        elif name == "title" and title is None:
            title = node
        elif name == "main" or name == "article":
            found[name].append(node)
        attrs = node.attrs
        if attrs:
            if attrs.get("role") == "main":
                found["role"].append(node)
            if attrs.get("id") == "content":
                found["id"].append(node)
    return Landmarks(h1, title, found)


def article_root(doc: Tag, marks: Landmarks) -> Tag:
    """The element holding the article: <main>, [role=main], <article> or #content (the first of
    each that holds a heading), else <body>."""
    for kind in ("main", "role", "article", "id"):
        for node in marks.candidates[kind]:
            if _has_heading(node):
                return node
    return body_of(doc) or doc


def body_of(doc: Tag) -> Tag | None:
    return next((node for node in doc.contents if isinstance(node, Tag) and node.name == "body"),
                None)


def _has_heading(node: Tag) -> bool:
    for el in node.descendants:
        if isinstance(el, Tag) and (el.name in ("h1", "h2", "h3")
                                    or (el.attrs and el.attrs.get("role") == "heading")):
            return True
    return False


def blocks(root: Tag) -> list[Block]:
    """Linearise the article into blocks in document order: one walk over its elements and
    strings, then the text that follows the root up to the next element (its tail)."""
    out: list[Block] = []
    lines: list[str] = []
    buf: list[str] = []
    state = ["para", 0]  # kind and level of the block being read

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
            out.append(Block(state[0], state[1], tuple(lines)))
            lines.clear()
        state[0], state[1] = "para", 0

    def walk(el: Tag):
        tag = el.name.lower()
        attributes = el.attrs
        if tag in _DROP or (attributes and ("hidden" in attributes
                                            or attributes.get("aria-hidden") == "true")):
            return
        level = _HEADING.get(tag) or (
            _aria_level(attributes) if attributes and attributes.get("role") == "heading" else 0)
        block = tag in _BLOCK or bool(level)
        if tag == "br":
            end_line()
        elif block:
            end_block()
            if level:
                state[0], state[1] = "heading", level
            elif tag == "li" or tag == "dd" or tag == "dt":
                state[0] = "item"
            elif tag in ("td", "th"):
                state[0] = "cell"
        for child in el.contents:
            if type(child) is NavigableString:  # the common case first
                buf.append(child)
            elif isinstance(child, Tag):
                walk(child)
            elif is_text(child):
                buf.append(child)
        if block:
            end_block()

    walk(root)
    for node in root.next_siblings:
        if isinstance(node, Tag):
            break
        if is_text(node):
            buf.append(node)
    end_block()
    return out


def _aria_level(attributes: dict) -> int:
    try:
        return max(1, min(6, int(attributes.get("aria-level", "2"))))
    except ValueError:
        return 2
