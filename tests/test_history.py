"""Page versions over time: v1 -> v2 -> v2 -> v3 refreshed from a local HTTP server, then the
history, the change log, replay, idempotency and rollback (issue "Page versions over time")."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from support import pages
from support.fetch_log import fetches
from support.http_server import PageServer
from support.isolation import isolate
from support.warehouse import query, table_checksums

from orchestration.drivers.cli import main

pytestmark = pytest.mark.slow  # builds several versions: CI's slow run (tests/README.md)

# Columns that only count fetches (SPEC refresh semantics 6) or stamp the build.
BOOKKEEPING = {"fct_page_version": {"last_fetched_at", "fetch_count"}, "meta": {"built_at"}}


def checksums(path: Path, exclude=BOOKKEEPING) -> dict:
    return {schema: table_checksums(path, schema, exclude) for schema in ("marts", "snapshots")}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Refresh v1, v2, v2, v3 in order; keep the outcome and checksums of each step."""
    root = tmp_path_factory.mktemp("history")
    steps = []
    with pytest.MonkeyPatch.context() as mp, PageServer() as server:
        isolate(mp, root)
        url = server.url("/topics_48818.htm")
        for name in ("v1", "v2", "v2", "v3"):
            server.route("/topics_48818.htm", body=getattr(pages, name)())
            rc = main(["refresh", "--source", url])
            steps.append({"name": name, "rc": rc,
                          "sums": checksums(root / "warehouse" / "kfor.duckdb")})
        yield {"steps": steps, "warehouse": root / "warehouse" / "kfor.duckdb", "raw": root / "raw"}


def own_copy(history, tmp_path: Path, monkeypatch) -> dict:
    """The history's warehouse, raw archive and instance copied for a test that writes (a replay,
    a rollback), so that the module's other tests see the four refreshes whatever the order."""
    root = tmp_path / "history"
    shutil.copytree(history["warehouse"].parent.parent, root, symlinks=True)
    isolate(monkeypatch, root)
    return {**history, "warehouse": root / "warehouse" / "kfor.duckdb", "raw": root / "raw"}


def test_each_refresh_succeeds(history):
    assert [s["rc"] for s in history["steps"]] == [0, 0, 0, 0]
    log = fetches(history["raw"])
    assert [r["outcome"] for r in log] == ["published", "published", "unchanged", "published"]


def test_three_versions_with_v2_fetched_twice(history):
    rows = query(history["warehouse"], """
        SELECT page_last_updated::date, fetch_count, is_current FROM marts.fct_page_version
        ORDER BY first_fetched_at""")
    assert rows == [(date(2023, 11, 20), 1, False), (date(2024, 10, 18), 2, False),
                    (date(2025, 3, 12), 1, True)]


def test_the_same_page_twice_changes_no_mart_row_but_bookkeeping(history):
    v2_first, v2_again = history["steps"][1]["sums"], history["steps"][2]["sums"]
    assert v2_first == v2_again


def test_the_closed_tenure_is_visible_in_the_snapshot(history):
    rows = query(history["warehouse"], """
        SELECT end_date, is_current, valid_from, valid_to,
               valid_from_content_sha256 = v.first, valid_to_content_sha256 = v.second
        FROM snapshots.snap_command_tenure,
             (SELECT min(content_sha256) FILTER (WHERE page_last_updated < '2024-01-01') AS first,
                     min(content_sha256) FILTER (WHERE page_last_updated::date = '2024-10-18') AS second
              FROM marts.fct_page_version) AS v
        WHERE tenure_key = 'ozkan-ulutas#1' ORDER BY valid_from""")
    (open_end, was_current, from1, to1, a1, b1), (closed_end, now_current, from2, to2, a2, _) = rows
    assert (open_end, was_current, a1, b1) == (None, True, True, True)
    assert (closed_end, now_current, to2) == (date(2024, 10, 11), False, None)
    assert to1 == from2 and from1 < to1  # the interval ends when v2 was published


def test_current_flags_follow_the_newest_version(history):
    assert query(history["warehouse"], """
        SELECT c.full_name FROM marts.fct_command_tenure t JOIN marts.dim_commander c
        USING (commander_key) WHERE t.is_current""") == [("Enrico Barduani",)]
    assert query(history["warehouse"], "SELECT count(*) FROM marts.fct_command_tenure") == [(29,)]
    assert query(history["warehouse"], "SELECT troops, period_start, contributing_nations "
                                       "FROM marts.fct_troop_level WHERE is_current") \
        == [(4700, date(2025, 3, 12), 28)]
    assert query(history["warehouse"], """
        SELECT count(*) FROM snapshots.snap_command_tenure WHERE valid_to IS NULL""") == [(29,)]


def test_the_change_log_holds_every_difference(history):
    rows = set(query(history["warehouse"], """
        SELECT span_seq, entity, change_type, entity_label, field, old_value, new_value
        FROM marts.fct_page_change WHERE span_seq > 1"""))
    assert (2, "tenure", "added", "Maj. Gen. Enrico Barduani (IT)", None, None, None) in rows
    assert (2, "tenure", "changed", "Maj. Gen. Özkan Ulutaş (TU)", "end_date", None,
            "2024-10-11") in rows
    assert (2, "event", "added", "assumption_of_command 11 Oct 2024", None, None, None) in rows
    assert (3, "troop_level", "changed", "KFOR reported troops as of the page date", "troops",
            "4500", "4700") in rows
    assert (3, "section", "added", "The evolution of NATO's role in Kosovo > KFOR in 2024", None,
            None, None) in rows
    # v2 vs v1: nothing else changed about tenures
    tenure_changes = {r for r in rows if r[0] == 2 and r[1] == "tenure"}
    assert len(tenure_changes) == 2
    versions = query(history["warehouse"], """
        SELECT DISTINCT span_seq, from_content_sha256 IS NOT NULL, to_content_sha256
        FROM marts.fct_page_change ORDER BY 1""")
    assert [(seq, has_from) for seq, has_from, _ in versions] == [(1, False), (2, True), (3, True)]


def test_replay_reproduces_the_refreshes_exactly(history, tmp_path, monkeypatch):
    history = own_copy(history, tmp_path, monkeypatch)
    before = checksums(history["warehouse"], exclude={"meta": {"built_at"}})
    assert main(["replay"]) == 0
    assert checksums(history["warehouse"], exclude={"meta": {"built_at"}}) == before


def test_rollback_republishes_the_previous_version_and_logs_it(history, tmp_path, monkeypatch,
                                                              capsys):
    history = own_copy(history, tmp_path, monkeypatch)
    v3 = query(history["warehouse"], "SELECT content_sha256 FROM marts.meta")[0][0]
    assert main(["rollback"]) == 0
    assert query(history["warehouse"], "SELECT page_last_updated::date FROM marts.meta") \
        == [(date(2024, 10, 18),)]
    log = fetches(history["raw"])
    assert (log[-1]["source"], log[-1]["outcome"]) == ("rollback", "published")
    assert main(["rollback"]) == 0  # a second rollback undoes the first
    assert query(history["warehouse"], "SELECT content_sha256 FROM marts.meta") == [(v3,)]
    assert "rolled back" in capsys.readouterr().out


def test_status_marks_a_source_not_fetched_within_the_window_as_stale(monkeypatch, raw_dir, capsys):
    raw_dir.mkdir(parents=True)
    (raw_dir / "fetch_log.jsonl").write_text(json.dumps(
        {"fetch_id": "x", "fetched_at": "2020-01-01T00:00:00.000000Z", "url": "u",
         "outcome": "unchanged"}) + "\n")
    monkeypatch.setenv("KFOR_FRESHNESS_HOURS", "48")
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stale"] is True
