"""The throwaway server itself: it listens on 127.0.0.1 only, trusts nobody but loopback, and
runs its sessions in a time zone that is not UTC (so nothing passes by the server's luck)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # the Postgres server tests are CI's slow layer (issue 20)


def test_the_throwaway_server_answers_on_loopback_only(postgres_server):
    with postgres_server.connect() as con, con.cursor() as cur:
        cur.execute("SELECT current_setting('listen_addresses'), current_setting('TimeZone')")
        assert cur.fetchone() == ("127.0.0.1", "America/St_Johns")
