"""dbt through its public programmatic API: one parse per process, the scratch path in one place."""

from __future__ import annotations

import json
import subprocess
import sys

from orchestration import dbt_build

PROBE = ("import time; from orchestration import dbt_build; t = time.perf_counter(); "
         "m = dbt_build.manifest(); print(len(m.nodes), m.ref_lookup.find('fct_command_tenure', "
         "None, None, m).unique_id, round(time.perf_counter() - t, 2))")


def test_a_refresh_process_parses_once_on_the_dev_target_with_partial_parsing():
    """Without the cache, a fresh process gets a whole Manifest from dbt's public parse (partial
    parsing on the dev target, whose path never changes, so the saved state stays valid)."""
    from orchestration import manifest_cache

    dbt_build.prepare()
    manifest_cache.CACHE.unlink(missing_ok=True)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    count, unique_id, _seconds = out.stdout.split()
    assert unique_id == "model.kfor.fct_command_tenure"
    assert int(count) == len(dbt_build.manifest().nodes)


def test_the_cached_manifest_is_whole_after_an_upgrade_or_not_used(tmp_path, monkeypatch):
    """The one dbt internal (orchestration/manifest_cache.py): a Manifest rebuilt from the cache in
    a fresh process resolves refs and holds every node; an upgrade that breaks that fails here."""
    from orchestration import manifest_cache

    dbt_build.manifest()
    assert manifest_cache.CACHE.exists()
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    count, unique_id, seconds = out.stdout.split()
    assert unique_id == "model.kfor.fct_command_tenure"
    assert int(count) == len(dbt_build.manifest().nodes)
    # a project change (or another dbt) changes the key: the cache is not used
    project = tmp_path / "p"
    (project / "models").mkdir(parents=True)
    (project / "models" / "a.sql").write_text("select 1")
    before = manifest_cache.fingerprint(project)
    (project / "models" / "a.sql").write_text("select 2")
    assert manifest_cache.fingerprint(project) != before
    assert manifest_cache.load("not-the-key") is None


def test_the_scratch_path_reaches_dbt_only_through_the_build_args(tmp_path):
    args = dbt_build.build_args(tmp_path / "kfor.duckdb")
    assert args[:2] == ["--target", "build"]
    assert json.loads(args[args.index("--vars") + 1]) == {"build_path": str(tmp_path / "kfor.duckdb"),
                                                          "code_version": dbt_build.code_version()}
    profile = (dbt_build.DBT_PROJECT_DIR / "profiles.yml").read_text()
    assert "var('build_path'" in profile and "KFOR_BUILD_DB" not in profile


def test_a_torn_manifest_json_is_rewritten_whole(tmp_path, monkeypatch):
    dbt_build.prepare()
    whole = dbt_build.MANIFEST_PATH.read_bytes()
    torn = tmp_path / "manifest.json"
    torn.write_bytes(whole[:1000])
    monkeypatch.setattr(dbt_build, "MANIFEST_PATH", torn)
    assert not dbt_build.manifest_is_whole()


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
