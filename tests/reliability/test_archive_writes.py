"""Archive writes (issue 10): only bodies that look like HTML are stored (anything else: the hash
and size are logged, the bytes are not: `--source file:///etc/shadow` must not be copied into
raw/pages); archive files are private to the owner (pages 0600, the temporary file from its
creation, raw/pages 0700, the fetch log 0600) whatever the umask; a failed write (disk full)
leaves no temporary file and raises an OSError that names the path and keeps the OS's words."""

from __future__ import annotations

import codecs
import errno
import hashlib
import json
import os
import resource
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import pages
from support.warehouse import file_sha256

from orchestration.core import archive as archive_mod
from orchestration.core.archive import Archive

from .harness import KFOR, kfor, leftovers, log_records

HTML = "text/html; charset=utf-8"
SETTINGS = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
V1 = pages.v1()


def looks_like_html(body: bytes) -> bool:
    return archive_mod.looks_like_html(body)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the sniff -----------------------------------------------------------------------------------

ENCODINGS = [("", "utf-8"), ("bom", "utf-8"), ("bom", "utf-16-le"), ("bom", "utf-16-be"),
             ("bom", "utf-32-le"), ("bom", "utf-32-be"), ("", "utf-16-le")]
BOMS = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE}
whitespace = st.text(" \t\r\n", max_size=12)
comments = st.lists(st.text(max_size=20).filter(lambda t: "-->" not in t and "--" not in t)
                    .map(lambda t: f"<!--{t}-->"), max_size=2).map("".join)
xml_decl = st.sampled_from(["", '<?xml version="1.0" encoding="utf-8"?>\n'])


def random_case(draw, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if f else c for c, f in zip(word, flips, strict=True))


@st.composite
def html_bodies(draw):
    tags = sorted(archive_mod.HTML_START_TAGS)
    start = draw(st.sampled_from(["doctype", "html", "head", "body", "tag"]))
    if start == "doctype":
        head = random_case(draw, "<!doctype") + draw(st.sampled_from([" ", "  ", "\n"])) \
            + random_case(draw, "html") + draw(st.sampled_from([">", " PUBLIC \"-//W3C\">"]))
    else:
        name = start if start != "tag" else draw(st.sampled_from(tags))
        head = "<" + random_case(draw, name) + draw(st.sampled_from([">", " ", "/", "\n"]))
    text = (draw(whitespace) + draw(xml_decl) + draw(comments) + draw(whitespace) + head
            + draw(st.text(max_size=200)))
    bom, encoding = draw(st.sampled_from(ENCODINGS))
    return (BOMS[encoding] if bom else b"") + text.encode(encoding)


HTML_SPACE = " \t\n\f\r"  # what HTML calls whitespace (not \v, not U+0085)
not_a_tag = st.text(min_size=1).filter(lambda t: t.strip(HTML_SPACE) and
                                       not t.strip(HTML_SPACE).startswith("<"))


@st.composite
def non_html_bodies(draw):
    kind = draw(st.sampled_from(["text", "json", "bytes", "xml", "unknown-tag"]))
    if kind == "text":
        return (draw(whitespace) + draw(not_a_tag)).encode("utf-8")
    if kind == "json":
        value = draw(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                                  lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids),
                                  max_leaves=8))
        return json.dumps(value).encode()
    if kind == "bytes":
        body = draw(st.binary(max_size=300))
        return body if not body.lstrip().startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe",
                                                     b"\xfe\xff", b"\x00")) else b"x" + body
    name = draw(st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True).filter(
        lambda n: n not in archive_mod.HTML_START_TAGS))
    decl = '<?xml version="1.0"?>' if kind == "xml" else ""
    return f"{decl}<{name} version=\"2.0\"><title>x</title><p>y</p></{name}>".encode()


@SETTINGS
@given(html_bodies())
def test_html_is_recognised(body):
    assert looks_like_html(body), body[:80]


@SETTINGS
@given(non_html_bodies())
def test_anything_else_is_not(body):
    assert not looks_like_html(body), body[:80]


REAL_NON_HTML = {
    "empty": b"",
    "whitespace": b" \n\t ",
    "shadow": b"root:$6$Zq7salt$hash:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n",
    "environ": b"PATH=/usr/bin\x00HOME=/root\x00KFOR_WEBHOOK_URL=http://x/?token=Zq7\x00",
    "json": b'{"troops": 4500}',
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "gzip": b"\x1f\x8b\x08\x00" + bytes(20),
    "rss": b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
    "csv": b"force,troops\nKFOR,4500\n",
    "text-then-html": b"Hello\n<html><body>x</body></html>",
    "unterminated-comment": b"<!-- <html>",
}


@pytest.mark.parametrize("body", REAL_NON_HTML.values(), ids=REAL_NON_HTML.keys())
def test_store_writes_nothing_but_returns_the_hash_of_a_non_html_body(tmp_path, body):
    archive = Archive(tmp_path / "raw")
    assert archive.store(body) == hashlib.sha256(body).hexdigest()
    assert not (tmp_path / "raw" / "pages").exists()


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_stored_pages_and_their_temporary_file_are_private(tmp_path, monkeypatch, umask):
    seen = {}
    real_replace = os.replace

    def replace(src, dst):
        seen[str(src)] = mode(Path(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    old = os.umask(umask)
    try:
        archive = Archive(tmp_path / "raw")
        digest = archive.store(V1)
        archive.append({"fetch_id": "a" * 32, "fetched_at": "2026-01-01T00:00:00.000000Z",
                        "outcome": "unchanged"})
    finally:
        os.umask(old)
    assert mode(archive.page_path(digest)) == 0o600
    assert mode(archive.pages) == 0o700
    assert mode(archive.log_path) == 0o600
    assert list(seen.values()) == [0o600], seen  # the temporary file, before the rename
    assert all(Path(p).name.endswith(".tmp") for p in seen)


def test_an_existing_world_readable_pages_folder_is_made_private(tmp_path):
    archive = Archive(tmp_path / "raw")
    archive.pages.mkdir(parents=True, mode=0o755)
    os.chmod(archive.pages, 0o755)
    archive.store(V1)
    assert mode(archive.pages) == 0o700


# -- failed writes ---------------------------------------------------------------------------------

ERRNOS = [errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EROFS]


def _fail(code: int):
    def raiser(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return raiser


class _FailingFile:
    """A file whose write() fails once `after` bytes went through (a disk that fills up)."""

    def __init__(self, f, code: int, after: int):
        self.f, self.code, self.left = f, code, after

    def write(self, data):
        if len(data) > self.left:
            self.f.write(bytes(data[:self.left]))
            self.f.flush()
            raise OSError(self.code, os.strerror(self.code))
        self.left -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize("code", ERRNOS, ids=[errno.errorcode[c] for c in ERRNOS])
@pytest.mark.parametrize("step", ["write-nothing", "write-half", "fsync", "rename"])
def test_a_failed_page_write_leaves_no_temporary_file_and_names_path_and_cause(
        tmp_path, monkeypatch, step, code):
    archive = Archive(tmp_path / "raw")
    target = archive.page_path(hashlib.sha256(V1).hexdigest())
    if step.startswith("write"):
        real_fdopen = os.fdopen
        after = 0 if step == "write-nothing" else len(V1) // 2
        monkeypatch.setattr(os, "fdopen",
                            lambda *a, **k: _FailingFile(real_fdopen(*a, **k), code, after))
    elif step == "fsync":
        monkeypatch.setattr(os, "fsync", _fail(code))
    else:
        monkeypatch.setattr(os, "replace", _fail(code))
    with pytest.raises(OSError) as info:
        archive.store(V1)
    monkeypatch.undo()
    message = str(info.value)
    assert info.value.errno == code
    assert os.strerror(code) in message and str(target) in message, message
    assert not target.exists()
    assert [p.name for p in archive.pages.iterdir()] == [], "a temporary file was left"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize("after", [0, 40])
def test_a_failed_log_append_leaves_the_log_as_it_was(tmp_path, monkeypatch, code, after):
    archive = Archive(tmp_path / "raw")
    record = {"fetch_id": "a" * 32, "fetched_at": "2026-01-01T00:00:00.000000Z",
              "outcome": "unchanged"}
    archive.append(record)
    before = archive.log_path.read_bytes()
    real_write = os.write

    def write(fd, data):
        if after and len(data) > after:
            real_write(fd, bytes(data[:after]))  # part of the line reached the disk
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(OSError) as info:
        archive.append({**record, "fetch_id": "b" * 32})
    monkeypatch.undo()
    assert os.strerror(code) in str(info.value) and str(archive.log_path) in str(info.value)
    assert archive.log_path.read_bytes() == before
    assert [r["fetch_id"] for r in archive.records()] == ["a" * 32]


# -- end to end ------------------------------------------------------------------------------------

NON_HTML_FILES = {k: REAL_NON_HTML[k] for k in ("shadow", "environ", "json", "pdf", "rss")}


# one body end to end; the rest in the slow run (the sniff's unit tests above decide each)
@pytest.mark.parametrize("body", [pytest.param(b, id=k, marks=() if k == "shadow" else
                                               pytest.mark.slow)
                                  for k, b in NON_HTML_FILES.items()])
def test_a_non_html_source_is_logged_by_hash_and_size_not_copied(published_v1, raw_dir,
                                                                 warehouse_path, tmp_path, body):
    source = tmp_path / "secret-file"
    source.write_bytes(body)
    before = sorted(p.name for p in (raw_dir / "pages").iterdir())
    out = kfor("refresh", "--source", source.as_uri())
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert sorted(p.name for p in (raw_dir / "pages").iterdir()) == before, "the bytes were copied"
    record = log_records(raw_dir)[-1]
    assert record["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert record["bytes"] == len(body)
    assert record["outcome"].startswith(("rejected: ", "failed: "))
    assert not leftovers(warehouse_path, raw_dir)


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_proc_self_environ_is_not_copied(published_v1, raw_dir):
    """The issue's own example: the refresh process's environment, rejected and not archived."""
    if not Path("/proc/self/environ").exists():
        pytest.skip("no /proc")
    before = sorted(p.name for p in (raw_dir / "pages").iterdir())
    out = kfor("refresh", "--source", "file:///proc/self/environ")
    assert out.returncode == 1, out.stderr
    assert sorted(p.name for p in (raw_dir / "pages").iterdir()) == before
    assert log_records(raw_dir)[-1]["bytes"] > 0


def test_a_refresh_writes_a_private_archive(published_v1, raw_dir):
    """What `kfor refresh` wrote (the session's v1 refresh, copied with its modes)."""
    pages_dir = raw_dir / "pages"
    assert mode(pages_dir) == 0o700
    assert [mode(p) for p in pages_dir.iterdir()] == [0o600]
    assert mode(raw_dir / "fetch_log.jsonl") == 0o600


def _limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_a_page_write_past_a_file_size_limit_names_the_path_and_leaves_no_tmp(
        server, published_v1, raw_dir, warehouse_path):
    """A real failed write (RLIMIT_FSIZE: the OS says "File too large" mid-write, as a full disk
    says "No space left on device"): one line with the OS's words and the page's path. (The check
    happens before any Dagster write, so the instance's SQLite no longer hits the limit first.)"""
    body = pages.v2()
    target = raw_dir / "pages" / f"{hashlib.sha256(body).hexdigest()}.html"
    url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": HTML})
    before = file_sha256(published_v1)
    out = subprocess.run([KFOR, "refresh", "--source", url], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                         preexec_fn=_limit_file_size(len(body) // 2))
    assert out.returncode == 1, (out.stdout, out.stderr)
    line = out.stderr.strip().splitlines()[-1]
    assert os.strerror(errno.EFBIG) in line and str(target) in line, out.stderr
    assert "Traceback" not in out.stderr
    assert not target.exists()
    assert not [p for p in leftovers(warehouse_path, raw_dir) if p.endswith(".tmp")]
    assert file_sha256(published_v1) == before

