"""History survives damage (issue 10): the archive and the fetch log are the source of truth, so a
missing or damaged published file loses no history and never breaks rollback.

- A refresh with no published file, or one that is not a readable warehouse (random bytes,
  truncated, overwritten, no marts.meta), rebuilds from every published version in the archive
  plus the new one: fct_page_version and the snapshots keep every version.
- Rollback never needs to read the published file; publish never files a damaged file under
  history/ (it is moved aside as `<name>.corrupt-<time>`), and damaged kept files left by older
  code are skipped, so a replay that repairs a damaged file leaves rollback working.
- Leftovers: a failed replay leaves no scratch file; a refresh with a read-only raw dir fails
  before anything is written, naming the directory, and never touches the published file.
- A tampered archive file (bytes that no longer hash to its name) is refused by name, never used.

Generated (hypothesis) at the unit level: the damage done to a warehouse file and to an archived
page; end to end, a handful of refreshes, replays and rollbacks through `kfor`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import pages
from support.fetch_log import fetches
from support.warehouse import file_sha256, query

from orchestration.core.files import WarehouseFiles

from .harness import KFOR, copy_tree, kfor, leftovers, log_records

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
BLOCK = 262144  # DuckDB's block size


def version_of(path: Path) -> str:
    return query(path, "SELECT content_sha256 FROM marts.meta")[0][0]


def page_dates(path: Path) -> list[str]:
    return [str(d) for (d,) in query(path, "SELECT page_last_updated::date FROM "
                                           "marts.fct_page_version ORDER BY 1")]


def readable(path: Path) -> bool:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables()"
                                         ).fetchall():
            con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
        return con.execute("SELECT count(*) FROM marts.meta").fetchone()[0] == 1
    except duckdb.Error:
        return False
    finally:
        con.close()


def kept_files(warehouse: Path) -> list[Path]:
    return WarehouseFiles(warehouse).kept()


def set_aside(warehouse: Path) -> list[Path]:
    return sorted(warehouse.parent.glob(f"{warehouse.name}.corrupt-*"))


def last_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    return lines[-1] if lines else ""


# -- damage -----------------------------------------------------------------------------------

def damage(path: Path, kind: str, where: float, data: bytes) -> bytes:
    """Damage a warehouse file the way accidents do; returns the damaged bytes."""
    size = path.stat().st_size
    if kind == "random":
        path.write_bytes(data)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":  # anywhere from the header to one byte short
        os.truncate(path, int(where * (size - 1)))
    elif kind == "overwritten":  # a run of bytes inside a used block (every block is used)
        offset = 3 * 4096 + int(where * (size - 3 * 4096 - len(data) - 1))
        with open(path, "r+b") as f:
            f.seek(offset)
            old = f.read(len(data))
            if old == data:
                data = bytes(b ^ 0xFF for b in data)
            f.seek(offset)
            f.write(data)
    elif kind == "not-a-warehouse":  # a valid DuckDB file without marts.meta
        path.unlink()
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        con.close()
    return path.read_bytes()


damages = st.tuples(
    st.sampled_from(["random", "empty", "truncated", "overwritten", "not-a-warehouse"]),
    st.floats(0, 1),
    st.binary(min_size=1, max_size=4096))

# the damage a test applies end to end: random bytes, and a file cut in its last block (it still
# opens, and its marts.meta still reads: only the block count gives it away)
E2E_DAMAGE = {"random": ("random", 0.0, os.urandom(100_000)),
              "truncated": ("truncated", 1 - 1000 / 10_000_000, b"")}


# -- fixtures ---------------------------------------------------------------------------------

def env_of(root: Path) -> dict:
    return {"KFOR_WAREHOUSE": str(root / "warehouse" / "kfor.duckdb"),
            "KFOR_RAW_DIR": str(root / "raw"), "DAGSTER_HOME": str(root / "dagster_home")}


@pytest.fixture(scope="module")
def v2_template(v1_template, tmp_path_factory) -> Path:
    """v1 and then v2 published (so history/ keeps the v1 file)."""
    root = tmp_path_factory.mktemp("v2-published")
    copy_tree(v1_template, root)
    source = root / "v2.html"
    source.write_bytes(pages.v2())
    out = kfor("refresh", "--source", source.as_uri(), env=env_of(root))
    assert out.returncode == 0, out.stderr
    return root


@pytest.fixture
def published_v2(v2_template, isolated, warehouse_path) -> Path:
    copy_tree(v2_template, isolated)
    assert len(kept_files(warehouse_path)) == 1
    return warehouse_path


def fresh_dir(tmp_path: Path) -> Path:
    """A folder of its own for each hypothesis example (they share the test's tmp_path)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def page_file(tmp_path: Path, body: bytes, name: str) -> str:
    path = tmp_path / f"{name}.html"
    path.write_bytes(body)
    return path.as_uri()


# -- unit: what a readable warehouse is ---------------------------------------------------------

@SETTINGS
@given(damages)
def test_a_damaged_file_is_not_a_readable_warehouse(v1_template, tmp_path, damage_done):
    from orchestration.core import publish

    path = tmp_path / "kfor.duckdb"
    shutil.copyfile(v1_template / "warehouse" / "kfor.duckdb", path)
    damage(path, *damage_done)
    problem = publish.warehouse_problem(path, thorough=True)
    assert problem and "\n" not in problem
    if damage_done[0] != "overwritten":  # bytes inside a block: only a full read sees them
        assert publish.warehouse_problem(path)
        with pytest.raises(publish.UnreadableWarehouse, match=re.escape(str(path))):
            publish.read_meta(path)
        assert publish.published_meta(path) is None


def test_status_of_a_damaged_file_still_shows_the_files_and_the_log(published_v1, raw_dir):
    from orchestration.core.settings import Settings
    from orchestration.drivers.status import status

    published_v1.write_bytes(b"\0" * 20000)  # the published file overwritten with zeros
    lines: list[str] = []
    assert status(Settings.from_env(), out=lines.append) is False
    assert lines[0].startswith(f"published: UNREADABLE: {published_v1} is not a readable warehouse")
    assert any(line.strip().startswith("kept versions:") for line in lines)
    assert lines[-1].endswith("published")  # the fetch log's last refresh


def test_a_whole_warehouse_is_readable(v1_template):
    from orchestration.core.publish import read_meta, warehouse_problem

    path = v1_template / "warehouse" / "kfor.duckdb"
    assert warehouse_problem(path, thorough=True) is None
    assert read_meta(path)["content_sha256"] == version_of(path)


# -- unit: a tampered archive file ------------------------------------------------------------

tampering = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=50)),
    st.tuples(st.just("replace"), st.binary(max_size=200)))


def tamper(path: Path, how) -> None:
    body = path.read_bytes()
    kind, arg = how
    if kind == "flip":
        i = int(arg * (len(body) - 1))
        body = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
    elif kind == "truncate":
        body = body[:int(arg * (len(body) - 1))]
    elif kind == "append":
        body += arg
    elif arg == body:
        body += b" "
    else:
        body = arg
    path.write_bytes(body)


@SETTINGS
@given(tampering, st.sampled_from([pages.v2, pages.v3]))
def test_a_tampered_archive_page_is_refused_by_name(tmp_path, how, version):
    from orchestration.core.archive import Archive, ArchiveDamaged

    archive = Archive(fresh_dir(tmp_path) / "raw")
    body = version()
    digest = archive.store(body)
    path = archive.page_path(digest)
    tamper(path, how)
    damaged = path.read_bytes()
    for use in (archive.load, lambda _: archive.store(body)):
        with pytest.raises(ArchiveDamaged, match=re.escape(str(path))):
            use(digest)
    assert path.read_bytes() == damaged, "a damaged page is left for inspection"


@SETTINGS
@given(tampering)
def test_the_offline_fallback_never_uses_a_tampered_page(tmp_path, how):
    from orchestration.core.archive import Archive, ArchiveDamaged
    from orchestration.core.decide import archived_fallback

    archive = Archive(fresh_dir(tmp_path) / "raw")
    for n, version in enumerate((pages.v2, pages.v3)):
        body = version()
        archive.append({"fetch_id": f"{n:032x}", "fetched_at": f"2026-01-0{n + 1}T00:00:00Z",
                        "url": "http://127.0.0.1/p", "source": "live", "outcome": "published",
                        "body_sha256": archive.store(body), "content_sha256": f"{n:064x}"})
    newest = archive.page_path(hashlib.sha256(pages.v3()).hexdigest())
    tamper(newest, how)
    # never the damaged bytes, and never the older page either: it would publish over the newer
    with pytest.raises(ArchiveDamaged, match=re.escape(str(newest))):
        archived_fallback(archive)


@pytest.mark.parametrize("broken", ["missing", "tampered"])
def test_a_rebuild_stops_at_a_missing_or_tampered_page_naming_it(tmp_path, broken):
    from orchestration.assets.raw import load_published
    from orchestration.core.archive import Archive

    archive = Archive(tmp_path / "raw")
    body = pages.v2()
    record = {"fetch_id": "1" * 32, "fetched_at": "2026-01-01T00:00:00Z", "outcome": "published",
              "body_sha256": archive.store(body), "content_sha256": "x"}
    path = archive.page_path(record["body_sha256"])
    if broken == "missing":
        path.unlink()
    else:
        tamper(path, ("flip", 0.5))
    con = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    try:
        with pytest.raises((FileNotFoundError, RuntimeError),
                           match=re.escape(record["body_sha256"] if broken == "missing"
                                           else str(path))):
            load_published(con, archive, [record], lambda line: None)
    finally:
        con.close()


# -- end to end: a missing or damaged published file loses no history ------------------------

@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
@pytest.mark.parametrize("broken", ["missing"])  # a truncated file: the unit tests above
def test_a_refresh_without_a_readable_published_file_rebuilds_every_version(
        published_v2, warehouse_path, raw_dir, tmp_path, broken):
    """Publish v1, v2; delete (or truncate) the file; refresh v3: three versions, and the
    snapshots still show Ulutas's tenure closing."""
    if broken == "missing":
        warehouse_path.unlink()
    else:
        damaged = damage(warehouse_path, *E2E_DAMAGE[broken])
    out = kfor("refresh", "--source", page_file(tmp_path, pages.v3(), "v3"))
    assert out.returncode == 0, out.stderr
    assert page_dates(warehouse_path) == ["2023-11-20", "2024-10-18", "2025-03-12"]
    assert query(warehouse_path, """
        SELECT end_date IS NULL, valid_to IS NULL FROM snapshots.snap_command_tenure
        WHERE tenure_key = 'ozkan-ulutas#1' ORDER BY valid_from""") == [(True, False), (False, True)]
    assert "rebuilding it from the 2 publications in the archive" in out.stderr, out.stderr
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published"] * 3
    assert all(readable(k) for k in kept_files(warehouse_path))
    if broken != "missing":
        (aside,) = set_aside(warehouse_path)
        assert aside.read_bytes() == damaged
    assert not leftovers(warehouse_path, raw_dir)


# -- end to end: rollback and replay with a damaged published file -----------------------------

@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
@pytest.mark.parametrize("broken", [  # random bytes: make test-extended (CI's 20 minutes)
    pytest.param(name, marks=pytest.mark.extended) if name == "random" else name
    for name in E2E_DAMAGE])
def test_rollback_works_when_the_published_file_is_damaged(published_v2, warehouse_path,
                                                           raw_dir, v1_template, broken):
    damaged = damage(warehouse_path, *E2E_DAMAGE[broken])
    out = kfor("rollback")
    assert out.returncode == 0, out.stderr
    assert version_of(warehouse_path) == version_of(v1_template / "warehouse" / "kfor.duckdb")
    assert "rolled back" in out.stdout
    (aside,) = set_aside(warehouse_path)
    assert aside.read_bytes() == damaged
    assert all(readable(k) for k in kept_files(warehouse_path))
    record = log_records(raw_dir)[-1]
    assert (record["source"], record["outcome"]) == ("rollback", "published")
    assert not leftovers(warehouse_path, raw_dir)


@pytest.mark.slow  # in CI's slow run: keeps `make test` within its three minutes
def test_replay_repairs_a_damaged_file_and_rollback_works_after(published_v2, warehouse_path,
                                                                raw_dir, v1_template):
    v2 = version_of(published_v2)
    damage(warehouse_path, *E2E_DAMAGE["random"])
    out = kfor("replay")
    assert out.returncode == 0, out.stderr
    assert version_of(warehouse_path) == v2
    assert page_dates(warehouse_path) == ["2023-11-20", "2024-10-18"]
    assert kept_files(warehouse_path) and all(readable(k) for k in kept_files(warehouse_path))
    out = kfor("rollback")
    assert out.returncode == 0, out.stderr
    assert version_of(warehouse_path) == version_of(v1_template / "warehouse" / "kfor.duckdb")
    assert not leftovers(warehouse_path, raw_dir)


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_damaged_kept_file_is_passed_over_and_refused_by_name(published_v2, warehouse_path,
                                                                 raw_dir, v1_template):
    """Garbage an older version filed under history/ (the newest entry) does not break rollback;
    `--to` that file fails in one line, the published file byte-identical."""
    garbage = WarehouseFiles(warehouse_path).history / "29991231T000000000000Z.duckdb"
    garbage.write_bytes(os.urandom(70_000))
    before = file_sha256(warehouse_path)
    out = kfor("rollback", "--to", str(garbage))
    assert out.returncode == 1, out.stderr
    assert out.stderr.strip().count("\n") == 0 and str(garbage) in out.stderr, out.stderr
    assert file_sha256(warehouse_path) == before
    out = kfor("rollback")
    assert out.returncode == 0, out.stderr
    assert version_of(warehouse_path) == version_of(v1_template / "warehouse" / "kfor.duckdb")
    assert not leftovers(warehouse_path, raw_dir)


# -- end to end: no leftovers after a failed replay --------------------------------------------

def _append_published(raw_dir: Path, body: bytes) -> Path:
    """A publication of `body` in the fetch log, its page in the archive (as older code, or an
    import, could have left them)."""
    digest = hashlib.sha256(body).hexdigest()
    path = raw_dir / "pages" / f"{digest}.html"
    path.write_bytes(body)
    path.chmod(0o600)
    record = {**log_records(raw_dir)[-1], "fetch_id": "f" * 32, "body_sha256": digest,
              "content_sha256": hashlib.sha256(body + b"#").hexdigest(), "outcome": "published",
              # now: after v1's fetch, and no time from the future (P7 would name itself first)
              "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    with open(raw_dir / "fetch_log.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return path


def _replay_breakers():
    from .bad_pages import zero_troops

    def missing(raw_dir):
        _append_published(raw_dir, pages.v3()).unlink()
        return "no archived page"

    def tampered(raw_dir):
        tamper(_append_published(raw_dir, pages.v3()), ("flip", 0.5))
        return "does not match its SHA-256"

    def unreadable(raw_dir):
        _append_published(raw_dir, b"<html><body><p>nothing here</p></body></html>")
        return "rejected: parse:"

    def failing_check(raw_dir):
        _append_published(raw_dir, zero_troops()[0])
        return "rejected: positive_fct_troop_level_troops"

    return {f.__name__: f for f in (missing, tampered, unreadable, failing_check)}


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
@pytest.mark.parametrize("breaker", ["missing", "tampered", "unreadable", "failing_check"])
def test_a_failed_replay_leaves_no_scratch_file(published_v1, warehouse_path, raw_dir, breaker):
    expected = _replay_breakers()[breaker](raw_dir)
    before = file_sha256(warehouse_path)
    out = kfor("replay")
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert expected in last_line(out), out.stderr
    assert "Traceback" not in out.stderr
    assert file_sha256(warehouse_path) == before
    build = WarehouseFiles(warehouse_path).build
    assert not build.exists() and not build.with_name(build.name + ".wal").exists()
    assert not leftovers(warehouse_path, raw_dir)


# -- end to end: a read-only raw dir or warehouse folder ----------------------------------------

def _read_only_run(target: Path, *args: str) -> subprocess.CompletedProcess:
    """`kfor ARGS` with `target` read-only: chmod for a normal user; for root (whom modes do
    not stop) a read-only bind mount in a private mount namespace, gone when the process ends."""
    if os.geteuid() != 0:
        mode = target.stat().st_mode
        target.chmod(mode & ~0o222)
        try:
            return kfor(*args)
        finally:
            target.chmod(mode)
    if not shutil.which("unshare"):
        pytest.skip("root without unshare(1): cannot make a read-only folder")
    script = ('mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" || exit 99; '
              'exec "$@"')
    out = subprocess.run(["unshare", "-m", "sh", "-c", script, str(target), KFOR, *args],
                         capture_output=True, text=True, timeout=300, env=os.environ.copy())
    if out.returncode == 99 or "unshare failed" in out.stderr:
        pytest.skip(f"cannot bind-mount read-only here: {out.stderr.strip()}")
    return out


def _state(warehouse: Path, raw_dir: Path) -> dict:
    st_ = warehouse.stat()
    return {"published": (st_.st_ino, st_.st_mtime_ns, st_.st_size, file_sha256(warehouse)),
            "raw": sorted((str(p.relative_to(raw_dir)), file_sha256(p))
                          for p in raw_dir.rglob("*") if p.is_file()),
            "warehouse/": sorted(str(p.relative_to(warehouse.parent))
                                 for p in warehouse.parent.rglob("*"))}


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
@pytest.mark.parametrize("page", ["unchanged", "changed"])
@pytest.mark.parametrize("part", ["raw", "raw/pages", "warehouse"])  # the log: test_archive_writes
def test_a_read_only_raw_or_warehouse_folder_fails_before_anything_is_written(published_v1, warehouse_path,
                                                              raw_dir, tmp_path, part, page):
    target = raw_dir.parent / part
    source = page_file(tmp_path, pages.v1() if page == "unchanged" else pages.v2(), page)
    before = _state(warehouse_path, raw_dir)
    out = _read_only_run(target, "refresh", "--source", source)
    assert out.returncode == 1, (out.stdout, out.stderr)
    line = last_line(out)
    assert str(target) in line and ("read-only" in line or "not writable" in line), out.stderr
    if part == "warehouse":  # the setting is named, not only the lock file
        assert f"KFOR_WAREHOUSE={warehouse_path}" in line, line
    after = _state(warehouse_path, raw_dir)
    if part != "raw":  # the log can still be written: the failure is logged (issue 10)
        log = fetches(raw_dir)
        assert log[-1]["outcome"].startswith("failed: PermissionError") and str(target) in \
            log[-1]["outcome"], log[-1]
        strip = {"raw": [e for e in after["raw"] if e[0] != "fetch_log.jsonl"]}
        after = {**after, **strip}
        before = {**before, "raw": [e for e in before["raw"] if e[0] != "fetch_log.jsonl"]}
    assert after == before
    assert not leftovers(warehouse_path, raw_dir)
