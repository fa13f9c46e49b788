"""Strength figures and dated statements in the page's prose, by the rules of docs/rules.md
(dates D1-D5 and D7, troop levels T1-T5, T7-T9, events E1-E2; T6, E3 and E4 are applied in dbt).

Everything here is linear in the text (L6): per number and per date only a few characters around
it are read, and what a sentence says as a whole (its tense, its figure type) is read once."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .dates import DateMention, find_dates, has_digit, relative_word
from .document import NO_DEADLINE, Deadline
from .records import EventMention, ParseError, TroopFigure
from .text import forces, sentences

_NEAR = 40  # characters before a number that can hold "to well over", "Resolution", "a total of"
# T7: "4,500", "4 500", "4'500", "4.500" or "45": \d{1,3} and groups of 3 after one separator
# (the same throughout), or \d+; written with the first digit outside the alternation so the
# engine jumps from digit to digit (3x faster). _figures skips one glued to a word and refuses a
# figure glued to digits.
_NUMBER = re.compile(r"(\d(?:\d{0,2}(?:(?:,\d{3})+|(?: \d{3})+|(?:'\d{3})+|(?:\.\d{3})+)|\d*))"
                     r"(?!\w|-(?!\d)|[,.]\d)")  # a hyphen before a digit: a range (T8)
# L6: a run of digits and separators too long to be a numeral ("1 000 000 ... x" for a page) is
# blanked before numbers are read: the engine would try each of its digits.
_LONG_RUN = re.compile(r"(?<![\d,.'])\d[\d,.' ]{255,}")
_SEPARATORS = ",. '"
_NO_SEPARATORS = str.maketrans("", "", _SEPARATORS)
_WORD_BEFORE = 16  # characters before a number that hold the word _NOT_A_COUNT looks for
_WORDS_BEFORE = 20  # ... and the approximation before it ("approximately ", "well above ")
_GLUED = frozenset("-/")  # "1999-2000", "24/7": not a count
# T7: what joins a number to digits it cannot be read with: a digit, a separator between them,
# or a space after a group of 1-3 digits, a grouped number, or a run of 4+ digits that is itself
# joined or starts with 0 (a plain run of 4+ digits, a year or a resolution's number, is a number
# of its own: "in 2008 5,000 troops").
_JOINED_BEFORE = re.compile(r"(?:\d|\d[,.']|(?<![\d,.'])\d{1,3} |\d[,.']\d{3} |\d[ ,.']\d{4,} "
                            r"|(?<![\d,.'])0\d* )$")
_JOINED_AFTER = re.compile(r"[,.']\d| \d{3}(?!\d)")
_NUMERAL_BEFORE = re.compile(r"(?:\d+[,.' ])*\d*$")
_NOT_A_COUNT = re.compile(r"(?i)\b(?:resolution|unscr\)?|gate|chapter|article|no\.?|phase|"
                          r"paragraph|covid)\s*$")
# L3: older versions count "31 NATO and partner countries", "5,000 KFOR troops" and "KFOR
# troops number around 5,000".
_NATIONS_AFTER = re.compile(r"\s+(?:NATO\s+(?:and\s+(?:non-NATO\s+)?)?)?(?:Allied|Allies|allies|"
                            r"countries|nations|contributing|partner|member)\b")
_NOUN_AFTER = re.compile(r"\s+(?:(?:[a-z][a-z-]*|KFOR|NATO(?:-led)?)\s+){0,3}?(troops|troop|"
                         r"personnel|men and women|soldiers|servicemen|servicewomen|reservists|"
                         r"staff)\b")
_APPROX = (r"approximately|around|about|some|well over|well above|more than|over|nearly|almost|"
           r"roughly|at least|up to|fewer than|less than|under|close to")
_APPROX_BEFORE = re.compile(rf"(?i)\b({_APPROX})\s+$")
# T1: "... to 10,200", "strength of 5,000", "stands at 5,000", and in older versions "KFOR's
# strength is 16,000" (after a strength word: see _figures)
_TARGET_BEFORE = re.compile(rf"(?i)\b(?:to|of|at|by|numbers?|is|was|totals?|totalled)\s+"
                            rf"(?:(?:{_APPROX})\s+)?$")
_STRENGTH = re.compile(r"(?i)\b(?:troops?|troop levels?|forces?|strength|personnel|soldiers|"
                       r"footprint)\b")
_PRESENT = re.compile(r"(?i)\b(?:is|are|has|have|consists|comprises|remains|stands|numbers)\b")
_PAST = re.compile(r"(?i)\b(?:was|were|had|been)\b")
_CLAUSE = re.compile(r"[;:]|,\s+(?:and|then|but|while|whereas)\s+")
# T8: what joins the two ends of a range ("4,500 to 5,000", "4,500 - 5,000", "between 4,500 and
# 5,000"), what comes before its low end, and the words that make "from x to y" a change.
_RANGE_JOIN = re.compile(rf"\s*(?:to|-|\u2010|\u2011|\u2012|\u2013|\u2014|and)\s*(?:(?:{_APPROX})\s+)?")
_BETWEEN = re.compile(rf"(?i)\bbetween\s+(?:(?:{_APPROX})\s+)?$")
_FROM = re.compile(rf"(?i)\bfrom\s+(?:(?:{_APPROX})\s+)?$")
_BY = re.compile(r"(?i)\bby\s+$")
_CHANGE = re.compile(r"(?i)\b(?:reduc|cut|increas|rais|decreas|grow|grew|rise|rising|rose|fell|fall|"
                     r"drop|boost|expand|scal|shr[iu]nk|went|brought|lower|reinforc|doubl|halv)")
_CHANGE_WINDOW = 60  # characters before "from x" (or x) that can hold the verb of a change
# T9: "4,500 of its 5,000 troops": the first is reported, the second authorised.
_OF_ITS = re.compile(r"\s+(?:out\s+)?of\s+(?:its|their|an?|the)\s+(?:(?:authori[sz]ed|mandated|"
                     r"permitted|planned|full|total|maximum|agreed)\s+)*(?:of\s+)?")
_MANDATED = re.compile(r"(?i)\bmandated?\b|\bmaximum\b")
_AUTHORISED = re.compile(r"(?i)\bauthori[sz]|\ballowing for\b|\ballowed\b")

# E2: the clause around a date decides the event's type; first match wins. Each type has the
# pattern that decides and the lowercase fragments one of which it needs (a fast pre-check).
EVENT_TYPES = [
    ("assumption_of_command", r"\b(?:assumed|assumes|took|takes)\s+(?:over\s+)?command\b"
                              r"|\bchange of command\b", ("command",)),
    ("reinforcement", r"\breinforc|\bextra troops\b|\btemporarily deploy",
     ("reinforc", "extra troops", "temporarily deploy")),
    ("resolution", r"\bresolution\b|\bUNSCR\b", ("resolution", "unscr")),
    ("deployment", r"\bdeploy|\bentered Kosovo\b|\bpeace-support operation\b",
     ("deploy", "entered kosovo", "peace-support operation")),
    ("withdrawal", r"\bwithdr[ae]w", ("withdr",)),
    ("air_campaign", r"\bair campaign\b", ("air campaign",)),
    ("decision", r"\bdecided\b|\bagreed to\b|\bapproved\b|\bauthori[sz]ed\b|\bdecision\b",
     ("decided", "agreed to", "approved", "authori", "decision")),
    ("milestone", r"\bdeclar|\bachieved\b|\bunfixed\b|\boperational capability\b",
     ("declar", "achieved", "unfixed", "operational capability")),
    ("force_reduction", r"\breduc", ("reduc",)),
    ("agreement", r"\bagreement\b|\bsigned\b|\bentered into force\b|\bwas agreed\b|\breached\b",
     ("agreement", "signed", "entered into force", "was agreed", "reached")),
    ("establishment", r"\bcreated\b|\bestablish|\bset up\b|\bfounded\b",
     ("created", "establish", "set up", "founded")),
    ("tension", r"\btension", ("tension",)),
]
_EVENT_TYPES = [(name, re.compile(rx, re.I), words) for name, rx, words in EVENT_TYPES]


def parse_prose(sections: Iterable[tuple[str, list[str]]], deadline: Deadline = NO_DEADLINE
                ) -> tuple[list[TroopFigure], list[EventMention]]:
    """sections: (heading path, paragraphs). Returns figures and dated statements in page order;
    E1: one statement per date expression."""
    figures: list[TroopFigure] = []
    events: list[EventMention] = []
    for path, paragraphs in sections:
        section_date: DateMention | None = None  # T3's last resort
        section_force: str | None = None
        for paragraph in paragraphs:
            deadline.check("reading the prose")
            paragraph_year: str | None = None  # D3
            paragraph_force: str | None = None
            # The forces a paragraph names, found once: no force's name spans a sentence break,
            # so a sentence names those inside it.
            named_here = forces(paragraph)
            if not has_digit(paragraph):
                # Every date and every figure has a digit: a paragraph without one states none,
                # and what follows needs only the last force it names (T2).
                if named_here:
                    section_force = named_here[-1][1]
                continue
            k = 0  # the first force not before this sentence (both come in text order)
            for n, (offset, sentence) in enumerate(sentences(paragraph)):
                if n % 256 == 255:
                    deadline.check("reading the prose")
                while paragraph[offset].isspace():  # sentences() strips each sentence
                    offset += 1
                end = offset + len(sentence)
                while k < len(named_here) and named_here[k][0] < offset:
                    k += 1
                j = k
                while j < len(named_here) and named_here[j][0] < end:
                    j += 1
                named = [(p - offset, force) for p, force in named_here[k:j]]
                k = j
                if not has_digit(sentence):  # no date, no figure
                    if named:
                        paragraph_force = section_force = named[-1][1]
                    continue
                dates = []
                for d in find_dates(sentence):
                    if d.year is None:
                        if paragraph_year is None:
                            continue  # D3: a day whose year the paragraph never states is dropped
                        d = d.with_year(paragraph_year)
                    paragraph_year = d.year
                    dates.append(d)
                fallback_force = paragraph_force or section_force
                figures.extend(_figures(sentence, dates, named, fallback_force, section_date, path,
                                        len(figures)))
                if dates:
                    types = _Clauses(sentence)
                    for d in dates:
                        events.append(EventMention(len(events) + 1, types.event_type(d), d.text,
                                                   path, sentence))
                    section_date = dates[-1]
                if named:
                    paragraph_force = section_force = named[-1][1]
    return figures, events


def classify(sentence: str, d: DateMention) -> str:
    """E2: the event type of the clause around a date, else of its sentence."""
    return _Clauses(sentence).event_type(d)


class _Clauses:
    """E2 for the dates of one sentence: its clause breaks found once, each clause's type and
    the sentence's found at most once."""

    def __init__(self, sentence: str):
        self.sentence = sentence
        # Every clause break has a ";", ":" or ",".
        breaks = ([m.span() for m in _CLAUSE.finditer(sentence)]
                  if ";" in sentence or ":" in sentence or "," in sentence else [])
        self.starts = [b for b, _ in breaks]
        self.ends = [e for _, e in breaks]
        self.types: dict[tuple[int, int], str | None] = {}

    def event_type(self, d: DateMention) -> str:
        # the clause: from the last break ending at or before the date to the first starting at
        # or after its end
        i = bisect.bisect_right(self.ends, d.start)
        start = self.ends[i - 1] if i else 0
        j = bisect.bisect_left(self.starts, d.end)
        end = self.starts[j] if j < len(self.starts) else len(self.sentence)
        for span in ((start, end), (0, len(self.sentence))):
            if span not in self.types:
                self.types[span] = _event_type(self.sentence[span[0]:span[1]])
            if self.types[span]:
                return self.types[span]
        return "other"


def _event_type(text: str) -> str | None:
    lowered = text.lower()
    for name, rx, words in _EVENT_TYPES:
        for w in words:  # a loop, not any(): this runs for every type of every clause
            if w in lowered:
                if rx.search(text):
                    return name
                break
    return None


@dataclass
class _Number:
    start: int
    end: int
    value: int
    text: str  # canonical (T7)
    joined: bool  # joined to digits it cannot be read with
    noun: str | None  # the strength noun after it (T1), if any
    target: bool  # the target of a troop level (T1)
    match: re.Match


class _Sentence:
    """What a sentence says as a whole, read once and only when a figure needs it."""

    def __init__(self, sentence: str):
        self.text = sentence
        strength = _STRENGTH.search(sentence)
        self.first_strength_end = strength.end() if strength else None
        self._figure_type: str | None = None
        self._tense: tuple[str, str] | None = None

    def figure_type(self) -> str:
        if self._figure_type is None:
            self._figure_type = _figure_type(self.text)
        return self._figure_type

    def undated(self, section_date: DateMention | None) -> tuple[str | None, str]:
        """T3 steps 2-4: the period of a figure its sentence does not date."""
        if self._tense is None:
            if relative_word(self.text):
                self._tense = ("today", "relative_word")
            elif _PRESENT.search(self.text) and not _PAST.search(self.text):
                self._tense = ("today", "present_tense")
            else:
                self._tense = ("", "")
        if self._tense[0]:
            return self._tense
        if section_date is not None:
            return section_date.widened_to_month(), "section_context"
        return None, "none"


def _figures(sentence, dates, named, fallback_force, section_date, path, count):
    if not has_digit(sentence):
        return []
    spans = [(d.start, d.end) for d in dates]
    date_starts = [d.start for d in dates]
    date_ends = [d.end for d in dates]
    said = _Sentence(sentence)
    numbers: list[_Number] = []
    nations = None
    scan = _LONG_RUN.sub(lambda m: " " * len(m.group()), sentence) if len(sentence) > 255 \
        else sentence
    d = 0  # the first date not ending before the number
    for m in _NUMBER.finditer(scan):
        start = m.start()
        left = sentence[start - 1] if start else " "
        previous = numbers[-1] if numbers else None
        # "4,500-5,000": a hyphen glues a number to the one before it only in a range (T8)
        ranged = left == "-" and previous is not None and previous.end == start - 1
        if (left.isalnum() and not left.isdigit()) or left == "_" or (left in _GLUED
                                                                       and not ranged):
            continue  # glued to a word, a range or a fraction
        while d < len(spans) and spans[d][1] <= start:
            d += 1
        if d < len(spans) and spans[d][0] <= start:
            continue  # inside a date
        digits = m.group(1)
        value, canonical = read_number(digits)
        near = sentence[max(0, start - _NEAR):start]  # the end-anchored patterns need only these
        # the tail of a numeral the grammar did not read ("4,50", "1,1900"): no year and no count
        # of countries, but as a figure it refuses the page (T7)
        joined = left.isdigit() or (left in _SEPARATORS and near[-2:-1].isdigit())
        if (digits.isdigit() and 1900 <= value <= 2099 and not joined) or _NOT_A_COUNT.search(
                sentence, max(0, start - _WORD_BEFORE), start):
            continue
        if _NATIONS_AFTER.match(sentence, m.end()):
            if not joined:
                nations = nations or canonical  # T1: a count of countries
            continue
        noun = _NOUN_AFTER.match(sentence, m.end())
        # the target's "to" comes before the whole numeral (and a numeral's tail may be small:
        # "to 4,50" is as unreadable as "to 4,5000")
        lead = _NUMERAL_BEFORE.sub("", near) if joined else near
        target = bool((value >= 100 or joined) and said.first_strength_end is not None
                      and said.first_strength_end <= start and _TARGET_BEFORE.search(lead))
        numbers.append(_Number(start, m.end(), value, canonical, joined,
                               noun.group(0) if noun else None, target, m))
    # T8, T9: a figure and the number just before it may be one range or two figures
    plan: list[tuple[str, _Number, _Number]] = []
    for i, number in enumerate(numbers):
        if number.noun is None and not number.target:
            continue
        low = numbers[i - 1] if i and not (plan and plan[-1][0] != "one"
                                           and plan[-1][2] is numbers[i - 1]) else None
        kind = "one"
        if low is not None and _a_range(sentence, low, number):
            kind = "range"
        elif low is not None and _OF_ITS.fullmatch(sentence, low.end, number.start):
            kind = "of"
        if kind != "one" and plan and plan[-1] == ("one", low, low):
            plan.pop()  # the low end was read as a figure of its own ("between 4,500 troops")
        plan.append((kind, low if kind != "one" else number, number))
    positions = [p for p, _ in named]
    out: list[TroopFigure] = []

    def figure(first: _Number, last: _Number, figure_type: str, **values):
        _refuse_unreadable(sentence, first.match)
        period, rule = _figure_date(first.start, last.end, dates, date_starts, date_ends, said,
                                    section_date)
        out.append(TroopFigure(
            ordinal=count + len(out) + 1,
            force=_force_of(first.start, positions, named, fallback_force),
            figure_type=figure_type, personnel=_personnel(last.noun or ""), period_text=period,
            date_rule=rule, contributing_nations_text=nations, section=path,
            source_text=sentence, **values))

    for kind, first, last in plan:
        if kind == "range":  # T8: neither end is the figure
            _refuse_unreadable(sentence, last.match)
            figure(first, last, said.figure_type(), troops_text=None, approximation="range",
                   troops_low_text=first.text, troops_high_text=last.text)
        elif kind == "of":  # T9: what the force has of what it may have
            figure(first, first, "reported", troops_text=first.text,
                   approximation=_approximation(sentence, first.start))
            authorised = ("mandated_maximum" if said.figure_type() == "mandated_maximum"
                          else "authorised")
            figure(last, last, authorised, troops_text=last.text,
                   approximation=_approximation(sentence, last.start))
        else:
            figure(last, last, said.figure_type(), troops_text=last.text,
                   approximation=_approximation(sentence, last.start))
    return out


def _a_range(sentence: str, low: _Number, high: _Number) -> bool:
    """T8: two numbers joined by "to", a dash, or "and" after "between", are one range when the
    first is the smaller and the words before them state no change ("reduced from 39,000 to
    26,000" is a change: its figure is 26,000)."""
    join = _RANGE_JOIN.fullmatch(sentence, low.end, high.start)
    if join is None or low.value >= high.value:
        return False
    start = low.start  # of the whole numeral: "4,50" read as "50" is still the low end (T7)
    if low.joined:
        start = _NUMERAL_BEFORE.search(sentence, max(0, start - _NEAR), start).start()
    before = sentence[max(0, start - _NEAR):start]
    if _BETWEEN.search(before):
        return True
    if join.group(0).strip().startswith("and") or _BY.search(before):
        return False
    came_from = _FROM.search(before)
    at = start - (len(before) - came_from.start()) if came_from else start
    return _CHANGE.search(sentence, max(0, at - _CHANGE_WINDOW), at) is None


def _approximation(sentence: str, start: int) -> str:
    """T4: the word before the number, else exact."""
    approx = _APPROX_BEFORE.search(sentence, max(0, start - _WORDS_BEFORE), start)
    return approx.group(1).lower() if approx else "exact"


def read_number(digits: str) -> tuple[int, str]:
    """T7: a number _NUMBER matched, and its canonical text: "4 500" -> (4500, "4,500"); a number
    written without separators stays as written ("45", "4500")."""
    if digits.isdigit():
        return int(digits), digits
    value = int(digits.translate(_NO_SEPARATORS))
    return value, f"{value:,}"


def _refuse_unreadable(sentence: str, m: re.Match) -> None:
    """T7: a figure joined to digits it cannot be read with ("4,500 000", "4 50", "4.5", "050")
    is no number this parser may guess at."""
    digits = m.group(1)
    # (every join T7 names ends in a digit, a separator, or a digit and a space: only then can
    # the few characters before the number join it)
    start = m.start()
    before = sentence[start - 2:start] if start >= 2 else " " + sentence[:start]
    if not ((before[-1:].isdigit() or before[-1:] in ",.'"
             or (before[-1:] == " " and before[:1].isdigit()))
            and _JOINED_BEFORE.search(sentence, max(0, start - _NEAR), start)
            or _JOINED_AFTER.match(sentence, m.end())
            or (digits[0] == "0" and len(digits) > 1)):
        return
    at = sentence.rfind(" ", 0, max(0, m.start() - 8)) + 1
    end = sentence.find(" ", m.end() + 8)
    excerpt = sentence[at:end if end != -1 else len(sentence)]
    raise ParseError("unreadable_number",
                     f"cannot read the number {excerpt!r} (T7: one thousands separator, groups "
                     f"of three digits)")


def _force_of(pos: int, positions: list[int], named: list[tuple[int, str]],
              fallback: str | None) -> str | None:
    """T2: nearest force named before the number, else after it, else the paragraph's."""
    i = bisect.bisect_left(positions, pos)  # forces named before pos: named[:i]
    if i:
        return named[i - 1][1]
    return named[0][1] if named else fallback


def _figure_date(start: int, end: int, dates: list[DateMention], date_starts: list[int],
                 date_ends: list[int], said: _Sentence,
                 section_date: DateMention | None) -> tuple[str | None, str]:
    """T3: which period a figure (the text from start to end) carries, and the rule that gave
    it. The sentence's dates are in text order."""
    i = bisect.bisect_left(date_starts, end)  # the first date starting after the figure
    if i < len(dates):
        return dates[i].text, "sentence_date"
    j = bisect.bisect_right(date_ends, start)  # the dates ending before it: dates[:j]
    if j:
        return dates[j - 1].text, "sentence_date"
    return said.undated(section_date)


def _figure_type(sentence: str) -> str:
    """T4: mandated maximum, authorised or reported."""
    if _MANDATED.search(sentence):
        return "mandated_maximum"
    if _AUTHORISED.search(sentence):
        return "authorised"
    return "reported"


def _personnel(noun: str) -> str:
    """T5: troops, active, reserve or staff."""
    noun = noun.lower()
    if "reservist" in noun:
        return "reserve"
    if "active" in noun:
        return "active"
    if "civilian" in noun or "staff" in noun:
        return "staff"
    return "troops"
