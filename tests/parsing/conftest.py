"""Fixtures of the parser tests: the bundled snapshot, its parse and the golden file."""

from __future__ import annotations

import pytest
from golden_facts import golden as load_golden
from variants import CONTENT_TYPE, snapshot_bytes

from orchestration.core.reference import load_reference
from orchestration.parsing import ParsedPage, parse_page

REFERENCE = load_reference()


@pytest.fixture(scope="session")
def snapshot() -> bytes:
    return snapshot_bytes()


@pytest.fixture(scope="session")
def parsed(snapshot: bytes) -> ParsedPage:
    return parse_page(snapshot, CONTENT_TYPE, REFERENCE)


@pytest.fixture(scope="session")
def golden() -> dict:
    return load_golden()
