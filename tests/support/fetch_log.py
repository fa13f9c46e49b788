"""The fetch log as a test reads it: every line one JSON object (a torn line fails the test),
folded to one record per fetch (an intent record replaced by its final record, at its place)."""

from __future__ import annotations

import json
from pathlib import Path


def lines(raw_dir: Path) -> list[dict]:
    path = Path(raw_dir) / "fetch_log.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def fetches(raw_dir: Path) -> list[dict]:
    folded: dict[str, dict] = {}
    for record in lines(raw_dir):
        folded[record["fetch_id"]] = record
    return list(folded.values())
