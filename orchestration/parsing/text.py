"""Sentences and forces: the small vocabulary the extractors share."""

from __future__ import annotations

import re

# A period after these does not end a sentence ("Lt. Gen.", "e.g.", initials such as "E.").
_ABBREV = re.compile(
    r"(?:\b(?:Lt|Maj|Gen|Brig|Col|Capt|Adm|Cdre|Sgt|Dr|Mr|Mrs|Ms|St|No|Nos|Jan|Feb|Mar|Apr|Jun|Jul"
    r"|Aug|Sep|Sept|Oct|Nov|Dec|approx|Art|para|vs|cf|etc|V|R|Vice|Rear|Air)|\b[A-Z]|\be\.g|\bi\.e)\.$")
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(]?[A-Z0-9\u00c0-\u024f])")

_FORCE_NAMES = {
    "NATO Advisory and Liaison Team": "NALT", "NATO Liaison and Advisory Team": "NLAT",
    "NATO Advisory Team": "NAT", "Kosovo Security Force": "KSF", "Kosovo Protection Corps": "KPC",
    "Kosovo Liberation Army": "KLA", "Kosovo Force": "KFOR", "KFOR": "KFOR", "KSF": "KSF",
    "NALT": "NALT", "NLAT": "NLAT", "NAT": "NAT", "KPC": "KPC", "KLA": "KLA", "EULEX": "EULEX",
}
# No leading \b: the regex engine then jumps to a name's first letter; forces() checks the boundary.
_FORCE = re.compile(r"(" + "|".join(sorted(map(re.escape, _FORCE_NAMES), key=len, reverse=True))
                    + r")\b")


def sentences(text: str) -> list[tuple[int, str]]:
    """Split a paragraph into sentences: (offset, sentence)."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        # the abbreviation, if any, ends at this period: look at the few characters before it
        if _ABBREV.search(text, max(start, m.start() - 8), m.start() + 1):
            continue
        out.append((start, text[start:m.end()].strip()))  # with its closing quotes, brackets
        start = m.end()
    if text[start:].strip():
        out.append((start, text[start:].strip()))
    return out


def forces(text: str) -> list[tuple[int, str]]:
    """Forces named in a text: (offset, acronym)."""
    return [(m.start(), _FORCE_NAMES[m.group(1)]) for m in _FORCE.finditer(text)
            if not (m.start() and text[m.start() - 1].isalnum())]
