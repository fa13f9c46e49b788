"""Downloading from an archive politely: a request rate, a resumable record of what is done, and
progress lines. Retries with backoff are fetch()'s own (orchestration.core.fetch)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..core.archive import write_atomically

DEFAULT_RATE = 1.0  # requests per second to the archive


class RateLimiter:
    """At most `per_second` request starts per second: wait() sleeps until 1/per_second has passed
    since the previous start, then counts this one."""

    def __init__(self, per_second: float = DEFAULT_RATE, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if not per_second > 0:
            raise ValueError(f"the request rate must be above 0 per second, not {per_second!r}")
        self.interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None:
            left = self._last + self.interval - self._clock()
            if left > 0:
                self._sleep(left)
        self._last = self._clock()

    def pause(self, seconds: float) -> None:
        """fetch()'s sleep between attempts: its backoff, then the rate (a retry is a request)."""
        self._sleep(seconds)
        self.wait()


class ResumeState:
    """Which captures of one download are done, in a small JSON file rewritten atomically after
    each one: a rerun after an interruption skips them. `done` maps a capture's key to what
    became of it: {"outcome": "ok" | "revisit" | "skipped: <reason>", "digest": ..., "retry": bool}.
    A download that failed in a way a later attempt may not (fetch retried it: a 5xx, 429, a
    broken connection, a timeout) is recorded with retry true and is tried again by a rerun."""

    VERSION = 1

    def __init__(self, path: Path, about: dict):
        self.path = Path(path)
        self.about = about
        self.done: dict[str, dict] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != self.VERSION or data.get("about") != self.about:
                raise ValueError("it belongs to another download")
            done = data["done"]
            if not isinstance(done, dict):
                raise ValueError("its 'done' is not an object")
        except (OSError, ValueError, KeyError, AttributeError, UnicodeDecodeError) as e:
            raise ValueError(f"the resume state {self.path} cannot be used ({e}); move it aside "
                             "to start this download again") from None
        self.done = done

    def finished(self, key: str) -> bool:
        entry = self.done.get(key)
        return entry is not None and not entry.get("retry")

    def record(self, key: str, outcome: str, digest: str | None = None, retry: bool = False) -> None:
        self.done[key] = {"outcome": outcome, "digest": digest, "retry": retry}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": self.VERSION, "about": self.about, "done": self.done}
        write_atomically(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())

    def digests(self) -> dict[str, str]:
        """Digest -> the key of the capture done with it (the first one, in key order)."""
        out: dict[str, str] = {}
        for key in sorted(self.done):
            entry = self.done[key]
            if entry.get("outcome") == "ok" and entry.get("digest"):
                out.setdefault(entry["digest"], key)
        return out


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
