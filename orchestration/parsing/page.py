"""parse_page: the page's bytes in, typed records out. A pure function of the bytes, the content
type and the reference data passed in: no I/O, no clock. Which parts a version must have depends
on how it came in, a live refresh or an imported historical capture (rules L1-L3 of
docs/rules.md)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bs4 import Tag

from .commanders import dates_first_rows, parse_commanders
from .dates import MON, month_abbr
from .document import (
    Block,
    Landmarks,
    article_root,
    blocks,
    body_of,
    clean,
    decode,
    is_text,
    landmarks,
    parse_tree,
    root_element,
    text_of,
)
from .prose import parse_prose
from .records import ParsedPage, ParseError, Section, TroopFigure
from .reference import Reference

# D6: "20 Nov. 2023 17:24" or an ISO stamp "2023-11-20", "2023-11-20 17:24", "2023-11-20T17:24"
_LAST_UPDATED = re.compile(
    rf"(?i)last\s+updated\s*:?\s*(?:(?P<d>\d{{1,2}})\s+(?P<mon>(?-i:{MON}))\s*,?\s*(?P<y>\d{{4}})"
    r"|(?P<iso_y>(?:19|20)\d\d)-(?P<iso_m>0[1-9]|1[0-2])-(?P<iso_d>0[1-9]|[12]\d|3[01])(?![\d-]))"
    r"(?:(?:\s*,?\s*|T)(?P<hm>\d{1,2}:\d{2}))?")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SAYS_LAST_UPDATED = re.compile(r"(?i)last\s+updated")
# Markup that opens the document, and the end tags that close it (a truncated body has none).
_OPENED = re.compile(r"(?i)<(?:html|body)[\s>]")
_CLOSED = re.compile(r"(?i)</(?:body|html)\s*>")
_COMMANDERS_HEADING = re.compile(r"(?i)\bcommanders\b|\bcommanders? of kfor\b|\bcomkfors?\b")
# "NATO - Topic: NATO's role in Kosovo", and older pages' "NATO Topics: NATO's role in Kosovo" (L3)
_TITLE_PREFIX = re.compile(r"^(?:NATO\s*[-:|\u2013]\s*|NATO\s+(?=Topics\s*:))?(?:Topics?\s*:\s*)?")


@dataclass(frozen=True)
class Requirements:
    """L1: the parts a version must have besides a readable title."""

    name: str
    last_updated: bool  # parse:last_updated_missing
    commanders: bool  # parse:commanders_missing, parse:commanders_empty
    today_figure: bool  # parse:today_figure_missing, parse:today_figure_ambiguous


LIVE = Requirements("live", last_updated=True, commanders=True, today_figure=False)
HISTORICAL = Requirements("historical", last_updated=False, commanders=False, today_figure=True)


def parse_page(body: bytes, content_type: str | None, reference: Reference,
               requirements: Requirements = LIVE) -> ParsedPage:
    """Parse one version of the page. Raises ParseError (with a named check) when the body is not
    the page or a part `requirements` names is missing; never returns an empty success. The
    requirements choose checks only: what is read, and so the version key, is the same (L2)."""
    text = decode(body, content_type)  # its errors are the bytes' own (binary, a charset)
    try:
        page, doc, root = _parse_text(text, reference, requirements)
    except ParseError as error:
        if _unterminated(text):  # the missing part is most likely the part that never came
            raise _truncated(body, text, f"{error.check}: {error.message}") from None
        raise
    if _unterminated(text) and _ends_inside(doc, root):
        raise _truncated(body, text, "the document ends inside the article")
    return page


def _unterminated(text: str) -> bool:
    """The document opens <html> or <body> but closes neither: the body was cut off."""
    return bool(_OPENED.search(text)) and not _CLOSED.search(text)


def _truncated(body: bytes, text: str, cause: str) -> ParseError:
    return ParseError("truncated", f"the page looks truncated: its {len(body)} bytes end with "
                                   f"{text[-40:]!r} and no </body> or </html>; {cause[:300]}")


def _parse_text(text: str, reference: Reference,
                requirements: Requirements) -> tuple[ParsedPage, Tag, Tag]:
    """The page, the document's root element and the article's."""
    soup = parse_tree(text)
    doc = root_element(soup)
    marks = landmarks(soup)
    title = _title(marks)
    root = article_root(doc, marks)
    content = blocks(root)
    last_updated, content = _last_updated(content)
    if root is not body_of(doc) and (last_updated is None
                                     or len(_SAYS_LAST_UPDATED.findall(text)) > 1):
        # some templates put the date line in a header outside the article element (D6: one
        # that contradicts the article's stamp is refused)
        last_updated = last_updated or _last_updated(blocks(doc))[0]
    # One line per text line, not per block: <br> lines, table cells and paragraph pairs that say
    # the same thing give the same article text, and so the same version key.
    article_text = "\n".join([title, *(line for b in content for line in b.lines)])
    if last_updated:
        article_text = f"{title}\nLast updated: {last_updated}\n" + article_text.partition("\n")[2]
    elif requirements.last_updated:
        raise ParseError("last_updated_missing", "the page states no 'Last updated' date")

    grouped = _sections(title, content)
    commander_sections = [g for g in grouped if g[0].level > 1
                          and _COMMANDERS_HEADING.search(g[0].heading)]
    if not commander_sections and requirements.commanders:
        headings = ", ".join(repr(g[0].heading) for g in grouped[1:]) or "none"
        raise ParseError("commanders_missing",
                         f"no section heading names the commanders (headings: {headings})")
    dates_first = bool(commander_sections) and dates_first_rows(_table_rows(root), reference)
    commanders = _commanders(commander_sections, dates_first, reference, requirements)

    prose = [(s.heading_path, [b.text for b in bs]) for s, bs in grouped
             if (s, bs) not in commander_sections]
    figures, events = parse_prose(prose)
    if requirements.today_figure:
        _check_today_figure(figures)
    return ParsedPage(
        content_sha256=hashlib.sha256(article_text.encode("utf-8")).hexdigest(),
        title=title, last_updated_text=last_updated, article_text=article_text,
        sections=tuple(s for s, _ in grouped), commanders=tuple(commanders),
        troop_figures=tuple(figures), events=tuple(events)), doc, root


def _commanders(commander_sections, dates_first: bool, reference: Reference,
                requirements: Requirements) -> list:
    """The commanders of every commanders section, numbered as one list. L1: a list that is there
    must read whole; a historical version's section that lists no one is no list."""
    commanders = []
    for section, section_blocks in commander_sections:
        lines = [line for b in section_blocks for line in b.lines]
        try:
            commanders.extend(parse_commanders(lines, section.heading_path, reference,
                                               dates_first))
        except ParseError as e:
            if e.check != "commanders_empty" or requirements.commanders:
                raise
    if len(commander_sections) > 1:  # one numbering across the lists
        commanders = [c.__class__(**{**c.__dict__, "ordinal": i})
                      for i, c in enumerate(commanders, start=1)]
    return commanders


def _table_rows(root: Tag) -> list[list[str]]:
    """The text of each table row's cells, for C3 (the blocks keep cells, not rows)."""
    return [[clean(text_of(cell)) for cell in row.find_all(("td", "th"), recursive=False)]
            for row in root.find_all("tr")]


def _check_today_figure(figures: list[TroopFigure]) -> None:
    """L1: a historical version states KFOR's reported figure for today exactly once (T6)."""
    today = [f for f in figures
             if f.force == "KFOR" and f.figure_type == "reported" and f.period_text == "today"]
    if not today:
        raise ParseError("today_figure_missing",
                         "the page states no figure of KFOR's strength today")
    if len(today) > 1:
        stated = "; ".join(f"{f.troops_text} in {f.source_text!r}" for f in today)
        raise ParseError("today_figure_ambiguous",
                         f"the page states KFOR's strength today {len(today)} times: {stated}"[:500])


def _title(marks: Landmarks) -> str:
    for node in marks.h1:
        text = clean(text_of(node))
        if text:
            return text
    text = _TITLE_PREFIX.sub("", clean(text_of(marks.title))) if marks.title else ""
    if not text:
        raise ParseError("title_missing", "the page has neither an <h1> nor a <title>")
    return text


def _last_updated(content: list[Block]) -> tuple[str | None, list[Block]]:
    """The page's own "Last updated" date, canonical "20 Nov 2023 17:24", and the blocks without
    the lines of its first statement. D6: every stamp the blocks state must agree."""
    stamps = [_stamp(m) for block in content if _SAYS_LAST_UPDATED.search(block.text)
              for m in _LAST_UPDATED.finditer(block.text)]
    for i, block in enumerate(content):
        if _LAST_UPDATED.search(block.text):
            rest = tuple(line for line in block.lines if not _LAST_UPDATED.search(line))
            kept = content[:i] + ([Block(block.kind, block.level, rest)] if rest else []) \
                + content[i + 1:]
            return _the_one_stamp(stamps), kept
    return None, content


def _stamp(m: re.Match) -> str:
    if m.group("iso_y"):
        stamp = f"{m.group('iso_d')} {_MONTH_ABBR[int(m.group('iso_m')) - 1]} {m.group('iso_y')}"
    else:
        stamp = f"{int(m.group('d')):02d} {month_abbr(m.group('mon'))} {m.group('y')}"
    if m.group("hm"):
        hour, minute = m.group("hm").split(":")
        stamp += f" {int(hour):02d}:{minute}"
    return stamp


def _the_one_stamp(stamps: list[str]) -> str | None:
    """D6: stamps that agree are one (the same day with and without its time: the one with it);
    two that differ are refused."""
    if not stamps:
        return None
    finest = max(stamps, key=len)
    for stamp in stamps:
        if not finest.startswith(stamp):
            first, second = sorted((finest, stamp), key=stamps.index)
            raise ParseError("last_updated_conflict", f"the page states two different 'Last "
                                                      f"updated' dates: {first!r} and {second!r}")
    return finest


def _ends_inside(doc: Tag, root: Tag) -> bool:
    """Whether the last text of the document (scripts and styles aside) is the article's: inside
    root, or in the text that follows it up to the next element (which blocks() reads too)."""
    for node in reversed(list(doc.descendants)):
        if is_text(node) and node.strip() and node.parent.name not in ("script", "style"):
            return root in node.parents or _in_tail(node, root)
    return False


def _in_tail(node, root: Tag) -> bool:
    for sibling in root.next_siblings:
        if isinstance(sibling, Tag):
            return False
        if sibling is node:
            return True
    return False


def _sections(title: str, content: list[Block]) -> list[tuple[Section, list[Block]]]:
    """Group blocks under headings. The lead (before the first heading below the title) is titled
    by the page; heading paths join levels with " > "."""
    out: list[tuple[Section, list[Block]]] = []
    current = Section(0, 1, title, title, "")
    current_blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    seen_title = False
    for block in content:
        if block.kind != "heading":
            current_blocks.append(block)
            continue
        if block.level == 1 and not seen_title and block.text == title:
            seen_title = True
            continue
        out.append((current, current_blocks))
        level = max(2, block.level)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, block.text))
        current = Section(len(out), level, block.text, " > ".join(h for _, h in stack), "")
        current_blocks = []
    out.append((current, current_blocks))
    return [(Section(s.ordinal, s.level, s.heading, s.heading_path,
                     "\n".join(line for b in bs for line in b.lines)), bs) for s, bs in out]
