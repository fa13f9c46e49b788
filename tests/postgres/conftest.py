"""The Postgres layer: one throwaway server per worker session (tests/support/postgres.py), each
test in a database of its own. Without initdb and pg_ctl these tests are skipped, and the run ends
with one line saying so and how to enable them (tests/conftest.py)."""

from __future__ import annotations

import os

import pytest
from support.postgres import SKIP_REASON, binaries, discard, throwaway


@pytest.fixture(scope="session")
def postgres_server():
    if binaries() is None:
        if os.environ.get("KFOR_REQUIRE_POSTGRES"):  # CI: a missing server is a failure
            pytest.fail(SKIP_REASON.replace("skipped", "required (KFOR_REQUIRE_POSTGRES)"))
        pytest.skip(SKIP_REASON)
    server = throwaway()
    yield server
    discard(server)
