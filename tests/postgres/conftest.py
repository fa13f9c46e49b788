"""The Postgres layer: one throwaway server per worker session (tests/support/postgres.py), each
test in a database of its own. Without initdb and pg_ctl these tests are skipped, and the run ends
with one line saying so and how to enable them (tests/conftest.py)."""

from __future__ import annotations

import os

import pytest
from support.postgres import SKIP_REASON, binaries, discard, throwaway


def require_binaries() -> None:
    if binaries() is None:
        if os.environ.get("KFOR_REQUIRE_POSTGRES"):  # CI: a missing server is a failure
            pytest.fail(SKIP_REASON.replace("skipped", "required (KFOR_REQUIRE_POSTGRES)"))
        pytest.skip(SKIP_REASON)


def started_server():
    require_binaries()
    server = throwaway()
    yield server
    discard(server)


@pytest.fixture(scope="session")
def postgres_server():
    yield from started_server()


@pytest.fixture(scope="module")
def own_postgres_server():
    """A server of the module's own, which its tests may stop, start again or reconfigure."""
    yield from started_server()
