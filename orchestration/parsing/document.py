"""From bytes to the article's blocks: decode strictly, find the article, linearise its markup.

The rest of the parser sees only blocks (heading / paragraph / item / cell lines of plain text), so
paragraph pairs, <br>-separated lines, table rows and list items all read the same."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import lxml.etree
import lxml.html

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
_SINGLE_BYTE = {"latin-1", "iso8859-1", "cp1252", "iso8859-2", "iso8859-15", "ascii"}
_AS_WINDOWS_1252 = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.I)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
                         "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ",
                         "\u200b": "", "\u00ad": "", "\ufeff": ""})
_WS = re.compile(r"\s+")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f]")


@dataclass(frozen=True)
class Block:
    kind: str  # heading | para | item | cell
    level: int  # heading level, 0 otherwise
    lines: tuple[str, ...]  # <br> and table cells split a block into lines

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def clean(text: str) -> str:
    """Normalise text the same way everywhere: NFC, typographic quotes and odd spaces folded,
    whitespace collapsed."""
    if not text.isascii():  # ASCII is already NFC and has no typographic characters
        text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    return _WS.sub(" ", text).strip()


def decode(body: bytes, content_type: str | None = None) -> str:
    """Decode strictly with the declared charset; refuse binary bodies and charset mismatches."""
    if not body or not body.strip():
        raise ParseError("empty_body", "the body is empty")
    head = body[:4096]
    controls = len(_CONTROL_BYTES.findall(head))
    if b"\x00" in head or controls > len(head) // 20:
        raise ParseError("not_html", f"the body is binary ({controls} control bytes in the first "
                                     f"{len(head)}), not HTML")
    declared = None
    if content_type and (m := _CT_CHARSET.search(content_type)):
        declared = m.group(1).decode() if isinstance(m.group(1), bytes) else m.group(1)
    elif m := _META_CHARSET.search(head):
        declared = m.group(1).decode("ascii", "replace")
    if body.startswith(codecs.BOM_UTF8):
        declared, body = "utf-8", body[len(codecs.BOM_UTF8):]
    encoding = declared or "utf-8"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ParseError("charset_unknown", f"unknown declared charset {encoding!r}") from None
    # Browsers read these labels as windows-1252 (WHATWG Encoding), and so do pages that declare
    # them: a "latin-1" page's curly quotes and dashes are cp1252 bytes 0x80-0x9F.
    name = _AS_WINDOWS_1252.get(name, name)
    try:
        text = body.decode(name)
    except UnicodeDecodeError as e:
        raise ParseError("charset_mismatch", f"the body is not valid {encoding} "
                                             f"(byte {e.start}); refusing to guess") from None
    except (LookupError, UnicodeError):  # a codec, not a charset: "base64", "rot13", "undefined"
        raise ParseError("charset_unknown", f"the declared charset {encoding!r} is not a text "
                                            "encoding") from None
    if name in _SINGLE_BYTE and any(b > 127 for b in body):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise ParseError("charset_mismatch", f"the page declares {encoding} but its bytes are "
                                                 "UTF-8; refusing to guess")
    if "<" not in text:
        raise ParseError("not_html", "the body has no markup")
    return text


def parse_tree(text: str) -> lxml.html.HtmlElement:
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)  # lxml refuses str input with an XML declaration
    try:
        return lxml.html.document_fromstring(text, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as e:
        raise ParseError("not_html", f"the body cannot be parsed as HTML ({e})") from None


_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, recover=True)


def article_root(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The element holding the article: <main>, [role=main], <article> or #content, else <body>."""
    for path in ("//main", "//*[@role='main']", "//article", "//*[@id='content']"):
        for node in doc.xpath(path):
            if _has_heading(node):
                return node
    body = doc.find("body")
    return body if body is not None else doc


def _has_heading(node) -> bool:
    return bool(node.xpath(".//h1|.//h2|.//h3|.//*[@role='heading']"))


def blocks(root: lxml.html.HtmlElement) -> list[Block]:
    """Linearise the article into blocks in document order."""
    out: list[Block] = []
    lines: list[str] = []
    buf: list[str] = []
    state = {"kind": "para", "level": 0}

    def end_line():
        if not buf:
            return
        text = "".join(buf)
        buf.clear()
        if text and not text.isspace():  # most buffers are the whitespace between tags
            lines.append(clean(text))

    def end_block():
        end_line()
        if lines:
            out.append(Block(state["kind"], state["level"], tuple(lines)))
            lines.clear()
        state["kind"], state["level"] = "para", 0

    def walk(el):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        attributes = el.attrib
        if tag in _DROP or (attributes and (el.get("hidden") is not None
                                            or el.get("aria-hidden") == "true")):
            if el.tail:
                buf.append(el.tail)
            return
        level = _HEADING.get(tag) or (
            _aria_level(el) if attributes and el.get("role") == "heading" else 0)
        block = tag in _BLOCK or bool(level)
        if tag == "br":
            end_line()
        elif block:
            end_block()
            if level:
                state["kind"], state["level"] = "heading", level
            elif tag == "li" or tag == "dd" or tag == "dt":
                state["kind"] = "item"
            elif tag in ("td", "th"):
                state["kind"] = "cell"
        if el.text:
            buf.append(el.text)
        for child in el:
            walk(child)
        if block:
            end_block()
        if el.tail:
            buf.append(el.tail)

    walk(root)
    end_block()
    return out


def _aria_level(el) -> int:
    try:
        return max(1, min(6, int(el.get("aria-level", "2"))))
    except ValueError:
        return 2
