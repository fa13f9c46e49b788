"""Recovery reads only the fetch log, the archive and the published warehouse (issue 17): an
intent with no final record becomes `published` or `failed: interrupted`, a log behind the
published file's own copy is refused, and `kfor repair-log` rebuilds it without losing a
publication, imported ones included. Real DuckDB files and a real log; milliseconds each."""

from __future__ import annotations

import json
import uuid

import duckdb
import pytest
from support.fetch_log import fetches, lines

from orchestration.core import raw_tables
from orchestration.core.archive import Archive
from orchestration.core.files import WarehouseFiles
from orchestration.core.outcome import conclude, intend
from orchestration.core.publish import publish, publish_kept, start_build
from orchestration.core.recovery import LogBehind, recover
from orchestration.core.settings import Settings
from orchestration.drivers.repair import repair_log


def record(fetch_id: str, when: str, version: str, source: str = "live", **extra) -> dict:
    """A fetch record; its id starts with `fetch_id` and is unique (conclude() writes a fetch once
    per process)."""
    return {"fetch_id": f"{fetch_id}-{uuid.uuid4().hex}", "fetched_at": f"2026-01-{when}T00:00:00.000000Z",
            "url": "http://127.0.0.1/p", "source": source, "content_sha256": version,
            "body_sha256": None, **extra}


def published_file(settings: Settings, version: str, log: list[dict]) -> None:
    """Publish a warehouse of `version` whose own copy of the log is `log`."""
    files = settings.files
    build = start_build(files, empty=True)
    con = duckdb.connect(str(build))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.meta AS SELECT ? AS content_sha256", [version])
    raw_tables.load_fetch_log(con, log)
    con.close()
    publish(files, build, keep=5)
    exported = files.parquet / f"20260101T000000000000Z-{version}"  # its exports are current
    exported.mkdir(parents=True, exist_ok=True)
    (exported / "manifest.json").write_text(json.dumps({"version": version}))
    (files.parquet / "current").unlink(missing_ok=True)
    (files.parquet / "current").symlink_to(exported.name)


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


def test_an_intent_the_published_file_holds_is_completed_as_published(settings, raw_dir):
    intent = intend(settings, record("a", "01", "v1"))
    published_file(settings, "v1", [{**intent, "outcome": "published"}])
    assert recover(settings) == [
        "completed the fetch log of a refresh interrupted after it published"]
    assert [r["outcome"] for r in fetches(raw_dir)] == ["published"]
    assert len(lines(raw_dir)) == 2  # the intent, then its final record


def test_an_intent_the_published_file_lacks_is_an_interrupted_failure(settings, raw_dir):
    intend(settings, record("a", "01", "v1"))
    assert recover(settings) == ["logged an interrupted refresh as failed"]
    assert fetches(raw_dir)[0]["outcome"] == "failed: interrupted"
    assert recover(settings) == []  # settled once


def test_the_fetch_a_starting_run_builds_is_not_settled(settings, raw_dir):
    intent = intend(settings, record("a", "01", "v1"))
    assert recover(settings, exclude=intent["fetch_id"]) == []
    assert fetches(raw_dir)[0]["outcome"] == "building"


def test_an_interrupted_rollback_is_judged_by_the_published_version(settings, raw_dir):
    a, b = record("a", "01", "v1"), record("b", "02", "v2")
    published_file(settings, "v1", [{**a, "outcome": "published"}])
    published_file(settings, "v2", [{**a, "outcome": "published"}, {**b, "outcome": "published"}])
    for r in (a, b):
        conclude(settings, r, "published")
    intend(settings, record("c", "03", "v1", source="rollback", compared_with="v2"))
    publish_kept(settings.files, settings.files.kept()[0], keep=5)  # killed right after this
    recover(settings)
    assert fetches(raw_dir)[-1]["outcome"] == "published"


def test_the_scratch_build_is_removed(settings):
    start_build(settings.files, empty=True).write_bytes(b"half a build")
    recover(settings)
    assert not settings.files.build.exists()


def test_a_log_behind_the_published_copy_is_refused_not_shortened(settings, raw_dir):
    log = [record("a", "01", "v1", outcome="published"),
           record("b", "02", "v2", source="import", outcome="published")]
    published_file(settings, "v2", log)
    Archive(raw_dir).append(log[0])  # the log lost its last line
    with pytest.raises(LogBehind, match="lacks 1 fetches .* run `kfor repair-log`"):
        recover(settings)
    assert len(lines(raw_dir)) == 1  # nothing written


def test_repair_rebuilds_the_log_from_the_published_and_kept_copies(settings, raw_dir):
    """Three publications (one imported), a rollback, then the log deleted: the repair loses none."""
    a = record("a", "01", "v1", outcome="published")
    b = record("b", "02", "v0", source="import", outcome="published")
    c = record("c", "03", "v2", outcome="published")
    published_file(settings, "v1", [a])
    published_file(settings, "v1", [a, b])
    published_file(settings, "v2", [a, b, c])
    publish_kept(settings.files, settings.files.kept()[-1], keep=5)  # a rollback to v1 + import
    later = record("d", "04", "v1", outcome="unchanged")
    for r in (a, b, c, later):
        Archive(raw_dir).append(r)
    (raw_dir / "fetch_log.jsonl").write_text("")  # lost
    with pytest.raises(LogBehind):
        recover(settings)
    said = []
    done = repair_log(settings, say=said.append)
    assert [(r["fetch_id"][0], r["outcome"]) for r in fetches(raw_dir)] == [
        ("a", "published"), ("b", "published"), ("c", "published")]
    assert done["publications"] == 3 and done["recovered"] == 3
    assert recover(settings) == []
    assert any("repaired" in line for line in said)


def test_repair_keeps_the_readable_lines_of_a_damaged_log(settings, raw_dir):
    a = record("a", "01", "v1", outcome="published")
    published_file(settings, "v1", [a])
    Archive(raw_dir).append(a)
    Archive(raw_dir).append(record("z", "05", "v1", outcome="unchanged"))
    with open(raw_dir / "fetch_log.jsonl", "a") as f:
        f.write("this is not json\n")
    done = repair_log(settings, say=lambda line: None)
    assert done["damaged"] == 1
    assert [r["fetch_id"][0] for r in fetches(raw_dir)] == ["a", "z"]
    assert list(raw_dir.glob("fetch_log.jsonl.before-repair-*"))
    assert WarehouseFiles(settings.warehouse).published.exists()


def test_repair_reports_two_final_outcomes_of_one_fetch_as_damage(settings, raw_dir):
    a = record("a", "01", "v1", outcome="published")
    published_file(settings, "v1", [a])
    Archive(raw_dir).append({**a, "outcome": "failed: tampered"})  # the log contradicts the copy
    said: list[str] = []
    done = repair_log(settings, say=said.append)
    assert done["damaged"] == 1 and done["publications"] == 1
    assert [r["outcome"] for r in fetches(raw_dir)] == ["published"]  # what the build saw
    assert any(line.startswith(f"warning: the fetch {a['fetch_id']}") and "'failed: tampered' "
               "(left out as damaged)" in line for line in said), said


def test_an_intent_handed_to_the_daemon_is_spared_until_it_is_stale(settings, raw_dir):
    young = intend(settings, record("a", "01", "v1", run_key="k1")
                   | {"fetched_at": now_stamp()})
    assert recover(settings) == []  # the sensor's run may still be waiting for its launch
    assert fetches(raw_dir)[0]["outcome"] == "building"
    old = intend(settings, record("b", "01", "v2", run_key="k2"))  # fetched in January: stale
    assert recover(settings) == ["logged an interrupted refresh as failed"]
    outcomes = {r["fetch_id"]: r["outcome"] for r in fetches(raw_dir)}
    assert outcomes == {young["fetch_id"]: "building", old["fetch_id"]: "failed: interrupted"}


def now_stamp() -> str:
    from datetime import UTC, datetime
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
