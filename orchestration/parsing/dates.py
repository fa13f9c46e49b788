"""Date expressions in the page's prose and lists, normalised to a small canonical grammar that the
dbt macro `period_bounds` turns into start, end and precision:

    "12 Jun 1999"   "11-12 Jun 2009"   "30 Jun 2009 - 02 Jul 2009" (D7)   "Jun 1999"
    "early 2002" / "mid 2002" / "late 2002" / "end of 2003" / "beginning of 2003"
    "autumn 2023"   "2016"   "today"

Each keeps its precision (rule D2 of docs/rules.md); "by June 2003" is June 2003 (D4); a bare year
counts only after a preposition, so "Resolution 1244 (1999)" is no date (D5). Nothing here checks
the calendar: "31 Feb 2020" stays "31 Feb 2020" and fails a dbt check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

_MONTHS = {"jan": "Jan", "feb": "Feb", "mar": "Mar", "apr": "Apr", "may": "May", "jun": "Jun",
           "jul": "Jul", "aug": "Aug", "sep": "Sep", "oct": "Oct", "nov": "Nov", "dec": "Dec"}
# Capitalised month names only: "may" the verb is not May.
MON = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
       r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|JAN|FEB|MAR|APR|MAY|JUNE?"
       r"|JULY?|AUG|SEPT?|OCT|NOV|DEC)\b\.?")
YEAR = r"(?:19|20)\d{2}"
DASH = r"\s*(?:-|\u2010|\u2011|\u2012|\u2013|\u2014|\u2212|to|until)\s*"
DAY_DATE = rf"\d{{1,2}}\s+{MON}\s*,?\s*{YEAR}|{MON}\s+\d{{1,2}},?\s+{YEAR}"

_PATTERNS = [
    # D7: a range across months or years, "30 June - 2 July 2009", "30 Dec 2009 to 2 Jan 2010". It
    # comes first, so neither of its days is read as a date of its own.
    ("cross_range", re.compile(rf"(?P<d1>\d\d?)\s+(?P<mon1>{MON})(?:\s*,?\s*(?P<year1>{YEAR})\b)?"
                               rf"{DASH}(?P<d2>\d{{1,2}})\s+(?P<mon>{MON})"
                               rf"(?:\s*,?\s*(?P<year>{YEAR})\b)?")),
    # Day-first patterns start at a word boundary before a digit. They are written without the \b
    # and with \d\d? for \d{1,2}, so the engine can jump from digit to digit; _at_word_starts
    # checks the \b the way the engine would.
    ("day_range", re.compile(rf"(?P<d1>\d\d?)\s*[-\u2010-\u2014]\s*(?P<d2>\d{{1,2}})\s+"
                             rf"(?P<mon>{MON})(?:\s*,?\s*(?P<year>{YEAR})\b)?")),
    ("day", re.compile(rf"(?P<d1>\d\d?)\s+(?P<mon>{MON})(?:\s*,?\s*(?P<year>{YEAR})\b)?")),
    # Month-first patterns start without \b so the regex engine can skip to a month's first letter
    # (4x faster); find_dates checks the word boundary instead.
    ("day", re.compile(rf"(?P<mon>{MON})\s+(?P<d1>\d{{1,2}}),\s+(?P<year>{YEAR})\b")),
    ("part", re.compile(rf"(?i:\b(?P<part>early|mid|late|(?:the\s+)?(?:end|beginning|start|middle)"
                        rf"\s+of)[\s-]+)(?P<year>{YEAR})\b")),
    ("season", re.compile(rf"(?i:\b(?:the\s+)?(?P<season>spring|summer|autumn|fall|winter)"
                          rf"(?:\s+of)?\s+)(?P<year>{YEAR})\b")),
    ("month", re.compile(rf"(?P<mon>{MON})\s+(?P<year>{YEAR})\b")),
    # Found from the years it can end with: see _years_after_a_preposition.
    ("year", re.compile(rf"(?i:\b(?:in|during|throughout|since|by|from|until)\s+)"
                        rf"(?P<year>{YEAR})\b(?!\s*[-\u2013/]\s*\d)")),
]
_PREPOSITION_LENGTHS = (10, 6, 5, 4, 2)  # throughout, during, since/until, from, in/by
_RELATIVE = re.compile(r"(?i)\b(today|currently|at present|presently|nowadays|now|"
                       r"the current|current)\b")
_PART = {"early": "early", "mid": "mid", "late": "late", "end of": "end of",
         "beginning of": "beginning of", "start of": "beginning of", "middle of": "mid"}


@dataclass(frozen=True)
class DateMention:
    start: int  # character span in the sentence
    end: int
    kind: str  # day | day_range | cross_range | month | part | season | year
    year: str | None  # None for a day written without its year ("on 12 June")
    days: str | None = None  # "12" or "3-4"
    month: str | None = None  # "Jun"
    qualifier: str | None = None  # "early", "end of", "autumn" ...
    since: tuple[str, str, str | None] | None = None  # a cross_range's start: day, month, year

    @property
    def text(self) -> str:
        """The canonical expression; "" while the year is unknown."""
        if self.year is None:
            return ""
        if self.kind == "cross_range":
            return f"{self._start()} - {self.days} {self.month} {self.year}"
        if self.kind in ("day", "day_range"):
            return f"{self.days} {self.month} {self.year}"
        if self.kind == "month":
            return f"{self.month} {self.year}"
        if self.kind in ("part", "season"):
            return f"{self.qualifier} {self.year}"
        return self.year

    def with_year(self, year: str) -> DateMention:
        return replace(self, year=year)

    def _start(self) -> str:
        """D7: a cross_range's start; without its own year it takes the end's, or the year before
        when its month comes later in the year than the end's ("30 Dec - 2 Jan 2010")."""
        day, month, year = self.since
        if year is None:
            year = str(int(self.year) - 1) if _later_in_the_year(month, self.month) else self.year
        return f"{day} {month} {year}"

    def widened_to_month(self) -> str:
        """A day's month ("20 Jun 1999" -> "Jun 1999"), a cross_range's the month it ends in (D7);
        coarser periods stay as they are."""
        if self.kind in ("day", "day_range", "cross_range"):
            return f"{self.month} {self.year}"
        return self.text


_MONTH_ORDER = list(_MONTHS.values())


def month_abbr(token: str) -> str:
    return _MONTHS[token.rstrip(".")[:3].lower()]


# Cheap pre-checks: which patterns can match at all in a sentence.
_DIGIT = re.compile(r"\d")
_MONTH_NAME = re.compile(MON)
_A_YEAR = re.compile(YEAR)  # a pre-check: a false positive only costs a few more searches
_A_DASH = re.compile("[-\u2010-\u2014]")  # a day range has one
_A_RANGE_SEPARATOR = re.compile(r"[-\u2010-\u2014\u2212]|to|until")  # a cross_range has one
_NEEDS_MONTH = {"cross_range", "day_range", "day", "month"}
_NEEDS_YEAR = {"part", "season", "month", "year"}
_NEEDS_WORD = {"part": ("early", "mid", "late", "end", "beginning", "start"),
               "season": ("spring", "summer", "autumn", "fall", "winter")}
# (kind, pattern, needs a month name, needs a year, words one of which it needs, how to scan)
_SCAN = {0: "word_start", 1: "word_start", 2: "word_start", len(_PATTERNS) - 1: "years"}
_SCANS = [(kind, pattern, kind in _NEEDS_MONTH, kind in _NEEDS_YEAR, _NEEDS_WORD.get(kind, ()),
           _SCAN.get(i, "finditer")) for i, (kind, pattern) in enumerate(_PATTERNS)]


def has_digit(text: str) -> bool:
    r"""What _DIGIT.search(text) says. In ASCII text \d is [0-9], and substring searches are
    several times faster than the regex engine's scan, character by character."""
    if text.isascii():
        return any(digit in text for digit in "0123456789")
    return _DIGIT.search(text) is not None


def find_dates(sentence: str) -> list[DateMention]:
    """Every date expression in a sentence, left to right, longest first where they overlap.
    A day without a year ("on 12 June") comes back with year=None for the caller to resolve."""
    taken: list[DateMention] = []
    if not has_digit(sentence):  # every date has a digit; most sentences have none
        return taken
    has_month, has_year = _MONTH_NAME.search(sentence), _A_YEAR.search(sentence)
    if not (has_month or has_year):  # most sentences: no date can be written without either
        return taken
    lowered = sentence.lower()
    for kind, pattern, needs_month, needs_year, words, scan in _SCANS:
        if (needs_month and not has_month) or (needs_year and not has_year):
            continue
        if kind == "day_range" and not _A_DASH.search(sentence):
            continue
        if kind == "cross_range" and not _A_RANGE_SEPARATOR.search(sentence):
            continue
        if words:
            for w in words:
                if w in lowered:
                    break
            else:
                continue
        if scan == "word_start":
            matches = _at_word_starts(pattern, sentence)
        elif scan == "years":
            matches = _years_after_a_preposition(pattern, sentence)
        else:
            matches = pattern.finditer(sentence)
        # taken is in text order and its spans do not overlap, and so are this pattern's matches:
        # one walk along both finds the matches that overlap nothing taken (linear, L6)
        added: list[DateMention] = []
        i = 0
        for m in matches:
            start, end = m.span()
            if start and sentence[start - 1].isalnum():  # "xMay 2013" is no month
                continue
            while i < len(taken) and taken[i].end <= start:
                i += 1
            if i == len(taken) or end <= taken[i].start:
                added.append(_mention(kind, m))
        if added:
            taken = sorted(taken + added, key=lambda d: d.start)  # two sorted runs: linear
    return taken


def _at_word_starts(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    """pattern.finditer(text) for a pattern that starts with a digit, as if it began with \b: a
    match right after a word character is none, and the search goes on from the next character."""
    pos = 0
    while m := pattern.search(text, pos):
        start = m.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):  # \b's word character
            pos = start + 1
            continue
        yield m
        pos = m.end()


def _years_after_a_preposition(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    """pattern.finditer(text) for the "year" pattern (a preposition, whitespace, a year), without
    scanning the text with it: a match can only start one preposition's length before the
    whitespace in front of a year, so the pattern is matched at those few places, earliest first.
    (The case-insensitive pattern is the slowest of all to scan.)"""
    pos = 0
    for year in _A_YEAR.finditer(text):
        ws = year.start()
        while ws and text[ws - 1].isspace():  # what \s matches
            ws -= 1
        if ws == year.start():
            continue
        for length in _PREPOSITION_LENGTHS:
            if ws - length >= pos and (m := pattern.match(text, ws - length)):
                yield m
                pos = m.end()
                break


def _mention(kind: str, m: re.Match) -> DateMention:
    g = m.groupdict()
    mon = month_abbr(g["mon"]) if g.get("mon") else None
    days = qualifier = None
    if kind == "cross_range":
        since = (f"{int(g['d1']):02d}", month_abbr(g["mon1"]), g["year1"])
        year = g["year"] or _end_year(since, mon)
        return DateMention(m.start(), m.end(), kind, year, f"{int(g['d2']):02d}", mon, since=since)
    if kind == "day":
        days = f"{int(g['d1']):02d}"
    elif kind == "day_range":
        days = f"{int(g['d1'])}-{int(g['d2'])}"
    elif kind == "part":
        qualifier = _PART[re.sub(r"\s+", " ", re.sub(r"^the\s+", "", g["part"].lower()))]
    elif kind == "season":
        qualifier = "autumn" if g["season"].lower() == "fall" else g["season"].lower()
    return DateMention(m.start(), m.end(), kind, g.get("year"), days, mon, qualifier)


def _end_year(since: tuple[str, str, str | None], end_month: str) -> str | None:
    """D7: "30 Dec 2009 - 2 Jan": the end of a range that states only its start's year."""
    _, month, year = since
    if year is None:
        return None
    return str(int(year) + 1) if _later_in_the_year(month, end_month) else year


def _later_in_the_year(month: str, other: str) -> bool:
    return _MONTH_ORDER.index(month) > _MONTH_ORDER.index(other)


def relative_word(sentence: str) -> str | None:
    """D1: the relative word that dates a sentence to the page's own date, if any."""
    m = _RELATIVE.search(sentence)
    return m.group(1).lower() if m else None


# -- commander lists -------------------------------------------------------------------------
_LIST_DATE = re.compile(rf"(?P<d>\d{{1,2}})\s*(?P<mon>{MON})\s*,?\s*(?P<y>{YEAR})"
                        rf"|(?P<mon2>{MON})\s+(?P<d2>\d{{1,2}}),?\s+(?P<y2>{YEAR})")
PRESENT = re.compile(r"(?i)^(?:present|today|now|incumbent|current)$")
# Brackets may wrap the range: "Lt. Gen. Sir Michael Jackson, UK A (09 Jun 1999 - 08 Oct 1999)".
# C1: "since <date>" is in office; a start with a dash and no end ("10 Oct 2023 -") is a start
# whose end may follow on the next line, as a start alone is.
_RANGE = re.compile(rf"^\s*[(\[]?\s*(?P<since>[Ss]ince\s+)?(?P<start>{DAY_DATE})"
                    rf"(?:{DASH}(?P<end>{DAY_DATE}|[A-Za-z]+)|(?P<open>\s*[-\u2010-\u2014\u2212]))?"
                    rf"\s*[)\]]?\s*\.?$")
# C4: date lines inside a longer line ("<name> <dates> <name> <dates>": a list without breaks).
RANGE_IN_TEXT = re.compile(rf"(?P<start>{DAY_DATE})(?:{DASH}(?P<end>{DAY_DATE}"
                           rf"|[Pp]resent|PRESENT|[Tt]oday|[Nn]ow|[Ii]ncumbent|[Cc]urrent)\b)?")


def list_date(token: str) -> str | None:
    """One date of the commanders list, canonical "09 Jun 1999"; None if it is not one."""
    m = _LIST_DATE.fullmatch(token.strip().rstrip("."))
    if not m:
        return None
    if m.group("d"):
        return f"{int(m.group('d')):02d} {month_abbr(m.group('mon'))} {m.group('y')}"
    return f"{int(m.group('d2')):02d} {month_abbr(m.group('mon2'))} {m.group('y2')}"


def list_range(line: str) -> tuple[str, str | None, bool] | None:
    """A date line of the commanders list: (start, end or None for present, complete?).
    "09 Jun 1999 - 08 Oct 1999" -> complete; "09 Jun 1999" alone -> incomplete (end follows)."""
    m = _RANGE.match(line)
    if not m:
        return None
    start = list_date(m.group("start"))
    end_token = m.group("end")
    if end_token is None:
        return start, None, m.group("since") is not None  # "10 Oct 2023 -": the end may follow
    if PRESENT.match(end_token):
        return start, None, True
    end = list_date(end_token)
    return (start, end, True) if end else None
