"""The parser is a pure function of the bytes, the content type and the reference data passed in:
it reads no file (the ranks come in a Reference that orchestration.core.reference loads from the seed)."""

from __future__ import annotations

import builtins
import io
import pathlib

import pytest
from variants import CONTENT_TYPE, snapshot_bytes

from orchestration.core.reference import load_reference
from orchestration.parsing import Reference, parse_page


def test_parse_page_opens_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    body, reference = snapshot_bytes(), load_reference()

    def refuse(*args, **kwargs):
        raise AssertionError(f"the parser opened a file: {args!r}")

    for owner, name in ((builtins, "open"), (io, "open"), (pathlib.Path, "open"),
                        (pathlib.Path, "read_text"), (pathlib.Path, "read_bytes")):
        monkeypatch.setattr(owner, name, refuse)
    assert len(parse_page(body, CONTENT_TYPE, reference).commanders) == 28


def test_the_ranks_come_from_the_reference_passed_in() -> None:
    body = snapshot_bytes()
    seeded = parse_page(body, CONTENT_TYPE, load_reference()).commanders[0]
    assert (seeded.rank, seeded.full_name) == ("Lt. Gen.", "Michael Jackson")
    bare = parse_page(body, CONTENT_TYPE, Reference(ranks=())).commanders[0]
    assert (bare.rank, bare.full_name) == (None, "Lt. Gen. Sir Michael Jackson")
    own = Reference.from_rank_rows([{"rank_abbreviation": "Lt. Gen.",
                                     "rank_name": "Lieutenant General"}])
    assert parse_page(body, CONTENT_TYPE, own).commanders[0] == seeded


def test_reference_from_the_seed_rows() -> None:
    reference = Reference.from_rank_rows([
        {"rank_abbreviation": "Gen.", "rank_name": "General"},
        {"rank_abbreviation": "Lt. Gen.", "rank_name": "Lieutenant General"}])
    assert reference.ranks == (("Lieutenant General", "Lt. Gen."), ("Lt. Gen.", "Lt. Gen."),
                               ("General", "Gen."), ("Gen.", "Gen."))
    assert load_reference() is load_reference()  # read once per process
    assert ("Maj. Gen.", "Maj. Gen.") in load_reference().ranks
