"""The commanders list: a name line ("Lt. Gen. Sir Michael Jackson, UK A") and a date line
("09 Jun 1999 - 08 Oct 1999"), whether they come as paragraph pairs, <br> lines, table cells or
one list item (rule C1 of docs/rules.md), name first or dates first (C3), found by its shape
wherever it stands (C4). Rank, nation and service are kept as written; dbt checks them against
the seeds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import MON, PRESENT, RANGE_IN_TEXT, list_date, list_range
from .records import Commander, ParseError
from .reference import Reference

# C1: who, then the NATO nation code and the service letter ("UK A", "(GE A)", "- IT A", "SP/A"),
# then nothing, the dates, or a remark in brackets. What follows the code must look like dates
# or a bracket, so "JOHN SMITH, UK A" is not read as "JO HN" after "Lt. Gen.".
_NAME = re.compile(
    r"^(?P<who>[^,()\d]+?)(?:\s*[,(:;|\u2013\u2014]\s*|\s+(?:-\s+)?)(?P<nation>[A-Z]{2})"
    r"[\s/,-]+(?P<service>[A-Z]{1,2})\b\s*\)?"
    rf"(?:\s*[,:;|\u2013\u2014-]?\s*(?P<rest>(?:[\d(\[]|[Ss]ince\b|{MON}).*))?$")
_REMARK = re.compile(r"[(\[][^()\[\]]{1,40}[)\]]\.?")  # "(acting)"
_HONORIFICS = ("Sir", "Dame")
_DOT_BEFORE_LETTER = re.compile(r"\.(?=[A-Za-z])")
_A_CODE = re.compile(r"[A-Z]{2}[\s/,-]+[A-Z]{1,2}\b")  # a pre-check: a name line has one
_PROSE_WORDS = 6  # C4: a line of this many words that is no list line ends a list


def parse_commanders(lines: list[str], section: str, reference: Reference,
                     dates_first: bool = False) -> list[Commander]:
    """Commanders in list order; `dates_first` for a table that gives each commander's dates
    before his name (C3, see dates_first_rows). Raises ParseError when a name has no dates, dates
    have no name, or the list yields nothing."""
    names = [name_line(line, reference) for line in lines]
    if dates_first:
        lines, names = _names_first(lines, names)
    found: list[Commander] = []
    pending: dict | None = None

    def finish(p: dict) -> None:
        if dates_first:  # the source text in the page's order
            p["lines"] = p["lines"][1:] + p["lines"][:1]
        found.append(_commander(len(found) + 1, p, section))

    for i, line in enumerate(lines):
        on_the_name_line = False
        if names[i]:
            name, who = names[i]
            if pending:
                raise ParseError("commander_without_dates",
                                 f"no dates follow the commander line {pending['lines'][0]!r}")
            pending = {"m": name, "who": who, "lines": [line], "start": None, "end": None}
            rest = name.group("rest")
            if rest is None:
                continue
            line, on_the_name_line = rest, True
        # "present" alone ends a tenure whose start came in its own cell; it starts none.
        dates = list_range(line) or (present(line) if pending and pending["start"] else None)
        if dates is None:
            continue
        if pending is None:
            after = (f"follow {lines[i - 1]!r}, which is not a commander line" if i
                     else "come before any commander line")
            raise ParseError("commander_dates_without_name", f"the dates {line!r} {after}")
        if not on_the_name_line and line not in pending["lines"]:
            pending["lines"].append(line)
        start, end, complete = dates
        if pending["start"] is None:
            pending["start"], pending["end"] = start, end
            if complete:
                finish(pending)
                pending = None
        else:  # start and end in separate cells or lines
            pending["end"] = start
            finish(pending)
            pending = None
    if pending:
        if pending["start"] is not None:
            finish(pending)  # a lone start date at the end of the list: in office
        else:
            raise ParseError("commander_without_dates",
                             f"no dates follow the commander line {pending['lines'][0]!r}")
    if not found:
        raise ParseError("commanders_empty", f"the section {section!r} lists no commanders")
    return found


def name_line(line: str, reference: Reference) -> tuple[re.Match, tuple] | None:
    """A name line's match and (rank, honorific, name). A name line names someone: not a date,
    not a bare rank ("Maj. Gen., UK A"), a name whose first and last words are capitalised, and
    nothing after the code but dates or a remark in brackets."""
    name = _NAME.match(line)
    if not name or list_date(name.group("who")):
        return None
    rest = name.group("rest")
    if rest is not None and not (list_range(rest) or _REMARK.fullmatch(rest)):
        return None
    who = split_name(name.group("who"), reference)
    return (name, who) if _a_person(who) else None


def _a_person(who: tuple[str | None, str | None, str]) -> bool:
    rank, _, name = who
    words = name.split()
    return (bool(words) and len(words) <= 8 and (rank is not None or len(words) >= 2)
            and words[0][:1].isupper() and words[-1].lstrip("'\"(").strip()[:1].isupper())


def dates_first_rows(rows: list[list[str]], reference: Reference) -> bool:
    """C3: table rows (their cells' text) give the dates first when a row has a date cell before
    its name cell and no row has a name cell before a date cell. Only the rows tell: in a list of
    lines, a missing first name would shift every commander onto the previous one's dates."""
    orders = set()
    for cells in rows:
        kinds = ["name" if name_line(c, reference) else "dates" if list_range(c) else None
                 for c in cells]
        if "name" in kinds and "dates" in kinds:
            orders.add(kinds.index("dates") < kinds.index("name"))
    return orders == {True}


def _names_first(lines: list[str], names: list) -> tuple[list[str], list]:
    """C3: a dates-first list reordered name first: the date lines before a name line are its."""
    out: list[tuple[str, object]] = []
    dates: list[str] = []
    for line, name in zip(lines, names, strict=True):
        if name:
            if not dates:
                raise ParseError("commander_without_dates",
                                 f"no dates come before the commander line {line!r} (the list "
                                 "gives the dates first)")
            out += [(line, name), *((d, None) for d in dates)]
            dates = []
        elif list_range(line) or present(line):
            dates.append(line)
    if dates:
        raise ParseError("commander_dates_without_name",
                         f"the dates {dates[0]!r} come after the last commander line (the list "
                         "gives the dates first)")
    return [line for line, _ in out], [name for _, name in out]


def present(line: str):
    return (None, None, True) if PRESENT.match(line.strip(" .")) else None


def _commander(ordinal: int, p: dict, section: str) -> Commander:
    m = p["m"]
    rank, honorific, name = p["who"]
    return Commander(
        ordinal=ordinal, rank=rank, honorific=honorific, full_name=name,
        nation_code=m.group("nation"), service_code=m.group("service"),
        start_text=p["start"], end_text=p["end"], section=section,
        source_text=" | ".join(p["lines"]))


def split_name(who: str, reference: Reference) -> tuple[str | None, str | None, str]:
    """"Lt. Gen. Sir Michael Jackson" -> ("Lt. Gen.", "Sir", "Michael Jackson")."""
    who = _DOT_BEFORE_LETTER.sub(". ", who.strip())  # "Lt.Gen." -> "Lt. Gen."
    rank = None
    spellings, pattern = reference.rank_pattern
    m = pattern.match(who)
    if m:
        rank, who = spellings[m.group(1).lower()], who[m.end():].strip()
    honorific = None
    first, _, rest = who.partition(" ")
    if first in _HONORIFICS and rest:
        honorific, who = first, rest
    return rank, honorific, who


# -- C4: the list by its shape, wherever it stands ----------------------------------------------

@dataclass(frozen=True)
class Line:
    """One line of the article for C4: its text, its position in the article's lines, whether it
    is a heading, and its table row (0 if it is not a table cell)."""

    text: str
    position: int
    heading: bool = False
    row: int = 0


@dataclass(frozen=True)
class CommanderList:
    """A commanders list found in the article: the lines it spans (positions, both ends
    included), the lines parse_commanders reads and the table rows they came in (for C3)."""

    first: int
    last: int
    lines: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def commander_lists(lines: list[Line], reference: Reference) -> list[CommanderList]:
    """C4: every run of name lines and date lines that names someone. A run ends at a line of
    prose that is neither (a heading does not end it: a list may have headings inside); short
    lines inside it (table headers, remarks) are skipped by parse_commanders. A run of dates
    alone is prose, unless the page has a list and the run holds a whole date line ("10 Oct 2023
    - present"): then it is a list that lost its names, and parse_commanders refuses it."""
    runs: list[list[tuple[Line, str, str]]] = []
    run: list[tuple[Line, str, str]] = []  # (line, unit text, kind) of the run being read

    def close():
        while run and run[-1][2] == "other":
            run.pop()
        names = [i for i, (_, _, kind) in enumerate(run) if kind == "name"]
        # dates before a heading that comes before the first name are not that list's
        cut = max((i for i, (line, _, kind) in enumerate(run[:names[0]])
                   if kind == "other" and line.heading), default=-1) if names else -1
        if cut >= 0:
            runs.append(run[:cut])
        runs.append(run[cut + 1:])
        run.clear()

    for line, text in _units(lines, reference):
        kind = ("name" if name_line(text, reference) else
                "dates" if list_range(text) or present(text) else "other")
        if kind != "other":
            run.append((line, text, kind))
        elif run and len(text.split()) >= _PROSE_WORDS and not line.heading:
            close()
        elif run:
            run.append((line, text, kind))
    if run:
        close()
    found = []
    has_names = any(kind == "name" for units in runs for _, _, kind in units)
    for units in runs:
        while units and units[0][2] == "other":
            units = units[1:]
        if not units:
            continue
        if not any(kind == "name" for _, _, kind in units) and not (
                has_names and any(_whole_date_line(text) for _, text, _ in units)):
            continue
        rows: dict[int, list[str]] = {}
        for line, text, _ in units:
            if line.row:
                rows.setdefault(line.row, []).append(text)
        found.append(CommanderList(units[0][0].position, units[-1][0].position,
                                   tuple(text for _, text, _ in units),
                                   tuple(tuple(cells) for cells in rows.values())))
    return found


def _whole_date_line(text: str) -> bool:
    dates = list_range(text)
    return dates is not None and dates[2]


def _units(lines: list[Line], reference: Reference):
    """(line, text) to read as list lines: each line, except a table row whose cells split a name
    line ("Lt. Gen." | "Sir Michael Jackson" | "UK" | "A" | dates), read as one name line and its
    date cells, and a line holding several entries ("<name> <dates> <name> <dates>"), read as
    its name and date lines."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.row:
            j = i
            while j < len(lines) and lines[j].row == line.row:
                j += 1
            yield from _row_units(lines[i:j], reference)
            i = j
            continue
        split = _entries(line.text, reference)
        yield from ((line, text) for text in split) if split else ((line, line.text),)
        i += 1


def _row_units(cells: list[Line], reference: Reference):
    texts = [c.text for c in cells]
    dates = [bool(list_range(t) or present(t)) for t in texts]
    if len(cells) > 1 and any(dates) and not any(name_line(t, reference) for t in texts):
        joined = " ".join(t for t, d in zip(texts, dates, strict=True) if not d)
        if name_line(joined, reference):
            first = dates.index(False)
            name = (cells[first], joined)
            date_units = [(c, t) for c, t, d in zip(cells, texts, dates, strict=True) if d]
            before = [u for u in date_units if u[0].position < cells[first].position]
            after = [u for u in date_units if u[0].position > cells[first].position]
            yield from (*before, name, *after)
            return
    yield from ((c, c.text) for c in cells)


def _entries(text: str, reference: Reference) -> list[str] | None:
    """A line holding one or more entries without breaks between them: its name and date lines,
    name first; None if it is not that."""
    if not _A_CODE.search(text) or name_line(text, reference) or list_range(text):
        return None
    ranges = list(RANGE_IN_TEXT.finditer(text))
    if not ranges:
        return None
    cuts = [0, *(p for m in ranges for p in m.span()), len(text)]
    segments = [text[cuts[k]:cuts[k + 1]].strip(" ,;:|()[]\u2013\u2014-.") for k in range(0, len(cuts), 2)]
    dates = [m.group(0) for m in ranges]
    if segments[0]:  # name first: name, dates, name, dates (nothing after the last dates)
        names, trailing = segments[:-1], segments[-1]
    else:  # dates first: dates, name, dates, name
        names, trailing = segments[1:], ""
    if trailing or not all(names) or not all(name_line(n, reference) for n in names):
        return None
    return [part for pair in zip(names, dates, strict=True) for part in pair]
