"""Strength figures and dated statements in the page's prose, by the rules of docs/rules.md
(dates D1-D5 and D7, troop levels T1-T5, events E1-E2; T6, E3 and E4 are applied in dbt)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .dates import DateMention, find_dates, has_digit, relative_word
from .records import EventMention, ParseError, TroopFigure
from .text import forces, sentences

_NEAR = 40  # characters before a number that can hold "to well over", "Resolution", "a total of"
# T7: "4,500", "4 500", "4'500", "4.500" or "45": \d{1,3} and groups of 3 after one separator
# (the same throughout), or \d+; written with the first digit outside the alternation so the
# engine jumps from digit to digit (3x faster). _figures skips one glued to a word and refuses a
# figure glued to digits.
_NUMBER = re.compile(r"(\d(?:\d{0,2}(?:(?:,\d{3})+|(?: \d{3})+|(?:'\d{3})+|(?:\.\d{3})+)|\d*))"
                     r"(?![\w-]|[,.]\d)")
_SEPARATORS = ",. '"
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
_NATIONS_AFTER = re.compile(r"^\s+(?:NATO\s+(?:and\s+(?:non-NATO\s+)?)?)?(?:Allied|Allies|allies|"
                            r"countries|nations|contributing|partner|member)\b")
_NOUN_AFTER = re.compile(r"^\s+(?:(?:[a-z][a-z-]*|KFOR|NATO(?:-led)?)\s+){0,3}?(troops|troop|"
                         r"personnel|men and women|soldiers|servicemen|servicewomen|reservists|"
                         r"staff)\b")
_APPROX = (r"approximately|around|about|some|well over|well above|more than|over|nearly|almost|"
           r"roughly|at least|up to|fewer than|less than|under|close to")
_APPROX_BEFORE = re.compile(rf"(?i)\b({_APPROX})\s+$")
_TARGET_BEFORE = re.compile(rf"(?i)\b(?:to|of|at|by|numbers?)\s+(?:(?:{_APPROX})\s+)?$")
_STRENGTH = re.compile(r"(?i)\b(?:troops?|troop levels?|forces?|strength|personnel|soldiers|"
                       r"footprint)\b")
_PRESENT = re.compile(r"(?i)\b(?:is|are|has|have|consists|comprises|remains|stands|numbers)\b")
_PAST = re.compile(r"(?i)\b(?:was|were|had|been)\b")
_CLAUSE = re.compile(r"[;:]|,\s+(?:and|then|but|while|whereas)\s+")
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


def parse_prose(sections: Iterable[tuple[str, list[str]]]
                ) -> tuple[list[TroopFigure], list[EventMention]]:
    """sections: (heading path, paragraphs). Returns figures and dated statements in page order;
    E1: one statement per date expression."""
    figures: list[TroopFigure] = []
    events: list[EventMention] = []
    for path, paragraphs in sections:
        section_date: DateMention | None = None  # T3's last resort
        section_force: str | None = None
        for paragraph in paragraphs:
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
            for offset, sentence in sentences(paragraph):
                while paragraph[offset].isspace():  # sentences() strips each sentence
                    offset += 1
                end = offset + len(sentence)
                named = [(p - offset, force) for p, force in named_here if offset <= p < end]
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
                for d in dates:
                    events.append(EventMention(len(events) + 1, classify(sentence, d), d.text,
                                               path, sentence))
                if dates:
                    section_date = dates[-1]
                if named:
                    paragraph_force = section_force = named[-1][1]
    return figures, events


def classify(sentence: str, d: DateMention) -> str:
    """E2: the event type of the clause around a date, else of its sentence."""
    # Every clause break has a ";", ":" or ",".
    breaks = ([m.span() for m in _CLAUSE.finditer(sentence)]
              if ";" in sentence or ":" in sentence or "," in sentence else [])
    start = max((e for _, e in breaks if e <= d.start), default=0)
    end = min((b for b, _ in breaks if b >= d.end), default=len(sentence))
    for text in (sentence[start:end], sentence):
        lowered = text.lower()
        for name, rx, words in _EVENT_TYPES:
            for w in words:  # a loop, not any(): this runs for every type of every date
                if w in lowered:
                    if rx.search(text):
                        return name
                    break
    return "other"


def _figures(sentence, dates, named, fallback_force, section_date, path, count):
    if not has_digit(sentence):
        return []
    spans = [(d.start, d.end) for d in dates]
    found, nations = [], None
    for m in _NUMBER.finditer(sentence):
        start = m.start()
        left = sentence[start - 1] if start else " "
        if (left.isalnum() and not left.isdigit()) or left == "_" or left in _GLUED:
            continue  # glued to a word, a range or a fraction
        if any(s <= start < e for s, e in spans):
            continue
        digits = m.group(1)
        value, canonical = read_number(digits)
        before, after = sentence[:start], sentence[m.end():]
        near = before[-_NEAR:]  # the end-anchored patterns need only the last few words
        # the tail of a numeral the grammar did not read ("4,50", "1,1900"): no year and no count
        # of countries, but as a figure it refuses the page (T7)
        joined = left.isdigit() or (left in _SEPARATORS and near[-2:-1].isdigit())
        if (digits.isdigit() and 1900 <= value <= 2099 and not joined) or _NOT_A_COUNT.search(near):
            continue
        if _NATIONS_AFTER.match(after):
            if not joined:
                nations = nations or canonical  # T1: a count of countries
            continue
        noun = _NOUN_AFTER.match(after)
        # the target's "to" comes before the whole numeral (and a numeral's tail may be small:
        # "to 4,50" is as unreadable as "to 4,5000")
        lead = _NUMERAL_BEFORE.sub("", near) if joined else near
        target = ((value >= 100 or joined) and _TARGET_BEFORE.search(lead)
                  and _STRENGTH.search(before))
        if noun or target:  # T1: a number of people, or the target of a troop level
            _refuse_unreadable(sentence, m)
            found.append((m, noun.group(0) if noun else "", canonical))
    out = []
    figure_type = _figure_type(sentence) if found else None
    for m, noun, troops in found:
        period, rule = _figure_date(sentence, m, dates, section_date)
        approx = _APPROX_BEFORE.search(sentence[max(0, m.start() - _NEAR):m.start()])  # T4
        out.append(TroopFigure(
            ordinal=count + len(out) + 1,
            force=_force_of(m.start(), named, fallback_force),
            figure_type=figure_type,
            personnel=_personnel(noun),
            troops_text=troops,
            approximation=approx.group(1).lower() if approx else "exact",
            period_text=period, date_rule=rule,
            contributing_nations_text=nations,
            section=path, source_text=sentence))
    return out


def read_number(digits: str) -> tuple[int, str]:
    """T7: a number _NUMBER matched, and its canonical text: "4 500" -> (4500, "4,500"); a number
    written without separators stays as written ("45", "4500")."""
    value = int("".join(c for c in digits if c.isdigit()))
    return value, (digits if digits.isdigit() else f"{value:,}")


def _refuse_unreadable(sentence: str, m: re.Match) -> None:
    """T7: a figure joined to digits it cannot be read with ("4,500 000", "4 50", "4.5", "050")
    is no number this parser may guess at."""
    digits = m.group(1)
    if not (_JOINED_BEFORE.search(sentence, 0, m.start()) or _JOINED_AFTER.match(sentence, m.end())
            or (digits[0] == "0" and len(digits) > 1)):
        return
    at = sentence.rfind(" ", 0, max(0, m.start() - 8)) + 1
    end = sentence.find(" ", m.end() + 8)
    excerpt = sentence[at:end if end != -1 else len(sentence)]
    raise ParseError("unreadable_number",
                     f"cannot read the number {excerpt!r} (T7: one thousands separator, groups "
                     f"of three digits)")


def _force_of(pos: int, named: list[tuple[int, str]], fallback: str | None) -> str | None:
    """T2: nearest force named before the number, else after it, else the paragraph's."""
    before = [f for p, f in named if p < pos]
    if before:
        return before[-1]
    return named[0][1] if named else fallback


def _figure_date(sentence: str, m: re.Match, dates: list[DateMention],
                 section_date: DateMention | None) -> tuple[str | None, str]:
    """T3: which period a figure carries, and the rule that gave it."""
    after = [d for d in dates if d.start >= m.end()]
    before = [d for d in dates if d.end <= m.start()]
    if after:
        return after[0].text, "sentence_date"
    if before:
        return before[-1].text, "sentence_date"
    if relative_word(sentence):
        return "today", "relative_word"
    if _PRESENT.search(sentence) and not _PAST.search(sentence):
        return "today", "present_tense"
    if section_date is not None:
        return section_date.widened_to_month(), "section_context"
    return None, "none"


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
