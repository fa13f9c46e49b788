"""The raw archive: every distinct body that looks like HTML, content-addressed by SHA-256 and never
rewritten, and the append-only fetch log (JSON lines) that records every fetch and orders the
versions.

- Only bodies that look like HTML are stored (`looks_like_html`); for anything else `store()`
  returns the SHA-256 and writes nothing, so the log keeps its hash and size, not the bytes (a
  `--source file:///etc/shadow` is never copied).
- Files are private to the owner: pages 0600 (the temporary file too), `pages/` 0700, the log 0600.
- A raw dir that cannot be written is refused before the fetch (`require_writable`), naming it.
- A write that fails (disk full) leaves no temporary file and raises an OSError that names the
  path and keeps the OS's words ("[Errno 28] No space left on device: '.../raw/pages/....html'").
- The log is read strictly: only a torn last line (no newline: a crash mid-append) is skipped; any
  other line that is not a fetch record raises FetchLogDamaged naming the file and line. The
  next append moves a torn last line aside (to fetch_log.jsonl.torn) before writing its own.
- A fetch_id is logged once. The one exception is an intent: a record whose outcome is
  `building` (written before a build) may be followed later by exactly one record of its
  fetch_id with a final outcome. Any other repeat (a line copied twice, two final outcomes, two
  intents) is damage: it would count one fetch twice (`fetch_count`, sightings).
- The `url`, `outcome` and `message` of every record are redacted before they are written
  (orchestration.redact): the log never holds credentials or secret query parameters."""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from orchestration.core.files import unwritable
from orchestration.core.layout import BUNDLED_DIR
from orchestration.core.redact import redact_text, redact_url

LOG_NAME = "fetch_log.jsonl"
# The warehouse whose fetch log the folder holds, as a path relative to the folder (so moving or
# copying the project, raw and warehouse together, keeps it).
OWNER_NAME = "WAREHOUSE"
TORN_NAME = LOG_NAME + ".torn"  # torn last lines the next append moved aside, one a line
FILE_MODE = 0o600
DIR_MODE = 0o700
REQUIRED_FIELDS = ("fetch_id", "fetched_at", "outcome")
# The outcome of an intent record: a changed page whose build was launched. Its final record (same
# fetch_id, one of published | unchanged | rejected: ... | failed: ...) follows when the run ends.
BUILDING = "building"
# Characters json.dumps(ensure_ascii=False) leaves raw that str.splitlines() (and other line
# readers) take for line breaks: escaped, so one record is one line to every reader.
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}
# Every record has these keys, in this order (also the columns of raw.fetch_log).
LOG_FIELDS = ("fetch_id", "fetched_at", "url", "source", "status", "etag", "last_modified",
              "content_type", "body_sha256", "content_sha256", "bytes", "attempts", "elapsed_ms",
              "outcome", "message",
              # an imported capture: when the archive captured the page (valid time, rule V1);
              # fetched_at stays when the warehouse learned it. Last, so older raw tables extend.
              "captured_at",
              # an intent record (outcome BUILDING) and its final record: the version the changed
              # page was compared with, so a run can re-check it and recovery can judge it
              "compared_with",
              # an intent handed to a run the daemon starts (the page sensor's run request)
              "run_key")


IMPORTED = "import"  # the fetch log's source of a capture `kfor import` brought in


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder's fsync makes a rename in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FetchLogDamaged(RuntimeError):
    """A line of the fetch log, other than a torn last one, is not a fetch record. Nothing reads
    past it: skipping it could drop a published version from the next publish or a replay."""

    def __init__(self, path: Path, line_number: int, reason: str):
        self.path, self.line_number, self.reason = Path(path), line_number, reason
        super().__init__(f"the fetch log {path} is damaged at line {line_number}: {reason}; "
                         "move the line aside or delete it, then run again; the archive is "
                         "untouched")


class RawFolderTaken(RuntimeError):
    """The raw folder's fetch log belongs to another warehouse: sharing it would make one
    warehouse's recovery settle, count or replay the other's fetches."""

    def __init__(self, root: Path, owner: str, warehouse: str):
        super().__init__(
            f"KFOR_RAW_DIR={root} holds the fetch log of the warehouse {owner} (relative to it), "
            f"not of {warehouse}: give this warehouse a raw folder of its own (KFOR_RAW_DIR); if "
            f"the warehouse moved, write its new place in {root / OWNER_NAME}")


class ArchiveDamaged(RuntimeError):
    """An archived page whose bytes no longer hash to its name: it is never used (not by a
    replay, a rebuild or the offline fallback) and never rewritten."""

    def __init__(self, path: Path):
        self.path = Path(path)
        super().__init__(f"archived page {path} does not match its SHA-256; the archive is "
                         "damaged and is left as it is for inspection")


def _os_error(e: OSError, path: Path) -> OSError:
    """The same error (errno, so the same subclass) with the OS's words and the path we wrote."""
    if e.errno is None:
        return OSError(f"{e}: {str(path)!r}")
    return OSError(e.errno, e.strerror or os.strerror(e.errno), str(path))


def write_atomically(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write via a temporary file, fsync and rename: readers see the old file or the whole new one.
    The file (and the temporary file, from its creation) has `mode`, whatever the umask. On any
    failure the temporary file is removed and an OSError names `path`."""
    path = Path(path)
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)  # mkstemp creates it 0600; fchmod only for another requested mode
        with os.fdopen(fd, "wb") as f:
            if mode != FILE_MODE:
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_path(path.parent)
    except OSError as e:
        raise _os_error(e, path) from e
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


# -- what looks like HTML ----------------------------------------------------------------------

SNIFF_BYTES = 1024
# Element names a document or a fragment of HTML starts with (after a doctype, an XML declaration,
# comments and whitespace).
HTML_START_TAGS = frozenset((
    "html", "head", "body", "title", "meta", "link", "base", "style", "script", "noscript",
    "template", "main", "header", "footer", "nav", "article", "section", "aside", "div", "span",
    "p", "a", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table",
    "thead", "tbody", "tr", "td", "th", "form", "img", "br", "hr", "pre", "blockquote", "figure",
    "picture", "svg", "iframe", "center", "font", "b", "i", "em", "strong", "small"))
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_MARKUP_START = b"< \t\n\f\r"
_PREAMBLE = re.compile(r"[ \t\n\f\r]*(?:(?:<\?xml[^>]*\?>|<!--.*?-->)[ \t\n\f\r]*)*", re.S)
_DOCTYPE_HTML = re.compile(r"<!doctype\s+html\b", re.I)
_START_TAG = re.compile(r"<([a-z][a-z0-9]*)(?=[ \t\n\f\r/>])", re.I)


def looks_like_html(body: bytes) -> bool:
    """A cheap sniff of the first SNIFF_BYTES bytes: after a byte-order mark (UTF-8, -16, -32),
    whitespace, an XML declaration and comments, the body starts with `<!DOCTYPE html` or with the
    start tag of an HTML element (`<html`, `<head`, `<body`, `<div`, `<p`, ... see HTML_START_TAGS),
    in any case. Text, JSON, XML feeds, PDFs, images, /etc/shadow, /proc/self/environ do not;
    neither does an empty body."""
    head = body[:SNIFF_BYTES]
    text = None
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            text = head[len(bom):].decode(encoding, "ignore")
            break
    if text is None:
        first = head[:2]  # UTF-16 without a BOM: markup starts with "<" or a space, "<\0"
        if len(first) == 2 and first[1] == 0 and first[0] in _MARKUP_START:
            text = head.decode("utf-16-le", "ignore")
        elif len(first) == 2 and first[0] == 0 and first[1] in _MARKUP_START:
            text = head.decode("utf-16-be", "ignore")
        else:
            text = head.decode("latin-1")  # every ASCII-compatible charset agrees on markup
    text = text[_PREAMBLE.match(text).end():]
    if _DOCTYPE_HTML.match(text):
        return True
    tag = _START_TAG.match(text)
    return bool(tag) and tag.group(1).lower() in HTML_START_TAGS


def _private_dir(path: Path) -> None:
    """Create `path` 0700, or make an existing one 0700 (an older archive made it 0755)."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
            os.chmod(path, DIR_MODE)
    except OSError as e:
        raise _os_error(e, path) from e


# -- the fetch log, read strictly --------------------------------------------------------------

def check_record(record) -> str | None:
    """Why a parsed log line is not a fetch record, or None."""
    if not isinstance(record, dict):
        return f"valid JSON but not an object ({type(record).__name__}: {_short(record)})"
    for key in REQUIRED_FIELDS:
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            return (f"the record has no {key}" if value is None
                    else f"its {key} is not a non-empty string ({_short(value)})")
    try:
        datetime.fromisoformat(record["fetched_at"])
    except ValueError:
        return f"its fetched_at {_short(record['fetched_at'])} is not an ISO 8601 timestamp"
    return None


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


class Archive:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.pages = self.root / "pages"
        self.log_path = self.root / LOG_NAME

    def owner(self) -> str | None:
        """The warehouse this folder's fetch log belongs to (relative to the folder), or None."""
        try:
            return (self.root / OWNER_NAME).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def claim(self, warehouse: Path | str) -> None:
        """Make this folder the fetch log of `warehouse` (a path, or a server's URL), or refuse
        when it holds another warehouse's (RawFolderTaken). A folder without an owner (a new
        one, or one an older version wrote) becomes this warehouse's."""
        if self.check_owner(warehouse) is None:
            self.root.mkdir(parents=True, exist_ok=True)
            write_atomically(self.root / OWNER_NAME,
                             (own_name(self.root, warehouse) + "\n").encode(), mode=0o644)

    def check_owner(self, warehouse: Path | str) -> str | None:
        """The folder's owner, when it is `warehouse` or None; RawFolderTaken for another one
        (a reader such as `kfor status` never shows another warehouse's fetches)."""
        owner = self.owner()
        if owner is not None and owner != own_name(self.root, warehouse):
            raise RawFolderTaken(self.root, owner, str(warehouse))
        return owner

    def require_writable(self) -> None:
        """Fail before anything is fetched or written when the archive cannot take this refresh's
        page and log line: a read-only raw dir (or pages/, or the log) raises PermissionError
        naming it. A folder not made yet counts as its nearest existing parent."""
        for path in (self.root, self.pages, self.log_path):
            problem = unwritable(path)
            if problem:
                raise PermissionError(f"the raw archive {problem}: a refresh archives the page and "
                                      "logs the fetch there; nothing was fetched or written")

    def page_path(self, body_sha256: str) -> Path:
        return self.pages / f"{body_sha256}.html"

    def store(self, body: bytes) -> str:
        """Archive a body that looks like HTML; returns its SHA-256 either way (a body that does
        not is not written: the caller logs its hash and size). An existing copy is verified,
        never rewritten. Pages are 0600 in a 0700 folder."""
        digest = sha256(body)
        if not looks_like_html(body):
            return digest
        path = self.page_path(digest)
        if path.exists():
            if sha256(path.read_bytes()) != digest:
                raise ArchiveDamaged(path)
            if stat.S_IMODE(path.stat().st_mode) & 0o077:  # an older archive wrote 0644
                with contextlib.suppress(OSError):
                    os.chmod(path, FILE_MODE)
            return digest
        _private_dir(self.pages)
        write_atomically(path, body)
        return digest

    def load(self, body_sha256: str) -> bytes:
        path = self.page_path(body_sha256)
        if not path.exists():
            bundled = bundled_pages().get(body_sha256)
            if bundled is None:
                raise FileNotFoundError(f"no archived page {body_sha256} in {self.pages}")
            path = bundled
        body = path.read_bytes()
        if sha256(body) != body_sha256:
            raise ArchiveDamaged(path)
        return body

    def append(self, record: dict) -> None:
        """Append one fetch record, durably (fsync), as one line, its url, outcome and message
        redacted. Appends are serialised by a lock on the log; a torn last line (a crash
        mid-append) is first moved to fetch_log.jsonl.torn, so every line stays one record. A
        failed write (disk full) is cut back off and raised with the log's path."""
        line = log_line(record)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
        except OSError as e:
            raise _os_error(e, self.log_path) from e
        with os.fdopen(fd, "r+b", buffering=0) as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # released when the file closes
            size = os.fstat(f.fileno()).st_size
            try:
                size = self._set_torn_tail_aside(f, size)
                _write_all(f.fileno(), line)
                os.fsync(f.fileno())
            except OSError as e:
                with contextlib.suppress(OSError):  # no half line left behind
                    os.ftruncate(f.fileno(), size)
                raise _os_error(e, self.log_path) from e

    def _set_torn_tail_aside(self, f, size: int) -> int:
        """A last line without its newline: keep it as a record when it is one whole record
        (only the newline was lost), else copy it to TORN_NAME and cut it off. Returns the size
        the log has now."""
        if not size:
            return size
        f.seek(max(0, size - 65536))
        tail = f.read()
        if tail.endswith(b"\n"):
            return size
        cut = tail.rfind(b"\n")
        if cut < 0 and size > len(tail):  # a torn line longer than 64 KiB: read all of it
            f.seek(0)
            tail = f.read()
            cut = tail.rfind(b"\n")
        fragment = tail[cut + 1:]
        try:
            whole = check_record(json.loads(fragment)) is None
        except ValueError:  # JSON (and UTF-8) errors
            whole = False
        if whole:
            _write_all(f.fileno(), b"\n")
            return size + 1
        torn = self.root / TORN_NAME
        try:
            fd = os.open(torn, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            with os.fdopen(fd, "ab", buffering=0) as out:
                _write_all(out.fileno(), fragment + b"\n")
                os.fsync(out.fileno())
        except OSError as e:
            raise _os_error(e, torn) from e
        keep = size - len(fragment)
        os.ftruncate(f.fileno(), keep)
        return keep

    def records(self) -> Iterator[dict]:
        """The log in order, read strictly. Blank lines are skipped, and so is a torn last line
        (no newline, not valid JSON: a crash mid-append). Any other line that is not a JSON object
        with fetch_id, fetched_at and outcome raises FetchLogDamaged with its line number."""
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return
        lines = data.split(b"\n")
        last = len(lines) - 1  # the text after the last newline ("" when the log ends whole)
        first_seen: dict[str, tuple[int, bool]] = {}  # fetch_id -> (line, still only an intent)
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            torn = number - 1 == last
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                if torn:  # a crash can cut a character in two
                    continue
                raise FetchLogDamaged(self.log_path, number,
                                      f"not UTF-8 ({e.reason} at byte {e.start})") from None
            except json.JSONDecodeError as e:
                if torn:
                    continue
                raise FetchLogDamaged(self.log_path, number,
                                      f"not valid JSON ({e.msg} at column {e.colno})") from None
            reason = check_record(record)
            if reason:
                raise FetchLogDamaged(self.log_path, number, reason)
            fetch_id, intent = record["fetch_id"], record["outcome"] == BUILDING
            if fetch_id in first_seen:
                at, open_intent = first_seen[fetch_id]
                if not open_intent or intent:
                    raise FetchLogDamaged(self.log_path, number, repeat_reason(fetch_id, at,
                                                                               open_intent))
            first_seen[fetch_id] = (number, intent)
            yield record

    def fetches(self) -> list[dict]:
        """One record per fetch, as it ended: each intent record replaced by its final record
        (kept at the intent's place, so fetches stay in the order they were made). A fetch still
        building (no final record yet) keeps its intent record."""
        return fold(self.records())

    def published(self) -> list[dict]:
        """Records of fetches that published a new version, in log order."""
        return [r for r in self.fetches() if r.get("outcome") == "published"]


def log_line(record: dict) -> bytes:
    """One record as the log writes it: every field in order, redacted, one line."""
    unknown = set(record) - set(LOG_FIELDS)
    if unknown:
        raise ValueError(f"unknown fetch log fields: {sorted(unknown)}")
    return json.dumps({k: record.get(k) for k in LOG_FIELDS} | redacted(record),
                      ensure_ascii=False).translate(_LINE_BREAKS).encode("utf-8") + b"\n"


def own_name(root: Path, warehouse: Path | str) -> str:
    """How a raw folder names its warehouse: a path relative to the folder, or a URL as given."""
    return warehouse if isinstance(warehouse, str) else os.path.relpath(warehouse, root)


def fold(records) -> list[dict]:
    """The log's records with every fetch once, as it ended (Archive.fetches)."""
    order: dict[str, dict] = {}
    for record in records:
        order[record["fetch_id"]] = record  # insertion order is the first line's place
    return list(order.values())


def pending(records) -> list[dict]:
    """Intent records with no final record: fetches whose build was launched and never ended."""
    return [r for r in fold(records) if r.get("outcome") == BUILDING]


def repeat_reason(fetch_id: str, first_line: int, open_intent: bool) -> str:
    already = "its intent (`building`)" if open_intent else "a record"
    then = ("a second intent" if open_intent else "it again")
    return (f"fetch_id {_short(fetch_id)} has {already} at line {first_line} and {then} here (a "
            "fetch is logged once; only a `building` record may be followed by one final record)")


def redacted(record: dict) -> dict:
    """The record's url, outcome and message as the log writes them: without credentials and
    secret parameters (of its url, and of any URL the text quotes)."""
    url = record.get("url")
    out = {}
    if isinstance(url, str):
        out["url"] = redact_url(url)
    message = record.get("message")
    if isinstance(message, str):
        out["message"] = redact_text(message, url)
    outcome = record.get("outcome")
    if isinstance(outcome, str) and ": " in outcome:  # the cause of "failed: ..." / "rejected: ..."
        kind, cause = outcome.split(": ", 1)
        out["outcome"] = f"{kind}: {redact_text(cause, url)}"
    return out


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def bundled_pages() -> dict[str, Path]:
    """The snapshots shipped with the project, by SHA-256."""
    return {sha256(p.read_bytes()): p for p in sorted(BUNDLED_DIR.glob("*.html"))}
