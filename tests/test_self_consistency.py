"""The published file never contradicts itself: after every kind of refresh, rebuilding every
dbt relation from the file's own raw schema gives the rows it publishes (build time aside).
Nothing but a dbt build writes a relation dbt builds (SPEC, refresh semantics 3)."""

from __future__ import annotations

import shutil

import pytest
from support import pages
from support.http_server import PageServer
from support.isolation import isolate
from support.warehouse import table_checksums

from orchestration.drivers.cli import main
from orchestration.drivers.dbt_run import run_dbt

DBT_SCHEMAS = ("staging", "marts", "snapshots")
BUILD_TIME = {"meta": {"built_at"}}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def rebuilt_from_own_raw(published, tmp_path) -> dict:
    copy = tmp_path / "rebuild" / "kfor.duckdb"
    shutil.rmtree(copy.parent, ignore_errors=True)
    copy.parent.mkdir(parents=True)
    shutil.copyfile(published, copy)
    results = run_dbt(["build", "--exclude-resource-type", "unit_test"], copy).result
    bad = [(r.node.name, str(r.status), r.message) for r in results.results
           if str(r.status) not in ("success", "pass", "no-op")]
    assert not bad, bad
    return {s: table_checksums(copy, s, BUILD_TIME) for s in DBT_SCHEMAS}


def published(path) -> dict:
    return {s: table_checksums(path, s, BUILD_TIME) for s in DBT_SCHEMAS}


@pytest.mark.slow
@pytest.mark.parametrize("walk", ["publish, unchanged x2, rejected, new version, rollback, replay"])
def test_every_step_leaves_a_file_that_rebuilds_to_itself(walk, tmp_path, monkeypatch):
    from reliability.bad_pages import commanders_missing

    isolate(monkeypatch, tmp_path)
    warehouse = tmp_path / "warehouse" / "kfor.duckdb"
    with PageServer() as server:
        url = server.url("/p.htm")
        steps = [("publish", pages.v1(), 0), ("unchanged", pages.v1(), 0),
                 ("unchanged", pages.v1(), 0), ("rejected", commanders_missing()[0], 1),
                 ("new version", pages.v2(), 0)]
        for name, body, rc in steps:
            server.route("/p.htm", body=body, headers=HTML)
            assert main(["refresh", "--source", url]) == rc, name
            assert published(warehouse) == rebuilt_from_own_raw(warehouse, tmp_path), name
    for name, argv in (("rollback", ["rollback"]), ("replay", ["replay"])):
        assert main(argv) == 0, name
        assert published(warehouse) == rebuilt_from_own_raw(warehouse, tmp_path), name
