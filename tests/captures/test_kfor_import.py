"""`kfor import` end to end from the two sources tests/importing does not use: the Wayback CDX API
(a local one, archive_server.py) and a WARC file (written with warcio). The waybackpack directory,
check failures and import orders are in tests/importing/test_import.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from archive_server import ArchiveServer, Replay
from capture_data import PAGE_URL
from support import pages
from support.fetch_log import fetches
from support.isolation import isolate
from support.warehouse import query
from test_warc import Warc

from orchestration.drivers.cli import main

NATOHQ_2019 = (Path(__file__).parent.parent / "parsing" / "fixtures" / "natohq-2019-10.html")


def imports(root: Path) -> list[dict]:
    return [r for r in fetches(root / "raw") if r["source"] == "import"]


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_an_import_from_the_cdx_api_is_polite_resumable_and_published(tmp_path, monkeypatch,
                                                                     capsys):
    isolate(monkeypatch, tmp_path)
    with ArchiveServer(page_size=2) as archive:
        archive.add(Replay("20191020000000", PAGE_URL, NATOHQ_2019.read_bytes()))
        archive.add(Replay("20231201080000", PAGE_URL, pages.v1(), failures=[503]))
        args = ["import", PAGE_URL, "--cdx", archive.endpoint, "--replay",
                archive.replay_prefix, "--rate", "20", "--from", "2019", "--to", "2024"]
        assert main(args) == 0
        out, err = capsys.readouterr()
        assert "2 captures seen, 2 new versions" in out
        assert "2/2 captures" in err  # progress
        assert archive.cdx_queries and archive.cdx_queries[0].get("from") == "2019"
        first = sum(archive.replay_hits().values())
        assert first == 3  # the 503 retried once
        assert main(args) == 0  # again: every capture is done, nothing is downloaded
        assert sum(archive.replay_hits().values()) == first
        assert "0 captures seen" in capsys.readouterr().out
    warehouse = tmp_path / "warehouse" / "kfor.duckdb"
    assert query(warehouse, "SELECT valid_from::date, troops FROM marts.fct_page_strength "
                            "ORDER BY 1") == [(date(2019, 10, 17), 3500),
                                              (date(2023, 11, 20), 4500)]
    assert [r["captured_at"][:8] for r in imports(tmp_path)] == ["2019-10-", "2023-12-"]
    assert all(r["message"].startswith("cdx ") for r in imports(tmp_path))


@pytest.mark.slow  # in CI's slow run: keeps `make test` within its three minutes
def test_an_import_from_a_warc_file_counts_a_revisit_as_a_sighting(tmp_path, monkeypatch, capsys):
    isolate(monkeypatch, tmp_path)
    warc = Warc(tmp_path / "crawl.warc.gz", gz=True)
    record = warc.response(pages.v1(), "2023-12-01T08:00:00Z", url=PAGE_URL)
    digest = record.rec_headers.get_header("WARC-Payload-Digest")
    warc.revisit(digest, "2024-02-01T08:00:00Z", "2023-12-01T08:00:00Z")
    assert main(["import", str(warc.save())]) == 0
    assert "2 captures seen, 1 new versions, 1 sightings of known versions" in capsys.readouterr().out
    assert [(r["captured_at"][:10], r["outcome"]) for r in imports(tmp_path)] == [
        ("2023-12-01", "published"), ("2024-02-01", "unchanged")]
    assert query(tmp_path / "warehouse" / "kfor.duckdb", """
        SELECT sightings, last_sighted_at::date FROM staging.int_version_spans""") == [
        (2, date(2024, 2, 1))]
