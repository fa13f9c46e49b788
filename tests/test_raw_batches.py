"""Which publications a changed build loads besides its own page (assets.raw.not_loaded): after a
rollback the published copy lacks the versions published after the one rolled back to, and the
next build takes them back from the archive, so history is never lost. A real DuckDB file."""

from __future__ import annotations

import duckdb
from support import pages

from orchestration.assets.raw import not_loaded
from orchestration.core import raw_tables
from orchestration.core.reference import load_reference
from orchestration.parsing import parse_page


def publication(page, body: str) -> dict:
    return {"content_sha256": page.content_sha256, "body_sha256": body, "outcome": "published"}


def test_only_the_publications_the_copy_lacks_are_loaded(tmp_path):
    v1, v2 = (parse_page(p(), "text/html", load_reference()) for p in (pages.v1, pages.v2))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    raw_tables.load_page(con, v1, "body1")  # the kept file rolled back to holds v1 only
    log = [publication(v1, "body1"), publication(v2, "body2"), publication(v2, "body2b"),
           {"content_sha256": v1.content_sha256, "body_sha256": None, "outcome": "published"}]
    assert not_loaded(con, log) == [log[1]]  # v2 once; v1 (and the rollback's record) held
    raw_tables.load_page(con, v2, "body2")
    assert not_loaded(con, log) == []
