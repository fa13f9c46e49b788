"""The corrections seed: one typo on the page is overridden (and shown in marts.fct_correction),
and a correction that no longer matches anything fails the build. Runs the real dbt CLI on a copy
of the project, so the repository's seed is never touched."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from support import pages
from support.warehouse import query

from orchestration.core import raw_tables
from orchestration.core.archive import sha256
from orchestration.core.layout import DBT_PROJECT_DIR
from orchestration.core.outcome import TIME_FORMAT
from orchestration.core.reference import load_reference
from orchestration.drivers.cli import main
from orchestration.parsing import parse_page

pytestmark = pytest.mark.extended  # builds several versions: make test-extended (tests/README.md)

TYPO = pages.v1().replace(b"<p>06 Apr 2001 - 03 Oct 2001</p>", b"<p>06 Apr 2001 - 31 Sep 2001</p>")


@pytest.fixture
def typo_page(tmp_path) -> Path:
    path = tmp_path / "typo.html"
    path.write_bytes(TYPO)
    return path


def test_a_typo_on_the_page_is_rejected_by_a_named_check(published_v1, typo_page, capsys):
    assert main(["refresh", "--source", typo_page.as_uri()]) == 1
    assert capsys.readouterr().err.startswith("rejected: converts_stg_raw__commanders_end_text")


def dbt_build_with(corrections: list[dict], tmp_path: Path, built_warehouse: Path):
    """Build a scratch copy (v1 published + the typo page loaded as the newest publication) with a
    copy of the dbt project whose corrections seed holds `corrections`."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    with open(project / "seeds" / "corrections.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["content_sha256", "fact", "ordinal", "field",
                                               "page_value", "corrected_value", "reason"])
        writer.writeheader()
        writer.writerows(corrections)
    db = tmp_path / "build" / "kfor.duckdb"
    db.parent.mkdir()
    shutil.copyfile(built_warehouse, db)
    page = parse_page(TYPO, None, load_reference())
    con = duckdb.connect(str(db))
    log = [r for (r,) in con.execute("SELECT to_json(f) FROM raw.fetch_log f ORDER BY log_seq").fetchall()]
    records = [{k: v for k, v in json.loads(r).items() if k != "log_seq"} for r in log]
    now = datetime.now(UTC).strftime(TIME_FORMAT)  # after v1's fetch, and not in the future (P7)
    records.append({"fetch_id": "typo", "fetched_at": now, "url": "x",
                    "source": "file", "body_sha256": sha256(TYPO),
                    "content_sha256": page.content_sha256, "outcome": "published"})
    raw_tables.load_page(con, page, sha256(TYPO))
    raw_tables.load_fetch_log(con, records)
    con.close()
    # the dbt CLI as an engineer runs it, on the dev target pointed at the scratch copy
    run = subprocess.run([str(Path(sys.executable).parent / "dbt"), "build", "--project-dir",
                          str(project), "--profiles-dir", str(project), "--target", "dev"],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "KFOR_DBT_DEV_DIR": str(db.parent)})
    return run, db, page.content_sha256


def test_a_correction_overrides_the_typo_and_is_visible(tmp_path, built_warehouse):
    version = parse_page(TYPO, None, load_reference()).content_sha256
    run, db, _ = dbt_build_with([{
        "content_sha256": version, "fact": "commander", "ordinal": 5, "field": "end_text",
        "page_value": "31 Sep 2001", "corrected_value": "03 Oct 2001",
        "reason": "typo on the page: Skiaker handed over on 3 Oct 2001"}], tmp_path, built_warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    assert query(db, "SELECT end_date FROM marts.fct_command_tenure WHERE command_sequence = 5") \
        == [(date(2001, 10, 3),)]
    assert query(db, "SELECT fact_on_page, value_on_page, corrected_value, is_applied "
                     "FROM marts.fct_correction") \
        == [("Thorstein Skiaker", "31 Sep 2001", "03 Oct 2001", True)]


def test_a_correction_that_matches_nothing_fails_the_build(tmp_path, built_warehouse):
    version = parse_page(TYPO, None, load_reference()).content_sha256
    run, _, _ = dbt_build_with([{
        "content_sha256": version, "fact": "commander", "ordinal": 5, "field": "end_text",
        "page_value": "30 Sep 2001", "corrected_value": "03 Oct 2001", "reason": "stale"}],
        tmp_path, built_warehouse)
    assert run.returncode != 0
    assert "FAIL 1 assert_corrections_apply" in " ".join(run.stdout.split())
