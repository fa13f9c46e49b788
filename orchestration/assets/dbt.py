"""The dbt assets: staging -> intermediate -> marts -> snapshots, built in-process into the scratch
file with the parsed manifest; every dbt test is an asset check. A failing test stops the run
before publish (CheckFailed names it), so the published file is never touched."""


import functools
import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets
from dagster_dbt.asset_utils import get_asset_check_key_for_test, get_subset_selection_for_context

from .. import dbt_build
from ..paths import DBT_PROJECT_DIR
from ..resources import RefreshLock

project = DbtProject(project_dir=DBT_PROJECT_DIR)


class CheckFailed(RuntimeError):
    """Blocking checks failed: the build is rejected. `checks` names them, `details` says how."""

    def __init__(self, failures: list[tuple[str, str]]):
        self.checks = [name for name, _ in failures]
        first = f"{failures[0][1]}"
        more = f"; also failing: {', '.join(self.checks[1:4])}" if len(failures) > 1 else ""
        more += " ..." if len(failures) > 4 else ""
        super().__init__(f"{first}{more}")


class KforTranslator(DagsterDbtTranslator):
    """Asset keys mirror DuckDB schema/table (the dbt default for custom schemas); groups follow
    the dbt folders, seeds are reference data."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


TRANSLATOR = KforTranslator()


@dbt_assets(manifest=dbt_build.MANIFEST_PATH, project=project, dagster_dbt_translator=TRANSLATOR,
            name="dbt_models", pool="kfor_warehouse")
def dbt_models(context: dg.AssetExecutionContext, refresh_lock: RefreshLock):
    build = dbt_build.point_at_build()
    select, indirect = get_subset_selection_for_context(
        context, manifest_json(), select="fqn:*", exclude=None, selector=None,
        dagster_dbt_translator=TRANSLATOR, current_dbt_indirect_selection_env=None)
    # Unit tests check the SQL on fixed inputs, not the page: they run in CI (make test), not in
    # every refresh (0.8 s).
    args = (["build", "--exclude-resource-type", "unit_test", *select]
            + (["--indirect-selection", indirect] if indirect else []))
    results = dbt_build.invoke(args).result.results
    failed: list[tuple[str, str]] = []
    errors: list[str] = []
    con = duckdb.connect(str(build), read_only=True)
    try:
        for r in results:  # completion order is dependency order, as Dagster requires
            uid, status = r.node.unique_id, str(r.status)
            if uid.startswith("test.") or uid.startswith("unit_test."):
                if status == "fail":
                    failed.append((r.node.name, f"{r.failures or 0} failing rows"))
                elif status == "error":
                    errors.append(f"test {r.node.name}: {_one_line(r.message)}")
                key = get_asset_check_key_for_test(manifest_json(), TRANSLATOR, uid, project)
                if key and key in context.selected_asset_check_keys and status != "skipped":
                    yield dg.AssetCheckResult(
                        asset_key=key.asset_key, check_name=key.name, passed=status == "pass",
                        severity=(dg.AssetCheckSeverity.WARN if status == "warn"
                                  else dg.AssetCheckSeverity.ERROR),
                        metadata={"failing_rows": r.failures or 0})
            elif status == "success":
                key = TRANSLATOR.get_asset_spec(manifest_json(), uid, project).key
                if key in context.selected_asset_keys:
                    yield dg.Output(None, output_name=key.to_python_identifier(),
                                    metadata=row_metadata(con, r.node))
            elif status == "error":
                errors.append(f"{r.node.resource_type} {r.node.name}: {_one_line(r.message)}")
    finally:
        con.close()
    if errors:  # broken SQL is our bug, not a bad page: "failed", not "rejected"
        raise dbt_build.DbtFailed("dbt error in " + "; ".join(errors[:3]))
    if failed:  # sorted: dbt's threads finish in any order, the named check must not vary
        raise CheckFailed(sorted(failed))


def _one_line(message: str | None) -> str:
    return " ".join((message or "").split())[:300]


def row_metadata(con, node) -> dict:
    """Row count and page version of a model or seed, read from the scratch file."""
    table = f'"{node.schema}"."{node.alias or node.name}"'
    meta = {"row_count": dg.MetadataValue.int(
        con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])}
    if "content_sha256" in [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]:
        versions = con.execute(f"SELECT DISTINCT content_sha256 FROM {table} LIMIT 2").fetchall()
        if len(versions) == 1:
            meta["page_version"] = versions[0][0]
    return meta


@functools.cache
def manifest_json() -> dict:
    return json.loads(dbt_build.MANIFEST_PATH.read_text())
