"""dbt through its public programmatic API (`dbtRunner`) with no KFOR_BUILD_PATH (profiles.yml's
dev default), pointed at a folder of the test's own (KFOR_DBT_DEV_DIR), with its artefacts and
logs kept there too: no test writes into dbt_project/ or depends on the shell's way of running
dbt."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from dbt.cli.main import dbtRunner

from orchestration.core import layout as paths
from orchestration.core import raw_tables

PROJECT = paths.DBT_PROJECT_DIR


class DevDbt:
    """`dbt <command>` with its artefacts and logs under `folder`. On the default target (dev),
    against `folder`/kfor.duckdb: KFOR_DBT_DEV_DIR must name `folder` while it runs (profiles.yml
    reads it), unless KFOR_BUILD_PATH names another file. `target="postgres"`: the database the
    PG* variables name."""

    def __init__(self, folder: Path, target: str | None = None):
        self.folder = folder
        self.args = ["--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
                     "--target-path", str(folder / "target"),
                     "--log-path", str(folder / "logs"), "--log-level", "none",
                     "--log-level-file", "none", "--no-use-colors",
                     *(["--target", target] if target else [])]
        state = PROJECT / "target" / "partial_parse.msgpack"  # `make setup` parsed the project
        if target is None and state.exists() and not (folder / "target" / state.name).exists():
            (folder / "target").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(state, folder / "target" / state.name)

    def __call__(self, *args: str):
        result = dbtRunner().invoke([*args, *self.args])
        if result.exception is not None:
            raise result.exception
        return result

    def empty_raw_schema(self) -> None:
        """The raw tables as a refresh writes them, with no rows."""
        con = duckdb.connect(str(self.folder / "kfor.duckdb"))
        try:
            raw_tables.ensure_schema(con)
        finally:
            con.close()

    def compiled(self, names: list[str]) -> dict[str, str]:
        """The compiled SQL of these models and analyses."""
        result = self("compile", "--select", *names)
        assert result.success, result
        return {r.node.name: r.node.compiled_code for r in result.result.results
                if r.node.name in names}


def assert_every_unit_test_passes(dbt) -> None:
    """`dbt test --select test_type:unit` through `dbt` (a DevDbt, or the Postgres target's
    runner): every unit test the project's YAML declares ran, and each passed."""
    import yaml

    results = dbt("test", "--select", "test_type:unit").result.results
    failing = [f"{r.node.name}: {r.message}" for r in results if str(r.status) != "pass"]
    assert failing == [], "\n\n".join(failing)
    written = {t["name"] for path in (PROJECT / "models").rglob("*.yml")
               for t in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])}
    assert {r.node.name for r in results} == written  # every unit test written ran
    assert len(written) >= 30
