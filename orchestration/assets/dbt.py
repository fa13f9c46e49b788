"""The dbt assets: staging -> intermediate -> marts -> snapshots, built in-process into the scratch
file (orchestration.dbt_build); every dbt test is an asset check. A failing test stops the run
before publish (CheckFailed names it), so the published file is never touched."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtProject

from .. import dbt_build
from ..core.project import DBT_PROJECT_DIR
from ..resources import RefreshRun
from .scope import require_whole_refresh

project = DbtProject(project_dir=DBT_PROJECT_DIR)


class CheckFailed(dg.Failure):
    """Blocking checks failed: the build is rejected. `checks` names them; the run's failure
    says "rejected: <check>" so the UI shows which."""

    def __init__(self, failures: list[tuple[str, str]]):
        self.checks = [name for name, _ in failures]
        more = f"; also failing: {', '.join(self.checks[1:4])}" if len(failures) > 1 else ""
        more += " ..." if len(failures) > 4 else ""
        self.detail = f"{failures[0][0]}: {failures[0][1]}{more}"
        super().__init__(description=f"rejected: {self.checks[0]} ({self.detail})",
                         metadata={"failing_tests": ", ".join(self.checks)})

    def __str__(self) -> str:
        return self.detail


class KforTranslator(DagsterDbtTranslator):
    """Asset keys mirror DuckDB schema/table (the dbt default for custom schemas); groups follow
    the dbt folders, seeds are reference data."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


TRANSLATOR = KforTranslator()


def _graph() -> tuple[dict[str, dg.AssetSpec], dict[str, list[str]]]:
    """From target/manifest.json: every model, seed and snapshot's asset spec (by the translator's
    public get_asset_spec), and the dbt tests that guard each of them (a generic test's
    attached_node, a singular test's one upstream node; a guard on several models is filed under
    marts/meta, the table built last)."""
    manifest = dbt_build.manifest_json()
    specs = {uid: TRANSLATOR.get_asset_spec(manifest, uid, project)
             for uid, node in manifest["nodes"].items()
             if node["resource_type"] in ("model", "seed", "snapshot")}
    meta = next(uid for uid, n in manifest["nodes"].items() if n["name"] == "meta")
    tests: dict[str, list[str]] = {}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] == "test":
            upstream = [u for u in node["depends_on"]["nodes"] if u in specs]
            attached = node.get("attached_node") or (upstream[0] if len(upstream) == 1 else meta)
            tests.setdefault(attached, []).append(uid)
    return specs, tests


SPECS, TESTS = _graph()
CHECK = "dbt_tests"


@dg.multi_asset(
    name="dbt_models", specs=list(SPECS.values()), can_subset=False,
    check_specs=[dg.AssetCheckSpec(CHECK, asset=SPECS[uid].key, blocking=True,
                                   description=f"{len(ids)} dbt tests: "
                                   + ", ".join(sorted(i.split(".")[2] for i in ids)))
                 for uid, ids in TESTS.items()])
def dbt_models(context: dg.AssetExecutionContext, refresh_run: RefreshRun):
    """`dbt build` into the scratch file. One Dagster check per model sums up the dbt tests that
    guard it (the tests are named in its metadata): one event per model instead of three per test
    keeps the run's record in the instance cheap."""
    require_whole_refresh(context)
    build = refresh_run.state.settings.build_path
    # Unit tests check the SQL on fixed inputs, not the page: they run in `make test`, not in
    # every refresh.
    results = dbt_build.invoke(["build", "--exclude-resource-type", "unit_test"], build).result
    by_id = {r.node.unique_id: r for r in results.results}
    errors = [f"{r.node.resource_type} {r.node.name}: {_one_line(r.message)}"
              for r in results.results if str(r.status) in ("error", "runtime error")]
    if errors:  # broken SQL is our bug, not a bad page: "failed", not "rejected"
        raise dbt_build.DbtFailed("dbt error in " + "; ".join(errors[:3]))
    con = duckdb.connect(str(build), read_only=True)
    try:
        for r in results.results:  # completion order is dependency order, as Dagster requires
            if r.node.unique_id in SPECS and str(r.status) == "success":
                yield dg.MaterializeResult(asset_key=SPECS[r.node.unique_id].key,
                                           metadata=row_metadata(con, r.node))
    finally:
        con.close()
    failed: list[tuple[str, str]] = []
    for uid, ids in TESTS.items():
        ran = [by_id[i] for i in ids if i in by_id]
        failing = sorted((r.node.name, f"{r.failures or 0} failing rows") for r in ran
                         if str(r.status) == "fail")
        failed += failing
        yield dg.AssetCheckResult(
            asset_key=SPECS[uid].key, check_name=CHECK, passed=not failing,
            metadata={"tests": len(ran), "failing": ", ".join(n for n, _ in failing) or None,
                      "failing_rows": sum(r.failures or 0 for r in ran if str(r.status) == "fail")})
    # A failing test the checks do not list (a manifest older than the project's files) still
    # fails the run: the gate is dbt's results, not the declared checks.
    listed = {i for ids in TESTS.values() for i in ids}
    failed += [(r.node.name, f"{r.failures or 0} failing rows") for r in results.results
               if r.node.resource_type == "test" and r.node.unique_id not in listed
               and str(r.status) == "fail"]
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
