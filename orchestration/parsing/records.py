"""Typed records the parser returns. Dates and numbers stay as the page writes them (normalised
text expressions); the dbt staging/intermediate SQL turns them into dates and integers."""

from __future__ import annotations

from dataclasses import dataclass, field

PARSER_VERSION = "1"


class ParseError(ValueError):
    """The body cannot be read as the KFOR topic page. `check` names the failed check."""

    def __init__(self, check: str, message: str):
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message


@dataclass(frozen=True)
class Section:
    ordinal: int
    level: int
    heading: str
    heading_path: str  # " > " between levels; the lead is titled by the page
    text: str


@dataclass(frozen=True)
class Commander:
    ordinal: int  # 1 = first line of the list
    rank: str | None  # as NATO abbreviates it ("Lt. Gen."); None if no known rank leads the line
    honorific: str | None
    full_name: str
    nation_code: str
    service_code: str
    start_text: str  # "09 Jun 1999"
    end_text: str | None  # None = "present"
    section: str
    source_text: str


@dataclass(frozen=True)
class TroopFigure:
    ordinal: int
    force: str | None
    figure_type: str  # reported | authorised | mandated_maximum
    personnel: str  # troops | active | reserve | staff
    troops_text: str | None  # "4,500"; None for a range (T8)
    approximation: str  # approximately | around | some | ... | exact | range (T8)
    period_text: str | None  # "Jun 2003", "early 2002", "today" ...
    date_rule: str  # which step of rule T3 (docs/rules.md) gave the period
    contributing_nations_text: str | None
    section: str
    source_text: str
    # T8: a range's ends ("between 4,500 and 5,000"), None otherwise. Appended last: a raw table
    # written before them gains the columns at its end (orchestration/raw_tables.py).
    troops_low_text: str | None = None
    troops_high_text: str | None = None


def figure_text(figure: TroopFigure) -> str:
    """How a figure reads in a message: "4,500", or "4,500 to 5,000" for a range (T8)."""
    if figure.troops_text is None:
        return f"{figure.troops_low_text} to {figure.troops_high_text}"
    return figure.troops_text


@dataclass(frozen=True)
class EventMention:
    """One dated statement. Statements of the same event are merged in dbt (int_events)."""

    ordinal: int
    event_type: str
    period_text: str
    section: str
    source_text: str


@dataclass(frozen=True)
class ParsedPage:
    content_sha256: str
    title: str
    last_updated_text: str | None  # "20 Nov 2023 17:24"; None: a historical version without one (L1)
    article_text: str
    parser_version: str = PARSER_VERSION
    sections: tuple[Section, ...] = field(default=())
    commanders: tuple[Commander, ...] = field(default=())
    troop_figures: tuple[TroopFigure, ...] = field(default=())
    events: tuple[EventMention, ...] = field(default=())
