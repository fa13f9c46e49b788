"""The parser's reference data, read from the dbt seeds (the one owner of reference data) once
per process and passed to parse_page."""

from __future__ import annotations

import csv
import functools

from orchestration.core.layout import SEEDS_DIR
from orchestration.parsing import Reference


@functools.cache
def load_reference() -> Reference:
    with open(SEEDS_DIR / "ranks.csv", newline="", encoding="utf-8") as f:
        return Reference.from_rank_rows(csv.DictReader(f))
