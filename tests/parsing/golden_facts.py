"""The golden file, and the little of its date grammar (D2) and merge rule (E3) that the
parser-level comparison needs. The warehouse does the same in dbt SQL; this copy only serves the
tests."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from functools import cache

import yaml
from variants import GOLDEN_PATH

PAGE_DATE = dt.date(2023, 11, 20)  # D1: the page's own "Last updated" date
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
# D2: parts of a year and (meteorological, northern) seasons as (first month, last month).
_PARTS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12), "end of": (10, 12),
          "beginning of": (1, 3), "spring": (3, 5), "summer": (6, 8), "autumn": (9, 11)}


class _Yaml12Bools(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false. Under YAML 1.1 (PyYAML's default) the
    golden file's unquoted nation code NO (Norway) would load as False."""


_Yaml12Bools.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Bools.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"),
                                   list("tf"))


@cache
def golden() -> dict:
    with open(GOLDEN_PATH, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Yaml12Bools)  # a SafeLoader: as safe as yaml.safe_load


def list_date(text: str | None) -> dt.date | None:
    """A commanders-list date as the parser writes it ("09 Jun 1999") -> date."""
    return None if text is None else dt.datetime.strptime(text, "%d %b %Y").date()


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_bounds(text: str, page_date: dt.date = PAGE_DATE) -> tuple[dt.date, dt.date]:
    """First and last day of a period expression of the parser's canonical grammar."""
    if text == "today":
        return page_date, page_date
    if m := re.fullmatch(r"(\d{1,2})(?:-(\d{1,2}))? ([A-Z][a-z]{2}) (\d{4})", text):
        year, month = int(m[4]), _MONTHS[m[3]]
        return dt.date(year, month, int(m[1])), dt.date(year, month, int(m[2] or m[1]))
    if m := re.fullmatch(r"([A-Z][a-z]{2}) (\d{4})", text):
        year, month = int(m[2]), _MONTHS[m[1]]
        return dt.date(year, month, 1), _month_end(year, month)
    if m := re.fullmatch(r"(early|mid|late|end of|beginning of|spring|summer|autumn) (\d{4})",
                         text):
        year, (first, last) = int(m[2]), _PARTS[m[1]]
        return dt.date(year, first, 1), _month_end(year, last)
    if m := re.fullmatch(r"winter (\d{4})", text):
        return dt.date(int(m[1]), 12, 1), _month_end(int(m[1]) + 1, 2)
    if re.fullmatch(r"\d{4}", text):
        return dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    raise ValueError(f"not a period of the parser's grammar: {text!r}")


def nested(a: str, b: str) -> bool:
    """E3: equal periods, or one inside the other."""
    (a0, a1), (b0, b1) = period_bounds(a), period_bounds(b)
    return (a0 <= b0 and b1 <= a1) or (b0 <= a0 and a1 <= b1)


def merged_event_count(mentions: list[tuple[str, str]]) -> int:
    """How many events E3 leaves of (event_type, period) statements: statements of one type whose
    periods are equal or nested are one event (transitively)."""
    groups: list[list[tuple[str, str]]] = []
    for mention in mentions:
        joined = [g for g in groups
                  if any(t == mention[0] and nested(p, mention[1]) for t, p in g)]
        merged = [mention] + [m for g in joined for m in g]
        groups = [g for g in groups if all(g is not j for j in joined)] + [merged]
    return len(groups)
