"""dbt's unit tests (the SQL that turns the page's text into dates, counts, periods and events).
Refreshes leave them out (they test code, not data); here they run against a real build."""

from __future__ import annotations

import shutil

from orchestration.drivers.dbt_run import run_dbt


def test_dbt_unit_tests_pass(built_warehouse, tmp_path):
    build = tmp_path / "build" / "kfor.duckdb"  # the catalog name dbt's SQL uses
    build.parent.mkdir()
    shutil.copyfile(built_warehouse, build)
    results = run_dbt(["test", "--select", "test_type:unit"], build).result.results
    assert len(results) >= 5
    assert {str(r.status) for r in results} == {"pass"}, [
        (r.node.name, str(r.status), r.message) for r in results if str(r.status) != "pass"]
