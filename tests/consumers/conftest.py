"""Fixtures of the consumer tests: the golden facts, and the analyses compiled by dbt."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "nato-kosovo-2023-11-20.yml"
ANALYSES = ROOT / "dbt_project" / "analyses"


@pytest.fixture(scope="session")
def golden() -> dict:
    return yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def compiled_analyses(tmp_path_factory) -> dict[str, str]:
    """Every analysis in dbt_project/analyses compiled in-process by dbt, as {name: SQL}.

    dbt parses the project files as they are now, so analyses are in it even when
    target/manifest.json is older. The profile points at a throwaway file named kfor.duckdb: the
    compiled SQL names relations "kfor"."marts"."...", the catalog of any file called kfor.duckdb."""
    from orchestration.drivers.dbt_run import run_dbt, target_of

    build = tmp_path_factory.mktemp("analyses") / "kfor.duckdb"
    result = run_dbt(["compile", "--select", "path:analyses"], build)
    assert result.success, result
    names = sorted(p.stem for p in ANALYSES.glob("*.sql"))
    folder = target_of(build) / "compiled" / "kfor" / "analyses"
    compiled = {n: (folder / f"{n}.sql").read_text(encoding="utf-8") for n in names}
    assert all("{{" not in sql and "{%" not in sql for sql in compiled.values())
    return compiled
