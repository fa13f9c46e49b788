"""The reference data the parser reads names with. It is passed in, never read here: the parser
stays a pure function of the bytes, the content type and this (orchestration.reference loads it
from the dbt seeds)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    # (spelling, abbreviation) for every rank abbreviation and full name, longest spelling first,
    # so "Lt. Gen." wins over "Gen."
    ranks: tuple[tuple[str, str], ...]

    @classmethod
    def from_rank_rows(cls, rows: Iterable[Mapping[str, str]]) -> Reference:
        """From the rows of the ranks seed (columns rank_abbreviation, rank_name)."""
        pairs: dict[str, str] = {}
        for r in rows:
            pairs.setdefault(r["rank_abbreviation"], r["rank_abbreviation"])
            pairs.setdefault(r["rank_name"], r["rank_abbreviation"])
        return cls(ranks=tuple(sorted(pairs.items(), key=lambda p: len(p[0]), reverse=True)))

    @functools.cached_property
    def rank_pattern(self) -> tuple[dict[str, str], re.Pattern]:
        """Every rank spelling, longest first, as one case-insensitive pattern; and the
        abbreviation of each spelling (lower case). Built once per Reference."""
        spellings = {spelling.lower(): abbreviation for spelling, abbreviation in self.ranks}
        alternatives = "|".join(re.escape(spelling) for spelling, _ in self.ranks) or "(?!)"
        return spellings, re.compile(rf"(?i)({alternatives})(?=\s|$)")
