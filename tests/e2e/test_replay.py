"""Replay end to end (issue 20's one case of the path): `kfor replay` rebuilds the warehouse from
every publication in the archive and gives the same marts and snapshots as the refresh that
published them (the bookkeeping columns aside). The history of several versions replayed, and a
replay through a rollback, are in CI's slow run (test_history, test_version_checks)."""

from __future__ import annotations

import pytest
from reliability.harness import kfor
from support.fetch_log import fetches
from support.warehouse import table_checksums

pytestmark = pytest.mark.builds(1)  # tests/conftest.py hands it out early

BOOKKEEPING = {"fct_page_version": {"last_fetched_at", "fetch_count"}, "meta": {"built_at"}}


def checksums(path) -> dict:
    return {schema: table_checksums(path, schema, BOOKKEEPING) for schema in ("marts", "snapshots")}


def test_a_replay_gives_what_the_refresh_published(published_v1, raw_dir):
    before, log = checksums(published_v1), fetches(raw_dir)
    out = kfor("replay")
    assert out.returncode == 0 and out.stdout.startswith("replayed: 1 publications"), out.stderr
    assert checksums(published_v1) == before
    assert fetches(raw_dir) == log  # a replay fetches nothing: the log is what it replays
