"""What an import takes (issues 16 and 26), decided before any build: only the page's own hosts
(rule I1), a capture once (rule I2), a lone saved page as one capture (rule I3), and the exits of
`kfor import` that take no build: an empty folder, the wrong folder level, a file that is no WARC,
a source whose every capture is refused. The two tests at the end build (one run each)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import pages
from support.fetch_log import fetches
from support.warehouse import file_sha256, query

from orchestration.captures import Capture, Origin, Revisit
from orchestration.core.archive import Archive, sha256
from orchestration.core.settings import Settings
from orchestration.drivers.cli import captured_at, main
from orchestration.drivers.importer import (
    PAGE_HOSTS,
    capture_keys,
    import_captures,
    imported_captures,
    page_hosts,
    plan,
    still_new,
)

FIXTURES = Path(__file__).parent.parent / "parsing" / "fixtures"
NATOHQ_2019 = (FIXTURES / "natohq-2019-10.html").read_bytes()
PAGE = "https://www.nato.int/cps/en/natohq/topics_48818.htm"
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body><p>Hrm. "
              b"The Wayback Machine has not archived that URL.</p></body></html>")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def capture(body: bytes, when: str, url: str = PAGE, digest: str | None = None) -> Capture:
    return Capture(url, at(when), body, None, Origin("waybackpack", path=f"/c/{when}"), digest)


def settings_in(tmp_path: Path, **kw) -> Settings:
    return Settings(raw_dir=tmp_path / "raw", warehouse=tmp_path / "w" / "kfor.duckdb", **kw)


def logged(raw: Path) -> list[dict]:
    """One record per fetch (an intent replaced by its final record)."""
    return fetches(raw)


def quiet(line: str) -> None:
    pass


# -- rule I1: the page's own hosts ---------------------------------------------------------------

def test_the_pages_hosts_are_the_sources_and_the_sites_aliases():
    assert PAGE_HOSTS == ("www.nato.int", "nato.int")
    assert page_hosts(Settings()) == {"www.nato.int", "nato.int"}
    mirror = Settings(source_url="http://u:p@Mirror.Example:8080/k.htm?token=x")
    assert page_hosts(mirror) == {"www.nato.int", "nato.int", "mirror.example"}
    assert page_hosts(Settings(), ["Archive.ORG ", ""]) == {"www.nato.int", "nato.int",
                                                           "archive.org"}
    assert page_hosts(Settings(source_url="file:///tmp/p.html")) == {"www.nato.int", "nato.int"}


def test_a_capture_of_another_site_is_neither_archived_nor_logged(tmp_path):
    """Issue 26's attack: a valid page under evil.example was published as NATO's page."""
    settings = settings_in(tmp_path)
    items = [capture(pages.v2(), "2023-11-21", "http://evil.example/index.html"),
             capture(pages.v1(), "2023-11-22", "http://WWW.NATO.INT:80/cps/en/x.htm"),
             capture(pages.v3(), "2023-11-23", "http://nato.int/x.htm"),
             Revisit("http://evil.example/index.html", at("2023-11-24"), "sha1:X",
                     Origin("warc", path="/c.warc"))]
    found = plan(settings, items, quiet, hosts=page_hosts(settings))
    assert dict(found.other_hosts) == {"evil.example": 2}
    assert [r["url"] for r in found.records] == ["http://WWW.NATO.INT:80/cps/en/x.htm",
                                                 "http://nato.int/x.htm"]
    assert found.refused == []
    assert not Archive(settings.raw_dir).page_path(sha256(pages.v2())).exists()
    allowed = plan(settings, items[:1], quiet, hosts=page_hosts(settings, ["evil.example"]))
    assert [r["url"] for r in allowed.records] == ["http://evil.example/index.html"]


# -- rule I2: a capture is imported once -----------------------------------------------------------

def log_import(settings: Settings, url: str, when: str, body: bytes, outcome="published") -> dict:
    record = {"fetch_id": os.urandom(16).hex(), "fetched_at": "2026-01-01T00:00:00.000000Z",
              "captured_at": at(when).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "url": url,
              "source": "import", "outcome": outcome, "body_sha256": sha256(body),
              "content_sha256": "c" * 64}
    Archive(settings.raw_dir).append(record)
    return record


def test_the_same_capture_again_is_imported_already(tmp_path):
    settings = settings_in(tmp_path)
    log_import(settings, PAGE, "2019-10-20", NATOHQ_2019)
    log_import(settings, PAGE, "2020-01-01", ERROR_PAGE, outcome="rejected: parse:x")
    items = [capture(NATOHQ_2019, "2019-10-20"),  # the same URL and time
             capture(NATOHQ_2019, "2019-10-20", url="http://nato.int/other.htm"),  # payload, time
             capture(NATOHQ_2019, "2019-10-21"),  # another time: a sighting of its own
             capture(ERROR_PAGE, "2020-01-01")]  # refused before: tried again
    found = plan(settings, items, quiet)
    assert found.already == 2
    assert [(r["captured_at"][:10], r["outcome"]) for r in found.records] == [
        ("2019-10-21", "published")]
    assert [r["outcome"] for r in found.refused] == ["rejected: parse:today_figure_missing"]


def test_the_same_capture_twice_in_one_source_is_one_capture(tmp_path):
    """waybackpack keeps a capture under each path it was seen at (natohq, natolive)."""
    items = [capture(NATOHQ_2019, "2019-10-20"),
             capture(NATOHQ_2019, "2019-10-20", url="http://www.nato.int/natolive/x.htm")]
    found = plan(settings_in(tmp_path), items, quiet)
    assert found.already == 1 and len(found.records) == 1


def test_a_revisit_of_a_capture_imported_before_is_still_a_sighting(tmp_path):
    """A WARC imported again after more was appended to it: the first response is imported
    already, the new revisit of its payload is a sighting of it."""
    settings = settings_in(tmp_path)
    first = log_import(settings, PAGE, "2019-10-20", NATOHQ_2019)
    items = [capture(NATOHQ_2019, "2019-10-20", digest="sha1:AAA"),
             Revisit(PAGE, at("2019-11-20"), "sha1:AAA", Origin("warc", path="/c.warc"))]
    found = plan(settings, items, quiet)
    assert found.already == 1
    [record] = found.records
    assert (record["outcome"], record["body_sha256"], record["content_sha256"]) == (
        "unchanged", first["body_sha256"], first["content_sha256"])


def test_under_the_lock_what_another_import_logged_meanwhile_is_passed_over(tmp_path):
    settings = settings_in(tmp_path)
    found = plan(settings, [capture(NATOHQ_2019, "2019-10-20"), capture(pages.v1(), "2023-12-01")],
                 quiet)
    log_import(settings, PAGE, "2019-10-20", NATOHQ_2019)  # another import, between plan and lock
    kept, dropped = still_new(found.groups, imported_captures(Archive(settings.raw_dir).records()))
    assert dropped == 1
    assert [r["captured_at"][:10] for g in kept.values() for r in g] == ["2023-12-01"]


def test_capture_keys():
    record = {"url": PAGE, "captured_at": "2019-10-20T00:00:00.000000Z", "body_sha256": "b"}
    assert capture_keys(record) == {("url", PAGE, record["captured_at"]),
                                    ("payload", "b", record["captured_at"])}
    assert capture_keys({**record, "captured_at": None}) == set()


# -- --captured-at --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2023-11-21T08:00:00Z", datetime(2023, 11, 21, 8, tzinfo=UTC)),
    ("2023-11-21T09:00:00+01:00", datetime(2023, 11, 21, 8, tzinfo=UTC)),
    ("2023-11-21", datetime(2023, 11, 21, tzinfo=UTC)),  # no zone: UTC
    ("20231121080000", datetime(2023, 11, 21, 8, tzinfo=UTC)),
])
def test_captured_at_reads_iso_and_wayback_times_as_utc(text, expected):
    assert captured_at(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2023-13-01", "2999-01-01", "20231321000000"])
def test_captured_at_refuses_what_is_no_past_time(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        captured_at(text)


# -- the exits that take no build -----------------------------------------------------------------

def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["import", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_empty_folder_exits_non_zero_saying_what_was_expected(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, tmp_path / "empty")
    assert code == 1 and out == ""
    assert err.strip() == (f"failed: {tmp_path / 'empty'} is empty: expected a waybackpack "
                           "directory: DIR/<14-digit capture time>/<host>/<path>")


def test_the_wrong_folder_level_exits_non_zero_naming_the_right_one(tmp_path, capsys):
    target = tmp_path / "pack" / "20191020000000" / "www.nato.int" / "x.htm"
    target.parent.mkdir(parents=True)
    target.write_bytes(NATOHQ_2019)
    code, _, err = run(capsys, tmp_path / "pack" / "20191020000000")
    assert code == 1 and f"give {tmp_path / 'pack'} (expected" in err, err
    assert not (tmp_path / "raw" / "fetch_log.jsonl").exists()  # nothing logged


@pytest.mark.parametrize("name", ["report.pdf", "saved-but-not-html.htm"])
def test_a_file_that_is_neither_warc_nor_html_is_named_not_a_warc(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    code, out, err = run(capsys, path)
    assert code == 1 and out == ""
    assert err.startswith(f"failed: {path} is not a WARC file"), err


def test_a_cdx_import_of_another_site_is_refused_before_anything_is_listed(capsys):
    code, out, err = run(capsys, "https://evil.example/kosovo.htm?token=Zq7secret",
                         "--cdx", "http://127.0.0.1:9/cdx")
    assert code == 1 and out == ""
    assert err.strip() == ("failed: https://evil.example/kosovo.htm?token=REDACTED is not on the "
                           "page's hosts (nato.int, www.nato.int): give the page's URL, or allow "
                           "the host with --allow-host")


def test_captured_at_is_for_a_lone_saved_page_only(tmp_path, capsys):
    (tmp_path / "pack" / "20191020000000").mkdir(parents=True)
    code, _, err = run(capsys, tmp_path / "pack", "--captured-at", "2019-10-20")
    assert code == 1 and "--captured-at dates a lone saved page" in err, err


def test_every_capture_refused_exits_non_zero_with_the_summary(tmp_path, capsys):
    pack = tmp_path / "pack"
    for relative, body in (("20231121000000/evil.example/index.html", pages.v1()),
                           ("20231122000000/www.nato.int/x.htm", ERROR_PAGE)):
        (pack / relative).parent.mkdir(parents=True)
        (pack / relative).write_bytes(body)
    code, out, err = run(capsys, pack)
    assert code == 1
    assert out.startswith("imported: 2 captures seen, 0 new versions, 0 sightings of known "
                          "versions, 0 already imported, refused: rejected: "), out
    assert "skipped (not the page's host, see --allow-host): evil.example: 1;" in out
    assert err.strip().splitlines()[-1] == f"failed: no capture in {pack} could be imported"
    assert [r["url"] for r in logged(tmp_path / "raw")] == ["http://www.nato.int/x.htm"]
    assert not Path(os.environ["KFOR_WAREHOUSE"]).exists()


# -- with a build: a lone saved page, and two imports at once --------------------------------------

@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_lone_saved_page_is_one_capture_and_importing_it_again_changes_nothing(tmp_path, capsys):
    page = tmp_path / "NATO - Topic_ NATO's role in Kosovo.htm"
    page.write_bytes(NATOHQ_2019)
    code, out, err = run(capsys, page, "--captured-at", "2019-10-20T08:00:00Z")
    assert code == 0, err
    assert "1 captures seen, 1 new versions" in out
    assert (f"read {page} as one saved page, captured at 2019-10-20T08:00:00.000000Z "
            "(given by --captured-at)") in out
    warehouse = Path(os.environ["KFOR_WAREHOUSE"])
    assert query(warehouse, "SELECT valid_from::date, troops FROM marts.fct_page_strength") \
        == [(datetime(2019, 10, 17).date(), 3500)]
    before, log = file_sha256(warehouse), logged(tmp_path / "raw")
    assert [(r["source"], r["outcome"], r["message"]) for r in log] == [
        ("import", "published", f"saved {page}")]

    code, out, _ = run(capsys, page, "--captured-at", "2019-10-20T08:00:00Z")
    assert code == 0 and "0 new versions, 0 sightings of known versions, 1 already imported" in out
    assert logged(tmp_path / "raw") == log and file_sha256(warehouse) == before
    # without --captured-at: the file's time (a page of another site here: nothing to build)
    other = tmp_path / "other.html"
    other.write_bytes(b"<!-- saved from url=(0025)http://evil.example/k.htm -->" + pages.v1())
    os.utime(other, (1_600_000_000, 1_600_000_000))
    code, out, _ = run(capsys, other)
    assert code == 1 and "evil.example: 1" in out
    assert "captured at 2020-09-13T12:26:40.000000Z (the file's modification time)" in out


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_two_imports_at_once_log_what_one_after_the_other_would(tmp_path):
    """Import B reads the log (nothing imported yet) and plans; import A runs whole before B takes
    the lock (here: from B's last progress line, so the order is certain). B decides again under
    the lock and logs none of A's captures a second time: its log lines are those of an import
    run after A (only the refused capture again)."""
    pack = tmp_path / "pack"
    for relative, body in (("20191020000000/www.nato.int/natohq.htm", NATOHQ_2019),
                           ("20191020000000/www.nato.int/natolive.htm", NATOHQ_2019),
                           ("20231201080000/www.nato.int/natohq.htm", pages.v1()),
                           ("20150101000000/www.nato.int/natohq.htm", ERROR_PAGE)):
        (pack / relative).parent.mkdir(parents=True, exist_ok=True)
        (pack / relative).write_bytes(body)
    settings = Settings.from_env()
    ran: dict = {}

    def b_says(line: str) -> None:
        if line.startswith("  read 4 captures:") and "a" not in ran:
            ran["a"] = import_captures(settings, str(pack), say=quiet)

    b = import_captures(settings, str(pack), say=b_says)
    a = ran["a"]
    assert (a["new_versions"], a["sightings"], a["already_imported"]) == (2, 0, 1)
    assert (b["new_versions"], b["sightings"], b["already_imported"]) == (0, 0, 3)
    after_both = logged(settings.raw_dir)
    c = import_captures(settings, str(pack), say=quiet)  # one after the other
    assert (c["new_versions"], c["sightings"], c["already_imported"]) == (0, 0, 3)
    after_c = logged(settings.raw_dir)

    def shape(records):
        return sorted((r["captured_at"][:10], r["url"].rsplit("/", 1)[1], r["outcome"])
                      for r in records)
    refused = ("2015-01-01", "natohq.htm", "rejected: parse:today_figure_missing")
    assert shape(after_both) == [refused, refused,  # A's and B's
                                 ("2019-10-20", "natohq.htm", "published"),
                                 ("2023-12-01", "natohq.htm", "published")]
    assert shape(after_c[len(after_both):]) == [refused] == shape(after_both[-1:])
