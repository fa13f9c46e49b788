"""Fixtures of the capture tests. cdx-toolkit spaces its CDX requests to a host it does not know
by 3 s (web.archive.org: 6 s), read once from the environment when it is imported: no pause for
the local test archive."""

from __future__ import annotations

import os

os.environ["CDXT_DEFAULT_MIN_RETRY_INTERVAL"] = "0"

import pytest  # noqa: E402
from archive_server import ArchiveServer  # noqa: E402

from orchestration.core import layout as paths  # noqa: E402


@pytest.fixture(scope="session")
def snapshot() -> bytes:
    return paths.bundled_snapshot().read_bytes()


@pytest.fixture
def archive():
    with ArchiveServer(page_size=2) as server:
        yield server
