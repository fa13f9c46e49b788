"""The raw archive: every distinct body, content-addressed by SHA-256 and never rewritten, and the
append-only fetch log (JSON lines) that records every fetch and orders the versions."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from .paths import BUNDLED_DIR

LOG_NAME = "fetch_log.jsonl"
# Every record has these keys, in this order (also the columns of raw.fetch_log).
LOG_FIELDS = ("fetch_id", "fetched_at", "url", "source", "status", "etag", "last_modified",
              "content_type", "body_sha256", "content_sha256", "bytes", "attempts", "elapsed_ms",
              "outcome", "message")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder's fsync makes a rename in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file, fsync and rename: readers see the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


class Archive:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.pages = self.root / "pages"
        self.log_path = self.root / LOG_NAME

    def page_path(self, body_sha256: str) -> Path:
        return self.pages / f"{body_sha256}.html"

    def store(self, body: bytes) -> str:
        """Archive a body; returns its SHA-256. An existing copy is verified, never rewritten."""
        digest = sha256(body)
        path = self.page_path(digest)
        if path.exists():
            if sha256(path.read_bytes()) != digest:
                raise RuntimeError(f"archived page {path} does not match its SHA-256; "
                                   "the archive is damaged and is left as it is for inspection")
            return digest
        self.pages.mkdir(parents=True, exist_ok=True)
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
            raise RuntimeError(f"archived page {path} does not match its SHA-256")
        return body

    def append(self, record: dict) -> None:
        """Append one fetch record, durably (fsync), as one line."""
        unknown = set(record) - set(LOG_FIELDS)
        if unknown:
            raise ValueError(f"unknown fetch log fields: {sorted(unknown)}")
        line = json.dumps({k: record.get(k) for k in LOG_FIELDS}, ensure_ascii=False)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a+b") as f:
            f.seek(0, os.SEEK_END)
            if f.tell():
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # a line torn by a crash: end it, keep ours whole
                    f.write(b"\n")
            f.write(line.encode("utf-8") + b"\n")
            f.flush()
            os.fsync(f.fileno())

    def records(self) -> Iterator[dict]:
        """The log in order. A torn last line (a crash mid-append) is skipped, not fatal."""
        if not self.log_path.exists():
            return
        with open(self.log_path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue

    def published(self) -> list[dict]:
        """Records of fetches that published a new version, in log order."""
        return [r for r in self.records() if r.get("outcome") == "published"]


def bundled_pages() -> dict[str, Path]:
    """The snapshots shipped with the project, by SHA-256."""
    return {sha256(p.read_bytes()): p for p in sorted(BUNDLED_DIR.glob("*.html"))}
