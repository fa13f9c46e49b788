"""Damage to raw/fetch_log.jsonl (issues 10 and 26): only a torn last line (no newline, a crash
mid-append) may be skipped. Any other line that is not a fetch record (bad JSON in the middle, a
last line that has its newline, JSON that is not an object, an object without
fetch_id/fetched_at/outcome, bytes that are not UTF-8) stops every reader with FetchLogDamaged
naming the file, the line and a way to repair; the log is left as it was and no published version
is dropped silently. So does a repeated fetch_id (one fetch counted twice), except an intent: a
`building` record followed later by exactly one final record of its fetch_id.

Generated: the damage (hypothesis) and where it lands, in logs of generated records; then the
same classes through `kfor status`, `kfor refresh` (a new version) and `kfor replay`."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import pages
from support.warehouse import file_sha256, query

from orchestration.core import archive as archive_mod
from orchestration.core.archive import LOG_FIELDS, Archive

from .harness import kfor, leftovers, log_records

HTML = "text/html; charset=utf-8"
REPAIR = "move the line aside or delete it"
SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# -- generated logs and damage ------------------------------------------------------------------

HEX = "0123456789abcdef"
timestamps = st.datetimes(datetime(1999, 1, 1), datetime(2100, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
outcomes = st.sampled_from(["published", "unchanged", "rejected: parse:empty_body",
                            "failed: HTTP 500 from http://127.0.0.1/p (after 4 attempts)"])
records = st.fixed_dictionaries({
    "fetch_id": st.text(HEX, min_size=8, max_size=32),
    "fetched_at": timestamps,
    "url": st.sampled_from(["https://www.nato.int/cps/en/natohq/topics_48818.htm",
                            "file:///tmp/p.html", "http://127.0.0.1:8000/p"]),
    "source": st.sampled_from(["live", "file", "archive"]),
    "body_sha256": st.text(HEX, min_size=64, max_size=64),
    "content_sha256": st.text(HEX, min_size=64, max_size=64),
    "outcome": outcomes,
    # non-ASCII text: a torn line may end inside a UTF-8 character
    "message": st.one_of(st.none(), st.text(max_size=30)),
})


def logs(min_size: int, max_size: int):
    """Logs of records with distinct fetch ids (a repeated id is damage of its own)."""
    return st.lists(records, min_size=min_size, max_size=max_size,
                    unique_by=lambda r: r["fetch_id"])


def line_of(record: dict) -> bytes:
    return json.dumps({k: record.get(k) for k in LOG_FIELDS}, ensure_ascii=False).encode() + b"\n"


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _without(field: str):
    return records.map(lambda r: {k: v for k, v in r.items() if k != field})


def _with(field: str, values):
    return st.tuples(records, values).map(lambda rv: {**rv[0], field: rv[1]})


# one line's worth of damage (without its newline): each is a class the issue names
not_json = st.one_of(
    records.map(lambda r: line_of(r)[:-1]).flatmap(  # a record cut short
        lambda b: st.integers(1, len(b) - 1).map(lambda n: b[:n])),
    st.text(min_size=1).filter(lambda t: t.strip() and "\n" not in t and "\r" not in t
                               and _not_json(t)).map(str.encode),
)
not_an_object = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
                          st.text(max_size=10).filter(lambda t: "\n" not in t),
                          st.lists(st.integers(), max_size=3),
                          st.just({}).map(lambda _: [{"fetch_id": "x"}])
                          ).map(lambda v: json.dumps(v).encode())
bad_values = st.one_of(st.none(), st.integers(), st.just(""), st.just("  "), st.lists(st.text()))
not_a_record = st.one_of(
    *[_without(f) for f in ("fetch_id", "fetched_at", "outcome")],
    *[_with(f, bad_values) for f in ("fetch_id", "fetched_at", "outcome")],
    _with("fetched_at", st.sampled_from(["yesterday", "2026-13-01T00:00:00Z", "0"])),
).map(lambda r: json.dumps(r).encode())
not_utf8 = records.map(lambda r: line_of(r)[:-1].replace(b'"fetch_id": "', b'"fetch_id": "\xff\xfe'))
damage = st.one_of(not_json, not_an_object, not_a_record, not_utf8)


def write_log(root: Path, lines: list[bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "fetch_log.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def assert_damaged_at(root: Path, line_number: int) -> str:
    path = root / "fetch_log.jsonl"
    before = path.read_bytes()
    damaged = getattr(archive_mod, "FetchLogDamaged", None)
    assert damaged is not None, "orchestration.core.archive has no FetchLogDamaged"
    for read in (lambda a: list(a.records()), Archive.published):
        with pytest.raises(damaged) as info:
            read(Archive(root))
        error = info.value
        assert isinstance(error, RuntimeError)
        message = str(error)
        assert str(path) in message and f"line {line_number}" in message, message
        assert REPAIR in message and "the archive is untouched" in message, message
        assert "\n" not in message
        assert error.line_number == line_number and error.path == path
    assert path.read_bytes() == before  # reading never repairs by itself
    return message


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
@SETTINGS
@given(logs(1, 6), st.data(), damage)
def test_a_damaged_line_that_is_not_the_torn_last_one_stops_the_reader(good, data, bad):
    """Anywhere but a torn last line: in the middle, first, or last with its newline."""
    at = data.draw(st.integers(0, len(good)), label="position")
    lines = [line_of(r) for r in good]
    lines.insert(at, bad + b"\n")
    with tempfile.TemporaryDirectory() as tmp:
        write_log(Path(tmp), lines)
        assert_damaged_at(Path(tmp), at + 1)


@pytest.mark.parametrize("bad", [b'{"fetch_id": "0badc0de", "fetched_at": "2026-', b"42", b"[]"],
                         ids=["cut-short", "number", "list"])
def test_a_bad_last_line_that_has_its_newline_is_damage_not_a_torn_tail(tmp_path, bad):
    """Only a last line without its newline can be a crash mid-append."""
    good = {"fetch_id": "a" * 32, "fetched_at": "2026-01-01T00:00:00.000000Z", "outcome": "x"}
    write_log(tmp_path, [line_of(good), bad + b"\n"])
    assert_damaged_at(tmp_path, 2)
    write_log(tmp_path, [line_of(good), bad])  # the same bytes without the newline: torn
    if bad.startswith(b"{"):
        assert [r["fetch_id"] for r in Archive(tmp_path).records()] == [good["fetch_id"]]


@SETTINGS
@given(logs(1, 6), st.data(), damage,
       st.sampled_from([b"\n", b"\n\n", b"  \n"]))
def test_blank_lines_do_not_shift_the_line_number(good, data, bad, blank):
    at = data.draw(st.integers(1, len(good)), label="position")
    lines = [line_of(r) for r in good]
    lines.insert(at, bad + b"\n")
    lines.insert(0, blank)
    with tempfile.TemporaryDirectory() as tmp:
        write_log(Path(tmp), lines)
        assert_damaged_at(Path(tmp), at + 1 + blank.count(b"\n"))


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
@SETTINGS
@given(logs(0, 6), records, st.data())
def test_a_torn_last_line_is_skipped_and_the_next_append_sets_it_aside(good, torn, data):
    """A crash mid-append leaves a prefix of a line, without its newline (possibly cut inside a
    UTF-8 character): readers skip it, and the next append moves it to fetch_log.jsonl.torn, so
    every line of the log is a whole record again (not the fragment glued to a newline)."""
    whole = line_of(torn)[:-1]
    fragment = whole[:data.draw(st.integers(1, len(whole) - 1), label="cut")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_log(root, [line_of(r) for r in good] + [fragment])
        assert list(Archive(root).records()) == [json.loads(line_of(r)) for r in good]
        new = {"fetch_id": "new-record", "fetched_at": "2026-01-01T00:00:00.000000Z",
               "outcome": "unchanged"}
        Archive(root).append(new)
        got = list(Archive(root).records())
        assert [r["fetch_id"] for r in got] == [r["fetch_id"] for r in good] + [new["fetch_id"]]
        lines = (root / "fetch_log.jsonl").read_bytes().split(b"\n")
        assert lines[-1] == b"" and len(lines) == len(good) + 2  # every line one record
        assert all(isinstance(json.loads(line), dict) for line in lines[:-1])
        assert (root / "fetch_log.jsonl.torn").read_bytes() == fragment + b"\n"


@SETTINGS
@given(logs(1, 5))
def test_a_last_record_that_lost_only_its_newline_is_kept(log):
    good, last = log[:-1], log[-1]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_log(root, [line_of(r) for r in good] + [line_of(last)[:-1]])
        expected = [json.loads(line_of(r)) for r in [*good, last]]
        assert list(Archive(root).records()) == expected
        Archive(root).append({"fetch_id": "new-record",
                              "fetched_at": "2026-01-01T00:00:00.000000Z", "outcome": "unchanged"})
        assert [r["fetch_id"] for r in Archive(root).records()][:-1] == \
            [r["fetch_id"] for r in expected]
        assert not (root / "fetch_log.jsonl.torn").exists()


@SETTINGS
@given(logs(1, 4), not_an_object | not_a_record)
def test_an_unterminated_last_line_that_is_json_but_not_a_record_is_damage(good, bad):
    """A torn line is a prefix of a record: never whole JSON of another shape (`42`, `[]`)."""
    with tempfile.TemporaryDirectory() as tmp:
        write_log(Path(tmp), [line_of(r) for r in good] + [bad])
        assert_damaged_at(Path(tmp), len(good) + 1)


# -- a repeated fetch_id --------------------------------------------------------------------------

@SETTINGS
@given(logs(1, 6), st.data())
def test_a_repeated_fetch_id_is_damage_at_the_repeat(good, data):
    """A line copied (or another record given the same id) anywhere after the first."""
    first = data.draw(st.integers(0, len(good) - 1), label="first")
    at = data.draw(st.integers(first + 1, len(good)), label="repeat at")
    again = {**data.draw(records, label="other fields"), "fetch_id": good[first]["fetch_id"]}
    again = data.draw(st.sampled_from([good[first], again]), label="copy or another record")
    lines = [line_of(r) for r in good]
    lines.insert(at, line_of(again))
    with tempfile.TemporaryDirectory() as tmp:
        write_log(Path(tmp), lines)
        message = assert_damaged_at(Path(tmp), at + 1)
        assert f"at line {first + 1}" in message and good[first]["fetch_id"][:8] in message


INTENT, FINAL = "building", "published"


@pytest.mark.parametrize(("outcomes", "damaged_at"), [
    ([INTENT, FINAL], None),  # the intent, then its one final record
    ([INTENT], None),  # an intent never concluded: recovery's business, not damage
    ([INTENT, "failed: interrupted"], None),
    ([INTENT, FINAL, FINAL], 3),  # a second final record
    ([INTENT, FINAL, INTENT], 3),  # an intent after the final
    ([INTENT, INTENT], 2),
    ([INTENT, INTENT, FINAL], 2),
    ([FINAL, INTENT], 2),  # a final record is the last of its id
    ([FINAL, FINAL], 2),
    (["unchanged", "rejected: parse:empty_body"], 2),
])
def test_only_an_intent_may_be_followed_by_one_final_record(tmp_path, outcomes, damaged_at):
    other = {"fetch_id": "0" * 32, "fetched_at": "2026-01-01T00:00:00.000000Z",
             "outcome": "unchanged"}
    lines = []
    for n, result in enumerate(outcomes):
        lines.append(line_of({"fetch_id": "a" * 32, "outcome": result,
                              "fetched_at": f"2026-01-0{n + 1}T00:00:00.000000Z"}))
        lines.append(line_of({**other, "fetch_id": f"{n + 1:032x}"}))  # others in between
    write_log(tmp_path, lines)
    if damaged_at is None:
        got = [r["outcome"] for r in Archive(tmp_path).records() if r["fetch_id"] == "a" * 32]
        assert got == outcomes
    else:
        assert_damaged_at(tmp_path, 2 * damaged_at - 1)


def test_a_repeated_fetch_id_stops_a_refresh_before_it_counts_a_fetch_twice(server, published_v1,
                                                                          raw_dir):
    """The issue's case: v1's line copied; a new version must not publish a history in which
    one fetch is two sightings (fetch_count 2)."""
    log = raw_dir / "fetch_log.jsonl"
    final = log.read_bytes().splitlines(keepends=True)[-1]  # v1's final record (after its intent)
    log.write_bytes(log.read_bytes() + final)
    before = file_sha256(published_v1)
    url = server.route("/topics_48818.htm", body=pages.v2(), headers={"Content-Type": HTML})
    out = kfor("refresh", "--source", url)
    assert_one_clear_line(out, log, 3)
    assert "a record at line 2" in out.stderr.strip().splitlines()[-1]
    assert file_sha256(published_v1) == before
    assert query(published_v1, "SELECT fetch_count FROM marts.fct_page_version") == [(1,)]


# -- the same damage through the CLI --------------------------------------------------------------

CLI_DAMAGE = {
    "bad-json": b'{"fetch_id": "0badc0de", "fetched_at": 2026-}',
    "number": b"42",
    "list": b"[]",
    "string": b'"x"',
    "no-outcome": b'{"fetch_id": "0badc0de", "fetched_at": "2026-01-01T00:00:00.000000Z"}',
    "no-fetch-id": b'{"fetched_at": "2026-01-01T00:00:00.000000Z", "outcome": "published"}',
}


def damage_before_the_publication(raw_dir: Path, bad: bytes) -> tuple[Path, int]:
    """The bad line goes first, before v1's `published` record: the line a silent skip would
    hide is the one right after it."""
    log = raw_dir / "fetch_log.jsonl"
    log.write_bytes(bad + b"\n" + log.read_bytes())
    return log, 1


def assert_one_clear_line(out, log: Path, line: int) -> None:
    assert out.returncode != 0, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert str(log) in last and f"line {line}" in last and REPAIR in last, out.stderr


# two classes end to end; the rest in the slow run (the reader's unit tests above decide each)
@pytest.mark.parametrize("bad", [pytest.param(b, id=k, marks=() if k in ("bad-json", "no-outcome")
                                              else pytest.mark.slow)
                                 for k, b in CLI_DAMAGE.items()])
def test_status_names_the_damaged_line(published_v1, raw_dir, bad):
    log, line = damage_before_the_publication(raw_dir, bad)
    before = log.read_bytes()
    for args in (("status",), ("status", "--json")):
        out = kfor(*args)
        assert_one_clear_line(out, log, line)
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert log.read_bytes() == before


@pytest.mark.parametrize("bad", [
    pytest.param(CLI_DAMAGE["bad-json"], id="bad-json"),
    pytest.param(CLI_DAMAGE["number"], id="number", marks=pytest.mark.slow),
    pytest.param(CLI_DAMAGE["no-outcome"], id="no-outcome", marks=pytest.mark.slow)])
def test_a_new_version_does_not_publish_over_a_damaged_log(server, published_v1, raw_dir,
                                                            warehouse_path, bad):
    """Today the bad line is skipped, v1's publication with it, and v2 publishes a history of
    one version. It must stop instead, naming the line, the published file untouched."""
    log, line = damage_before_the_publication(raw_dir, bad)
    before = file_sha256(published_v1)
    url = server.route("/topics_48818.htm", body=pages.v2(), headers={"Content-Type": HTML})
    out = kfor("refresh", "--source", url)
    assert_one_clear_line(out, log, line)
    assert file_sha256(published_v1) == before, "published over a damaged fetch log"
    assert query(published_v1, "SELECT count(*) FROM marts.fct_page_version") == [(1,)]
    assert log.read_bytes().startswith(bad + b"\n")  # the damage is still there to inspect
    assert not [p for p in leftovers(warehouse_path, raw_dir) if p.endswith(".tmp")]


def test_replay_stops_at_a_damaged_line_instead_of_dropping_a_version(published_v1, raw_dir):
    log, line = damage_before_the_publication(raw_dir, CLI_DAMAGE["bad-json"])
    before = file_sha256(published_v1)
    out = kfor("replay")
    assert_one_clear_line(out, log, line)
    assert file_sha256(published_v1) == before


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_torn_last_line_is_set_aside_by_the_next_refresh(server, published_v1, raw_dir):
    """The crash case stays harmless, and the log is one JSON object a line afterwards."""
    fragment = b'{"fetch_id": "0badc0de", "fetched_at": "2026-'
    with open(raw_dir / "fetch_log.jsonl", "ab") as f:
        f.write(fragment)
    url = server.route("/p.htm", body=pages.v1(), headers={"Content-Type": HTML})
    out = kfor("refresh", "--source", url)
    assert out.returncode == 0 and out.stdout.startswith("unchanged: "), out.stderr
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published", "unchanged"]
    assert (raw_dir / "fetch_log.jsonl.torn").read_bytes() == fragment + b"\n"
    assert kfor("status").returncode == 0


@SETTINGS
@given(st.text(alphabet=st.sampled_from("a \n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029ñ"),
               max_size=20))
def test_an_appended_record_is_one_line_to_every_line_reader(message):
    """Line breaks in a message (U+2028, U+0085... which json.dumps leaves raw without
    ensure_ascii) must not split a record for readers such as str.splitlines()."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        record = {"fetch_id": "a" * 32, "fetched_at": "2026-01-01T00:00:00.000000Z",
                  "outcome": "failed: x", "message": message}
        Archive(root).append(record)
        Archive(root).append({**record, "fetch_id": "b" * 32})
        assert [r["message"] for r in log_records(root)] == [message, message]
        assert [r["message"] for r in Archive(root).records()] == [message, message]
