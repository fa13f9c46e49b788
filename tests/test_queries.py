"""docs/queries.md is what the analyses and the time-axis queries answer today (issue 23): the page
rendered again from a warehouse built from the bundled snapshot (each analysis compiled by dbt,
every query run by the DuckDB shell, read-only) is the page committed. `make examples`
regenerates it."""

from __future__ import annotations

import difflib

from orchestration.core.layout import PROJECT_ROOT
from orchestration.drivers.queries import ANALYSES, OUT, render


def test_the_queries_page_is_what_the_warehouse_answers(built_warehouse):
    fresh = render(built_warehouse)
    committed = OUT.read_text(encoding="utf-8")
    diff = "\n".join(difflib.unified_diff(committed.splitlines(), fresh.splitlines(),
                                          "docs/queries.md", "rendered now", lineterm=""))
    assert fresh == committed, f"run `make examples` to regenerate:\n{diff}"
    analyses = {p.stem for p in (PROJECT_ROOT / "dbt_project" / "analyses").glob("*.sql")}
    assert {name for name, _ in ANALYSES} == analyses  # every analysis is on the page
