"""Older layouts imported end to end from a WARC file (issue 21): every fact each states lands, on
both time axes. Two captures of older layouts (a 2010 layout table with a left menu, bold
headings and names in <b>; a 2013 column layout whose figure for today is a range) and one of the
20 Nov 2023 page go through one `kfor import`. Each layout's facts at the parser's level are in
tests/parsing/test_pages.py; this is the one run that proves they reach the warehouse. (The marts
describe the newest version, and their row-count bands expect today's page: fct_command_tenure
wants 20 tenures or more, so older captures alone would not publish.)"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from capture_data import PAGE_URL
from support import pages
from support.isolation import isolate
from support.warehouse import query
from test_warc import Warc

from orchestration.drivers.cli import main

FIXTURES = Path(__file__).parent.parent / "parsing" / "fixtures"
OLD_URL = PAGE_URL.replace("/natohq/", "/natolive/")


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_older_layouts_from_a_warc_land_whole_on_both_time_axes(tmp_path, monkeypatch, capsys):
    isolate(monkeypatch, tmp_path)
    warc = Warc(tmp_path / "old.warc.gz", gz=True)
    warc.response((FIXTURES / "natolive-2010-12.html").read_bytes(), "2011-01-05T10:00:00Z",
                  url=OLD_URL)
    warc.response((FIXTURES / "natolive-2013-11.html").read_bytes(), "2013-12-01T09:00:00Z",
                  url=OLD_URL)
    warc.response(pages.v1(), "2023-12-01T08:00:00Z", url=PAGE_URL)
    before = datetime.now(UTC)
    assert main(["import", str(warc.save())]) == 0
    assert "3 captures seen, 3 new versions" in capsys.readouterr().out
    warehouse = tmp_path / "warehouse" / "kfor.duckdb"

    # valid time: each page's own stamp, Brussels local time (D6, V4); recorded time: the import
    versions = query(warehouse, """
        SELECT page_last_updated, valid_from, recorded_at FROM marts.fct_page_version
        ORDER BY valid_from""")
    assert [row[:2] for row in versions] == [  # valid_from is a UTC instant (V6)
        (datetime(2010, 12, 16, 16, 26), datetime(2010, 12, 16, 15, 26, tzinfo=UTC)),
        (datetime(2013, 11, 5, 11, 43), datetime(2013, 11, 5, 10, 43, tzinfo=UTC)),
        (datetime(2023, 11, 20, 17, 24), datetime(2023, 11, 20, 16, 24, tzinfo=UTC))]
    assert all(recorded >= before for _, _, recorded in versions)
    assert query(warehouse, """
        SELECT page_date, troops FROM marts.fct_page_strength ORDER BY valid_from""") == [
        (date(2010, 12, 16), 10000), (date(2013, 11, 5), None), (date(2023, 11, 20), 4500)]

    # every tenure of each version, the 2013 list under "Leadership" included (C4)
    assert query(warehouse, """
        SELECT v.page_date, count(*), count(*) FILTER (WHERE t.is_current), max(t.start_date)
        FROM staging.int_command_tenures AS t JOIN staging.int_page_versions AS v
        USING (content_sha256) GROUP BY 1 ORDER BY 1""") == [
        (date(2010, 12, 16), 15, 1, date(2010, 9, 1)), (date(2013, 11, 5), 18, 1, date(2013, 9, 7)),
        (date(2023, 11, 20), 28, 1, date(2023, 10, 10))]
    # the 2013 page's figure for today is a range (T8), and still its figure for today
    assert query(warehouse, """
        SELECT t.troops, t.troops_low, t.troops_high, t.approximation, t.contributing_nations
        FROM staging.int_troop_levels AS t JOIN staging.int_page_versions AS v
        USING (content_sha256) WHERE t.is_current AND v.page_date = '2013-11-05'""") == [
        (None, 4500, 5000, "range", 31)]
    # nothing of the menus, news columns and footers reached the text or a fact (L4)
    texts = [text for (text,) in query(warehouse, "SELECT article_text FROM raw.page_version")]
    assert len(texts) == 3
    for word in ("Multimedia", "troop cut", "Disclaimer", "Did you know", "E-mail this page",
                 "Afghanistan"):
        assert not any(word in text for text in texts), word
    assert query(warehouse, """
        SELECT count(*) FROM raw.troop_figure WHERE troops_text = '2,000'""") == [(0,)]
