"""The commanders list: a name line ("Lt. Gen. Sir Michael Jackson, UK A") and a date line
("09 Jun 1999 - 08 Oct 1999"), whether they come as paragraph pairs, <br> lines, table cells or
one list item (rule C1 of docs/rules.md), name first or dates first (C3). Rank, nation and service
are kept as written; dbt checks them against the seeds."""

from __future__ import annotations

import re

from .dates import PRESENT, list_date, list_range
from .records import Commander, ParseError
from .reference import Reference

_NAME = re.compile(
    r"^(?P<who>[^,()\d]+?)\s*[,(]\s*(?P<nation>[A-Z]{2})[\s/-]*(?P<service>[A-Z]{1,2})\b\s*\)?"
    r"(?:\s*[,:;|\u2013\u2014-]?\s*(?P<rest>\S.*))?$")
_HONORIFICS = ("Sir", "Dame")
_DOT_BEFORE_LETTER = re.compile(r"\.(?=[A-Za-z])")


def parse_commanders(lines: list[str], section: str, reference: Reference,
                     dates_first: bool = False) -> list[Commander]:
    """Commanders in list order; `dates_first` for a table that gives each commander's dates
    before his name (C3, see dates_first_rows). Raises ParseError when a name has no dates, dates
    have no name, or the list yields nothing."""
    names = [_name_line(line, reference) for line in lines]
    if dates_first:
        lines, names = _names_first(lines, names)
    found: list[Commander] = []
    pending: dict | None = None

    def finish(p: dict) -> None:
        if dates_first:  # the source text in the page's order
            p["lines"] = p["lines"][1:] + p["lines"][:1]
        found.append(_commander(len(found) + 1, p, section))

    for i, line in enumerate(lines):
        if names[i]:
            name, who = names[i]
            if pending:
                raise ParseError("commander_without_dates",
                                 f"no dates follow the commander line {pending['lines'][0]!r}")
            pending = {"m": name, "who": who, "lines": [line], "start": None, "end": None}
            rest = name.group("rest")
            if rest is None:
                continue
            line = rest
        # "present" alone ends a tenure whose start came in its own cell; it starts none.
        dates = list_range(line) or (_present(line) if pending and pending["start"] else None)
        if dates is None:
            continue
        if pending is None:
            after = (f"follow {lines[i - 1]!r}, which is not a commander line" if i
                     else "come before any commander line")
            raise ParseError("commander_dates_without_name", f"the dates {line!r} {after}")
        if line not in pending["lines"]:
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


def _name_line(line: str, reference: Reference) -> tuple[re.Match, tuple] | None:
    """A name line's match and (rank, honorific, name). A name line names someone: not a date,
    not a bare rank ("Maj. Gen., UK A")."""
    name = _NAME.match(line)
    if not name or list_date(name.group("who")):
        return None
    who = split_name(name.group("who"), reference)
    return (name, who) if who[2] else None


def dates_first_rows(rows: list[list[str]], reference: Reference) -> bool:
    """C3: table rows (their cells' text) give the dates first when a row has a date cell before
    its name cell and no row has a name cell before a date cell. Only the rows tell: in a list of
    lines, a missing first name would shift every commander onto the previous one's dates."""
    orders = set()
    for cells in rows:
        kinds = ["name" if _name_line(c, reference) else "dates" if list_range(c) else None
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
        elif list_range(line) or _present(line):
            dates.append(line)
    if dates:
        raise ParseError("commander_dates_without_name",
                         f"the dates {dates[0]!r} come after the last commander line (the list "
                         "gives the dates first)")
    return [line for line, _ in out], [name for _, name in out]


def _present(line: str):
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
