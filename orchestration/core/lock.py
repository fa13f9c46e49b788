"""The refresh lock: one refresh at a time per published warehouse. A lock file beside the
published file, held with flock by the process that refreshes (the kernel releases it when that
process dies, so a killed refresh never leaves a stale lock)."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class RefreshBusy(RuntimeError):
    """Another refresh holds the lock."""


_held: dict[Path, int] = {}  # locks this process holds, with their depth (the lock is reentrant)


def holds(lock_path: Path) -> bool:
    """This process holds the lock (a CLI refresh running its Dagster run in-process)."""
    return lock_path.resolve() in _held


@contextmanager
def refresh_lock(lock_path: Path, wait: float = 0.0):
    """Hold the lock; another holder means "refresh already running (pid N ...)". Reentrant within
    a process: the CLI holds it around the whole refresh and the run's resource takes it too.
    Yields True when this process already held it (re-entered), else False."""
    lock_path = lock_path.resolve()
    if lock_path in _held:
        _held[lock_path] += 1
        try:
            yield True
        finally:
            _held[lock_path] -= 1
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
                    raise RefreshBusy(f"refresh already running ({holder})") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}".encode(), 0)
        _held[lock_path] = 1
        yield False
    finally:
        _held.pop(lock_path, None)
        os.close(fd)  # closing releases the lock; the stale text is harmless


def is_free(lock_path: Path) -> bool:
    """Nobody holds the lock now (for `kfor status`: a run shown as started while its warehouse's
    lock is free is dead). Takes and drops it at once, creating nothing."""
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
