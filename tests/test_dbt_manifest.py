"""The parsed-manifest cache: a refresh process reuses it, and any project change invalidates it."""

from __future__ import annotations

import subprocess
import sys

from orchestration import dbt_build

PROBE = ("import time; from orchestration import dbt_build; t = time.perf_counter(); "
         "m = dbt_build.manifest(); print(len(m.nodes), m.ref_lookup.find('fct_command_tenure', "
         "None, None, m).unique_id)")


def test_a_cached_manifest_is_whole_and_equal_to_a_parse():
    """Loaded from the cache in a fresh process, the manifest resolves refs (dbt's own pickling
    shifts fields; ours must not)."""
    dbt_build.manifest()
    assert dbt_build.MANIFEST_CACHE.exists()
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    count, unique_id = out.stdout.split()
    assert unique_id == "model.kfor.fct_command_tenure"
    assert int(count) == len(dbt_build.manifest().nodes)


def test_the_fingerprint_follows_the_project_files(tmp_path, monkeypatch):
    project = tmp_path / "p"
    (project / "models").mkdir(parents=True)
    (project / "models" / "a.sql").write_text("select 1")
    monkeypatch.setattr(dbt_build, "DBT_PROJECT_DIR", project)
    before = dbt_build.fingerprint()
    (project / "models" / "a.sql").write_text("select 2")
    assert dbt_build.fingerprint() != before
    (project / "target").mkdir()
    changed = dbt_build.fingerprint()
    (project / "target" / "run_results.json").write_text("{}")  # build output: not an input
    assert dbt_build.fingerprint() == changed


def test_every_mart_and_mart_column_is_described():
    """The docs site (make docs) shows a description on every mart and every mart column."""
    import json

    dbt_build.ensure_manifest()
    nodes = json.loads(dbt_build.MANIFEST_PATH.read_text())["nodes"].values()
    marts = [n for n in nodes if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert len(marts) >= 10
    missing = [n["name"] for n in marts if not n["description"].strip()]
    missing += [f"{n['name']}.{c}" for n in marts for c, col in n["columns"].items()
                if not col["description"].strip()]
    assert missing == []


def test_exposures_declare_the_bi_dashboards_and_the_parquet_export():
    import json

    manifest = json.loads(dbt_build.MANIFEST_PATH.read_text())
    kinds = {e["type"] for e in manifest["exposures"].values()}
    assert {"dashboard", "application"} <= kinds
    assert all(e["depends_on"]["nodes"] for e in manifest["exposures"].values())
