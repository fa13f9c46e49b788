"""The page's own history on two time axes (rules V1-V5 of docs/rules.md): valid time is when the
page said it, recorded time when the warehouse learned it. Captures are written into the archive
and fetch log as an import records them (source `import`, `captured_at`), then `kfor replay`
builds the history; the same captures logged in another order give the same history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import pages
from support.fetch_log import fetches
from support.isolation import isolate
from support.warehouse import query, table_checksums

from orchestration.core.archive import Archive
from orchestration.core.reference import load_reference
from orchestration.drivers.cli import main
from orchestration.parsing import parse_page

SNAPSHOT_DAY = "2023-12-01"
# Recorded-time columns and build stamps: the only ones allowed to differ between two orders (a
# live fetch's sighting is its fetch, so its sighting times are recorded times too).
RECORDED = {"recorded_at", "closed_recorded_at", "first_fetched_at", "last_fetched_at",
            "first_sighted_at", "last_sighted_at", "fetch_count", "built_at", "published_at",
            "body_sha256"}


def stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log_capture(archive: Archive, body: bytes, captured: datetime | None, fetched: datetime,
                source: str = "import") -> str:
    page = parse_page(body, "text/html; charset=utf-8", load_reference())
    archive.append({"fetch_id": f"{source}-{page.content_sha256[:8]}-{fetched:%H%M%S%f}",
                    "fetched_at": stamp(fetched), "url": "http://127.0.0.1/topics_48818.htm",
                    "source": source, "status": 200, "content_type": "text/html; charset=utf-8",
                    "body_sha256": archive.store(body), "content_sha256": page.content_sha256,
                    "bytes": len(body), "outcome": "published",
                    "captured_at": stamp(captured) if captured else None})
    return page.content_sha256


CAPTURES = {  # version -> capture time (None: a live fetch, sighted when fetched)
    "v1": datetime(2023, 12, 1, 8, 0, tzinfo=UTC),
    "v2": datetime(2024, 11, 1, 8, 0, tzinfo=UTC),
    "v3": None,
}


def build(root: Path, order: list[str], mp) -> Path:
    isolate(mp, root)
    archive = Archive(root / "raw")
    for i, name in enumerate(order):
        fetched = datetime(2026, 12, 1, 9, 0, i, tzinfo=UTC)
        log_capture(archive, getattr(pages, name)(), CAPTURES[name], fetched,
                    source="import" if CAPTURES[name] else "live")
    assert main(["replay"]) == 0
    return root / "warehouse" / "kfor.duckdb"


@pytest.fixture(scope="module")
def two_orders(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        a = build(tmp_path_factory.mktemp("order_a"), ["v3", "v1", "v2"], mp)
        b = build(tmp_path_factory.mktemp("order_b"), ["v2", "v3", "v1"], mp)
    return a, b


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_versions_take_their_place_in_valid_time_whatever_order_they_were_imported(two_orders):
    for warehouse in two_orders:
        assert query(warehouse, """
            SELECT page_last_updated::date, valid_from FROM marts.fct_page_version
            ORDER BY valid_from""") == [
            (datetime(2023, 11, 20).date(), datetime(2023, 11, 20, 16, 24, tzinfo=UTC)),  # 17:24 CET
            (datetime(2024, 10, 18).date(), datetime(2024, 10, 18, 8, 0, tzinfo=UTC)),  # 10:00 CEST
            (datetime(2025, 3, 12).date(), datetime(2025, 3, 12, 8, 30, tzinfo=UTC))]   # 09:30 CET
        assert query(warehouse, "SELECT page_last_updated::date FROM marts.meta") \
            == [(datetime(2025, 3, 12).date(),)]


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_replay_is_exact_whatever_the_import_order(two_orders):
    a, b = two_orders
    for schema in ("marts", "snapshots"):
        sums_a = table_checksums(a, schema, exclude=_recorded(a, schema))
        assert sums_a == table_checksums(b, schema, exclude=_recorded(b, schema)), schema


def _recorded(path: Path, schema: str) -> dict[str, set[str]]:
    tables = {t for (t,) in query(path, f"SELECT table_name FROM duckdb_tables() "
                                        f"WHERE schema_name = '{schema}'")}
    return {t: RECORDED for t in tables}


@pytest.mark.slow  # builds on the module's imported history: CI's slow run (tests/README.md)
def test_the_change_log_follows_valid_time(two_orders):
    for warehouse in two_orders:
        rows = query(warehouse, """
            SELECT DISTINCT span_seq, (changed_at AT TIME ZONE 'UTC')::date FROM marts.fct_page_change
            ORDER BY 1""")
        assert [d.isoformat() for _, d in rows] == ["2023-11-20", "2024-10-18", "2025-03-12"]
        assert ("troop_level", "changed", "4500", "4700") in set(query(warehouse, """
            SELECT entity, change_type, old_value, new_value FROM marts.fct_page_change
            WHERE span_seq = 3"""))


@pytest.mark.slow  # builds on the module's imported history: CI's slow run (tests/README.md)
def test_what_the_page_said_on_a_day_and_what_the_warehouse_knew(two_orders):
    a, _ = two_orders
    said = query(a, """
        SELECT t.full_name FROM snapshots.snap_command_tenure t
        WHERE valid_from <= TIMESTAMPTZ '2024-06-01 00:00:00+00'
          AND (valid_to IS NULL OR valid_to > TIMESTAMPTZ '2024-06-01 00:00:00+00')
          AND t.end_date IS NULL""")
    assert said == [("Özkan Ulutaş",)]
    knew = query(a, """
        SELECT count(*) FROM snapshots.snap_command_tenure
        WHERE recorded_at <= TIMESTAMPTZ '2026-11-30 00:00:00+00'""")
    assert knew == [(0,)]  # every capture was recorded on 1 Dec 2026


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_stamp_before_the_previous_sighting_is_not_believed(tmp_path, monkeypatch):
    """v2's stamp (18 Oct 2024) falls before the last sighting of v1 (a live fetch today): the page
    cannot have changed before the warehouse last saw the old version, so v2 is valid from its
    first sighting (rule V2)."""
    isolate(monkeypatch, tmp_path)
    archive = Archive(tmp_path / "raw")
    log_capture(archive, pages.v1(), None, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "live")
    log_capture(archive, pages.v2(), None, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), "live")
    assert main(["replay"]) == 0
    assert query(tmp_path / "warehouse" / "kfor.duckdb", """
        SELECT span_seq, valid_from, valid_from_basis FROM staging.int_version_spans
        ORDER BY 1""") == [(1, datetime(2023, 11, 20, 16, 24, tzinfo=UTC), "page_stamp"),
                           (2, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), "first_sighting")]


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_revert_opens_a_new_span(tmp_path, monkeypatch):
    """v1, v2, then v1 again (here an operator's rollback: a live page that loses a commander
    is rejected by assert_commanders_did_not_drop)."""
    isolate(monkeypatch, tmp_path)
    archive = Archive(tmp_path / "raw")
    for day, body, source in ((1, pages.v1(), "live"), (2, pages.v2(), "live"),
                              (3, pages.v1(), "rollback")):
        log_capture(archive, body, None, datetime(2026, 12, day, 9, 0, tzinfo=UTC), source)
    assert main(["replay"]) == 0
    warehouse = tmp_path / "warehouse" / "kfor.duckdb"
    assert query(warehouse, """
        SELECT span_seq, (valid_from AT TIME ZONE 'UTC')::date FROM staging.int_version_spans
        ORDER BY 1""") == [
        (1, datetime(2023, 11, 20).date()), (2, datetime(2026, 12, 2).date()),
        (3, datetime(2026, 12, 3).date())]
    assert query(warehouse, "SELECT page_last_updated::date FROM marts.meta") \
        == [(datetime(2023, 11, 20).date(),)]
    log = fetches(tmp_path / "raw")
    assert len(log) == 3
