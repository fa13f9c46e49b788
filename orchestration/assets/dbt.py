"""The dbt assets, as dagster-dbt makes them: `@dbt_assets` over the prepared manifest, every
model, seed and snapshot an asset (keys mirror DuckDB schema/table), every dbt data test an asset
check. The body streams `dbt build` into the run's scratch file (KFOR_BUILD_PATH, set by the run's
resource). A failing test fails this step, so the publish step never runs and the published file
is untouched; the failure names the tests from dbt's own run_results.json."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.assets.raw import require_whole_refresh
from orchestration.resources import RefreshRun

# Unit tests check the SQL on fixed inputs, not the page: they run in `make test`, not in every
# refresh.
BUILD = ["build", "--exclude-resource-type", "unit_test"]


class CheckFailed(dg.Failure):
    """Blocking dbt tests failed: the build is rejected. `checks` names them (sorted: dbt's
    threads finish in any order, the named check must not vary)."""

    def __init__(self, failures: list[tuple[str, str]]):
        failures = sorted(failures)
        self.checks = [name for name, _ in failures]
        more = f"; also failing: {', '.join(self.checks[1:4])}" if len(failures) > 1 else ""
        more += " ..." if len(failures) > 4 else ""
        self.detail = f"{failures[0][0]}: {failures[0][1]}{more}"
        super().__init__(description=f"rejected: {self.checks[0]} ({self.detail})",
                         metadata={"failing_tests": ", ".join(self.checks)})

    def __str__(self) -> str:
        return self.detail


class DbtFailed(RuntimeError):
    """dbt could not build (a compile or runtime error, a crash): our bug, not a bad page."""


class KforTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folders (staging, intermediate, marts, snapshots); seeds are
    reference data. Keys are dagster-dbt's own: sources by their meta.dagster.asset_key (raw/*),
    models, seeds and snapshots by their configured schema and name (marts/dim_commander)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


TRANSLATOR = KforTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def build_dbt_assets(project: DbtProject, whole: set[dg.AssetKey]):
    @dbt_assets(manifest=project.manifest_path, project=project, name="dbt_models",
                dagster_dbt_translator=TRANSLATOR, exclude="resource_type:unit_test")
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                   refresh_run: RefreshRun):
        require_whole_refresh(context, whole)
        target = refresh_run.state.files.dbt_target
        (target / "run_results.json").unlink(missing_ok=True)  # the verdict is this build's
        invocation = dbt.cli(BUILD, context=context, raise_on_error=False, target_path=target)
        yield from invocation.stream()
        raise_unless_built(invocation)

    return dbt_models


def raise_unless_built(invocation: DbtCliInvocation) -> None:
    """dbt's verdict, from its own run_results.json: failing tests reject the page (CheckFailed),
    errors are failures (DbtFailed)."""
    if invocation.is_successful():
        return
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # noqa: BLE001 - dbt died before writing its results: say why it did
        error = str(invocation.get_error() or "")
        why = " ".join(error.split("Errors parsed from dbt logs:")[-1].split())[:300] \
            if "Errors parsed from dbt logs:" in error else "it logged no error"
        raise DbtFailed(f"dbt build failed before it wrote its results ({why}); see "
                        f"{invocation.target_path / 'dbt.log'}") from None
    errors = [f"{r['unique_id'].split('.')[-1]}: {' '.join((r.get('message') or '').split())[:300]}"
              for r in results if r["status"] in ("error", "runtime error")]
    if errors:  # broken SQL is our bug, not a bad page: "failed", not "rejected"
        raise DbtFailed("dbt error in " + "; ".join(errors[:3]))
    failing = [(r["unique_id"].split(".")[2], f"{r.get('failures') or 0} failing rows")
               for r in results if r["unique_id"].startswith("test.") and r["status"] == "fail"]
    if failing:
        raise CheckFailed(failing)
    raise DbtFailed(f"dbt build failed; see {invocation.target_path / 'dbt.log'}")
