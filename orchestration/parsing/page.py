"""parse_page: the page's bytes in, typed records out. A pure function of the bytes, the content
type and the reference data passed in: no I/O, no clock. Which parts a version must have depends
on how it came in, a live refresh or an imported historical capture (rules L1-L3 of
docs/rules.md)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bs4 import Tag

from .commanders import Line, commander_lists, dates_first_rows, name_line, parse_commanders, present
from .dates import MON, list_range, month_abbr
from .document import (
    Block,
    Deadline,
    Landmarks,
    blocks,
    clean,
    decode,
    find_article,
    is_text,
    landmarks,
    parse_tree,
    root_element,
    text_of,
)
from .prose import parse_prose
from .records import ParsedPage, ParseError, Section, TroopFigure, figure_text
from .reference import Reference

# D6: "Last updated" and the day, month and year the site has written: "20 Nov. 2023 17:24",
# "05-Nov-2013 11:43", "16-Dec-2010 16:26", "Nov. 5, 2013" (with or without the time), or an ISO
# date "2023-11-20", "2023-11-20 17:24", "2023-11-20T17:24"; seconds, if any, are dropped.
_LAST_UPDATED = re.compile(
    rf"(?i)last\s+updated\s*(?:on\s+)?:?\s*(?:(?P<d>\d{{1,2}})(?:\s+|\s*[-/]\s*)(?P<mon>(?-i:{MON}))"
    r"(?:\s*[-/,]\s*|\s+)?(?P<y>\d{4})"
    rf"|(?P<mon2>(?-i:{MON}))\s*(?P<d2>\d{{1,2}}),?\s+(?P<y2>\d{{4}})"
    r"|(?P<iso_y>(?:19|20)\d\d)-(?P<iso_m>0[1-9]|1[0-2])-(?P<iso_d>0[1-9]|[12]\d|3[01])(?![\d-]))"
    r"(?:(?:\s*,?\s*|T)(?P<hm>\d{1,2}:\d{2})(?::\d{2})?)?")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SAYS_LAST_UPDATED = re.compile(r"(?i)last\s+updated")
# Markup that opens the document, and the end tags that close it (a truncated body has none).
_OPENED = re.compile(r"(?i)<(?:html|body)[\s>]")
_CLOSED = re.compile(r"(?i)</(?:body|html)\s*>")
_COMMANDERS_HEADING = re.compile(r"(?i)\bcommanders\b|\bcommanders? of kfor\b|\bcomkfors?\b")
# "NATO - Topic: NATO's role in Kosovo", and older pages' "NATO Topics: NATO's role in Kosovo" (L3)
_TITLE_PREFIX = re.compile(r"^(?:NATO\s*[-:|\u2013]\s*|NATO\s+(?=Topics\s*:))?(?:Topics?\s*:\s*)?")
_SITE_NAME = re.compile(r"\s*[-:|\u2013]\s*\S")  # what follows the site's name in a <title>
# L5: a heading written as a short block of bold text.
_HEADING_CHARACTERS = 100
_HEADING_WORDS = 12
_NOT_A_HEADING_END = (".", ",", ";")
# L6: the parse's deadline; a page of 1 MB parses in well under 2 s.
PARSE_DEADLINE = 20.0


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
               requirements: Requirements = LIVE,
               deadline: float | None = PARSE_DEADLINE) -> ParsedPage:
    """Parse one version of the page. Raises ParseError (with a named check) when the body is not
    the page or a part `requirements` names is missing; never returns an empty success. The
    requirements choose checks only: what is read, and so the version key, is the same (L2).
    `deadline` (seconds, None for none) bounds the parse (L6)."""
    clock = Deadline(deadline)
    text = decode(body, content_type)  # its errors are the bytes' own (binary, a charset)
    try:
        page, doc, root = _parse_text(text, reference, requirements, clock)
    except ParseError as error:
        # the missing part is most likely the part that never came (the limits of L6 aside)
        if error.check not in _LIMITS and _unterminated(text):
            raise _truncated(body, text, f"{error.check}: {error.message}") from None
        raise
    if _unterminated(text) and _ends_inside(doc, root):
        raise _truncated(body, text, "the document ends inside the article")
    return page


_LIMITS = {"too_many_elements", "nesting_too_deep", "parse_deadline"}


def _unterminated(text: str) -> bool:
    """The document opens <html> or <body> but closes neither: the body was cut off."""
    return bool(_OPENED.search(text)) and not _CLOSED.search(text)


def _truncated(body: bytes, text: str, cause: str) -> ParseError:
    return ParseError("truncated", f"the page looks truncated: its {len(body)} bytes end with "
                                   f"{text[-40:]!r} and no </body> or </html>; {cause[:300]}")


def _parse_text(text: str, reference: Reference, requirements: Requirements,
                clock: Deadline) -> tuple[ParsedPage, Tag, Tag]:
    """The page, the document's root element and the article's."""
    soup = parse_tree(text)
    doc = root_element(soup)
    marks = landmarks(soup, clock)
    title = _title(marks)
    article = find_article(doc, marks, title, lambda text: bool(
        name_line(text, reference) or list_range(text)))  # never a commander's linked name
    content = blocks(article.root, article.start, article.skip, clock)
    last_updated, content = _last_updated(content)
    if last_updated is None or len(_SAYS_LAST_UPDATED.findall(text)) > 1:
        # some templates put the date line outside the article (a header, a footer, before the
        # <h1>); D6: one that contradicts the article's stamp is refused
        whole = _last_updated(blocks(doc, deadline=clock))[0]  # raises if two disagree
        last_updated = last_updated or whole
    # One line per text line, not per block: <br> lines, table cells and paragraph pairs that say
    # the same thing give the same article text, and so the same version key.
    article_text = "\n".join([title, *(line for b in content for line in b.lines)])
    if last_updated:
        article_text = f"{title}\nLast updated: {last_updated}\n" + article_text.partition("\n")[2]
    elif requirements.last_updated:
        raise ParseError("last_updated_missing", "the page states no 'Last updated' date")

    content = _structural_headings(content, title, reference)
    grouped, section_of = _sections(title, content)
    commanders, listed = _commanders(content, grouped, section_of, reference, requirements)
    named = {i for i, (s, _) in enumerate(grouped)
             if s.level > 1 and _COMMANDERS_HEADING.search(s.heading)}
    prose = _prose(content, grouped, section_of, named, listed)
    clock.check("reading the commanders")
    figures, events = parse_prose(prose, clock)
    if requirements.today_figure:
        _check_today_figure(figures)
    return ParsedPage(
        content_sha256=hashlib.sha256(article_text.encode("utf-8")).hexdigest(),
        title=title, last_updated_text=last_updated, article_text=article_text,
        sections=tuple(s for s, _ in grouped), commanders=tuple(commanders),
        troop_figures=tuple(figures), events=tuple(events)), doc, article.root


def _commanders(content: list[Block], grouped, section_of: list[int], reference: Reference,
                requirements: Requirements) -> tuple[list, set[int]]:
    """C4: every commanders list, found by its shape wherever it stands, numbered as one list;
    and the positions of the lines they span (no prose). L1: a list that is there must read
    whole; without one, a live page is refused, a historical capture has no commanders."""
    lines, position = [], 0
    for block in content:
        for line in block.lines:
            lines.append(Line(line, position, block.kind == "heading", block.row))
            position += 1
    block_of = [i for i, block in enumerate(content) for _ in block.lines]
    found = commander_lists(lines, reference)
    if not found:
        if requirements.commanders:
            named = [s.heading for s, _ in grouped
                     if s.level > 1 and _COMMANDERS_HEADING.search(s.heading)]
            if named:
                raise ParseError("commanders_empty", f"the section {named[0]!r} lists no "
                                                     "commanders")
            headings = ", ".join(repr(g[0].heading) for g in grouped[1:]) or "none"
            raise ParseError("commanders_missing",
                             "no commanders list (a name line with rank, NATO nation code and "
                             "service letter, then its dates) and no section heading names the "
                             f"commanders (headings: {headings})")
        return [], set()
    commanders = []
    for found_list in found:
        section = grouped[section_of[block_of[found_list.first]]][0].heading_path
        commanders.extend(parse_commanders(list(found_list.lines), section, reference,
                                           dates_first_rows(found_list.rows, reference)))
    if len(found) > 1:  # one numbering across the lists
        commanders = [c.__class__(**{**c.__dict__, "ordinal": i})
                      for i, c in enumerate(commanders, start=1)]
    listed = {p for f in found for p in range(f.first, f.last + 1)}
    return commanders, listed


def _prose(content: list[Block], grouped, section_of: list[int], named: set[int],
           listed: set[int]) -> list[tuple[str, list[str]]]:
    """(heading path, paragraphs) of the prose: every section but those a heading names as the
    commanders', without the lines of a commanders list (C4)."""
    paragraphs: dict[int, list[str]] = {i: [] for i in range(len(grouped))}
    position = 0
    for i, block in enumerate(content):
        section = section_of[i]
        if block.kind == "heading" or section in named:
            position += len(block.lines)
            continue
        kept = [line for k, line in enumerate(block.lines, start=position) if k not in listed]
        position += len(block.lines)
        if kept:
            paragraphs[section].append(" ".join(kept))
    return [(s.heading_path, paragraphs[i]) for i, (s, _) in enumerate(grouped) if i not in named]


def _structural_headings(content: list[Block], title: str, reference: Reference) -> list[Block]:
    """L5: a heading is an <h1>-<h6> (or an ARIA heading), or a short block of nothing but bold
    text followed by body text, or by such a heading (a section and its first subsection); one
    level below the <h*> before it (2 under the title). A bold block that says the title is the
    title."""
    cells_per_row: dict[int, int] = {}
    for block in content:
        if block.row:
            cells_per_row[block.row] = cells_per_row.get(block.row, 0) + 1
    candidates = [_bold_heading(b, cells_per_row, reference) for b in content]
    heading = [False] * len(content)
    for i in range(len(content) - 2, -1, -1):  # from the end: what follows decides
        following = content[i + 1]
        heading[i] = candidates[i] and (heading[i + 1] or (following.kind != "heading"
                                                           and not candidates[i + 1]))
    out, level = [], 1
    for i, block in enumerate(content):
        if block.kind == "heading":
            level = block.level
        elif candidates[i] and block.text == title:
            block = Block("heading", 1, block.lines, block.bold, block.row)
        elif heading[i]:
            block = Block("heading", min(6, max(2, level + 1)), block.lines, block.bold, block.row)
        out.append(block)
    return out


def _bold_heading(block: Block, cells_per_row: dict[int, int], reference: Reference) -> bool:
    """L5: whether a block could be a heading written in bold: one short line of bold text, not a
    sentence, a name line, a date line or the stamp; a table cell only when it fills its row."""
    if not block.bold or len(block.lines) != 1 or block.kind not in ("para", "cell"):
        return False
    if block.kind == "cell" and cells_per_row.get(block.row, 0) != 1:
        return False
    text = block.lines[0]
    return (len(text) <= _HEADING_CHARACTERS and len(text.split()) <= _HEADING_WORDS
            and not text.endswith(_NOT_A_HEADING_END) and any(c.isalpha() for c in text)
            and not name_line(text, reference) and not list_range(text)
            and not present(text) and not _SAYS_LAST_UPDATED.search(text))


def _check_today_figure(figures: list[TroopFigure]) -> None:
    """L1: a historical version states KFOR's reported figure for today, one figure (T6): the
    same figure stated twice (the highlights and the text) is one."""
    today = [f for f in figures
             if f.force == "KFOR" and f.figure_type == "reported" and f.period_text == "today"]
    if not today:
        raise ParseError("today_figure_missing",
                         "the page states no figure of KFOR's strength today")
    if len({figure_text(f) for f in today}) > 1:
        stated = "; ".join(f"{figure_text(f)} in {f.source_text!r}" for f in today)
        raise ParseError("today_figure_ambiguous",
                         f"the page states KFOR's strength today {len(today)} times: {stated}"[:500])


def _title(marks: Landmarks) -> str:
    """The page's <h1> (L4: the first that is not a link), else any <h1>, else its <title>
    without the site's prefix (L3). An <h1> that is the site's name, the start of the <title>
    ("NATO Topics" of "NATO Topics: NATO's role in Kosovo"), gives way to the <title>'s rest."""
    heading = marks.heading()
    named = clean(text_of(marks.title)) if marks.title else ""
    stripped = _TITLE_PREFIX.sub("", named)
    for node in ([heading] if heading is not None else []) + marks.h1:
        text = clean(text_of(node))
        if text:
            if (stripped and not stripped.startswith(text) and named.startswith(text)
                    and _SITE_NAME.match(named[len(text):])):
                return stripped
            return text
    if not stripped:
        raise ParseError("title_missing", "the page has neither an <h1> nor a <title>")
    return stripped


def _last_updated(content: list[Block]) -> tuple[str | None, list[Block]]:
    """The page's own "Last updated" date, canonical "20 Nov 2023 17:24", and the blocks without
    the lines of its first statement. D6: every stamp the blocks state must agree."""
    stamps = [_stamp(m) for block in content if _SAYS_LAST_UPDATED.search(block.text)
              for m in _LAST_UPDATED.finditer(block.text)]
    for i, block in enumerate(content):
        if _LAST_UPDATED.search(block.text):
            rest = tuple(line for line in block.lines if not _LAST_UPDATED.search(line))
            kept = content[:i] + ([Block(block.kind, block.level, rest, block.bold, block.row)]
                                  if rest else []) + content[i + 1:]
            return _the_one_stamp(stamps), kept
    return None, content


def _stamp(m: re.Match) -> str:
    if m.group("iso_y"):
        stamp = f"{m.group('iso_d')} {_MONTH_ABBR[int(m.group('iso_m')) - 1]} {m.group('iso_y')}"
    elif m.group("d2"):
        stamp = f"{int(m.group('d2')):02d} {month_abbr(m.group('mon2'))} {m.group('y2')}"
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
            return any(parent is root for parent in node.parents) or _in_tail(node, root)
    return False


def _in_tail(node, root: Tag) -> bool:
    for sibling in root.next_siblings:
        if isinstance(sibling, Tag):
            return False
        if sibling is node:
            return True
    return False


def _sections(title: str, content: list[Block]
              ) -> tuple[list[tuple[Section, list[Block]]], list[int]]:
    """Group blocks under headings. The lead (before the first heading below the title) is titled
    by the page; heading paths join levels with " > ". Also the section of each block (a
    heading's: the one it opens)."""
    out: list[tuple[Section, list[Block]]] = []
    section_of: list[int] = []
    current = Section(0, 1, title, title, "")
    current_blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    seen_title = False
    for block in content:
        if block.kind != "heading":
            current_blocks.append(block)
            section_of.append(len(out))
            continue
        if not seen_title and block.text == title:  # the title's heading (an <h2> under a site
            # name's <h1>, L4) opens no section
            seen_title = True
            section_of.append(len(out))
            continue
        out.append((current, current_blocks))
        section_of.append(len(out))
        level = max(2, block.level)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, block.text))
        current = Section(len(out), level, block.text, " > ".join(h for _, h in stack), "")
        current_blocks = []
    out.append((current, current_blocks))
    return [(Section(s.ordinal, s.level, s.heading, s.heading_path,
                     "\n".join(line for b in bs for line in b.lines)), bs)
            for s, bs in out], section_of
