"""`kfor import` end to end (issue 12, part 2): older captures of the page from a waybackpack
directory, after a live refresh, take their places in valid time; a capture that does not parse is
rejected and skipped; one that fails a dbt check is named, excluded and the build repeated; the
same captures imported in another order give the same history (rule V3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from support import pages
from support.fetch_log import fetches
from support.isolation import isolate
from support.warehouse import file_sha256, query

from orchestration.drivers.cli import main

FIXTURES = Path(__file__).parent.parent / "parsing" / "fixtures"
PATH = "www.nato.int/cps/en/natolive/topics_48818.htm"
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body><p>Hrm. "
              b"The Wayback Machine has not archived that URL.</p></body></html>")
CAPTURES = {  # capture time -> body
    "20090815000000": (FIXTURES / "natolive-2009-08.html").read_bytes(),
    "20121015000000": (FIXTURES / "natolive-2012-10.html").read_bytes(),
    "20150101000000": ERROR_PAGE,
    "20191020000000": (FIXTURES / "natohq-2019-10.html").read_bytes(),
    "20231201080000": pages.v1(),
    "20240101000000": pages.v1(),  # the same version seen again: a sighting
}


def capture_dir(root: Path, stamps) -> Path:
    for ts in stamps:
        target = root / ts / PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(CAPTURES[ts])
    return root


def live_refresh(root: Path) -> None:
    page = root / "live" / "topics_48818.htm"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_bytes(pages.v3())
    assert main(["refresh", "--source", page.as_uri()]) == 0


def log(root: Path) -> list[dict]:
    return fetches(root / "raw")


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A live refresh of the 2025 page, then every capture imported in one go."""
    root = tmp_path_factory.mktemp("import_all")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root)
        live_refresh(root)
        rc = main(["import", str(capture_dir(root / "captures", CAPTURES))])
    return {"root": root, "rc": rc, "warehouse": root / "warehouse" / "kfor.duckdb"}


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_the_import_publishes_the_older_versions_in_valid_time_order(imported):
    assert imported["rc"] == 0
    rows = query(imported["warehouse"], """
        SELECT valid_from::date, troops FROM marts.fct_page_strength ORDER BY valid_from""")
    assert rows == [(date(2009, 8, 15), 13800), (date(2012, 10, 15), 5000),
                    (date(2019, 10, 17), 3500), (date(2023, 11, 20), 4500),
                    (date(2025, 3, 12), 4700)]
    # the live version stays the current one: the imports are older
    assert query(imported["warehouse"], "SELECT page_last_updated::date FROM marts.meta") \
        == [(date(2025, 3, 12),)]


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_every_capture_is_logged_once_with_its_outcome(imported):
    imports = [r for r in log(imported["root"]) if r["source"] == "import"]
    by_time = {r["captured_at"][:10]: r["outcome"] for r in imports}
    assert by_time == {"2009-08-15": "published", "2012-10-15": "published",
                       "2015-01-01": "rejected: parse:today_figure_missing",
                       "2019-10-20": "published", "2023-12-01": "published",
                       "2024-01-01": "unchanged"}
    assert all(r["fetched_at"] > r["captured_at"] for r in imports)  # recorded after captured


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_the_import_summary_counts_what_happened(imported, monkeypatch, capsys):
    isolate(monkeypatch, imported["root"])
    before = file_sha256(imported["warehouse"])
    log_before = log(imported["root"])
    assert main(["import", str(imported["root"] / "captures")]) == 0  # again: a no-op (rule I2)
    out = capsys.readouterr().out
    assert ("6 captures seen, 0 new versions, 0 sightings of known versions, 5 already imported"
            in out)
    assert "parse:today_figure_missing: 1" in out  # a refused capture is tried (and logged) again
    assert before == file_sha256(imported["warehouse"])  # no build: nothing new to it
    assert log(imported["root"])[:len(log_before)] == log_before
    assert [r["outcome"] for r in log(imported["root"])[len(log_before):]] == [
        "rejected: parse:today_figure_missing"]


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_the_import_runs_are_in_the_dagster_instance(imported):
    import dagster as dg

    with dg.DagsterInstance.from_config(str(imported["root"] / "dagster_home")) as instance:
        runs = instance.get_run_records(dg.RunsFilter(job_name="refresh"))
        # the live refresh and the import: one run each, both succeeded, tagged with how they
        # started (launch tags only: the outcome is the run's status and the fetch log)
        assert [r.dagster_run.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
        assert sorted(r.dagster_run.tags["kfor/started_by"] for r in runs) == ["cli", "import"]


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_capture_failing_a_check_in_the_build_is_excluded(tmp_path, monkeypatch, capsys):
    """"31 Feb 2015" reads as a commander line but no date converts it (dbt's staging test): the
    capture is found, named and excluded, and the others publish."""
    isolate(monkeypatch, tmp_path)
    live_refresh(tmp_path)
    bad = CAPTURES["20191020000000"].replace(b"Last updated: 17 Oct. 2019 14:54",
                                             b"Last updated: 16 Oct. 2019 14:54")
    bad = bad.replace(b"- present", b"- 31 Feb 2019", 1)
    assert bad != CAPTURES["20191020000000"]
    root = capture_dir(tmp_path / "captures", ["20121015000000", "20231201080000"])
    (root / "20191020000000" / PATH).parent.mkdir(parents=True)
    (root / "20191020000000" / PATH).write_bytes(bad)
    assert main(["import", str(root)]) == 0
    err = capsys.readouterr().err
    assert "excluded the capture of 2019-10-20" in err
    outcomes = {r["captured_at"][:4]: r["outcome"] for r in log(tmp_path) if r["source"] == "import"}
    assert outcomes["2012"] == outcomes["2023"] == "published"
    assert outcomes["2019"].startswith("rejected: converts_stg_raw__commanders")
    assert [d for (d,) in query(tmp_path / "warehouse" / "kfor.duckdb",
                                "SELECT valid_from::date FROM marts.fct_page_strength ORDER BY 1")] \
        == [date(2012, 10, 15), date(2023, 11, 20), date(2025, 3, 12)]


def test_the_offline_fallback_is_the_newest_refresh_never_an_imported_capture(tmp_path):
    """An import logs its older captures after the live version: the fallback must still be the
    live one, or an offline refresh would publish a capture of 2023 as the page of today."""
    from orchestration.core.archive import Archive
    from orchestration.core.decide import archived_fallback

    archive = Archive(tmp_path / "raw")
    for n, (body, source) in enumerate(((pages.v3(), "live"), (pages.v1(), "import"))):
        archive.append({"fetch_id": f"{n:032x}", "fetched_at": f"2026-01-0{n + 1}T00:00:00.000000Z",
                        "url": "http://127.0.0.1/p", "source": source, "outcome": "published",
                        "body_sha256": archive.store(body), "content_sha256": f"{n:064x}"})
    result, _ = archived_fallback(archive)
    assert result.body == pages.v3()
