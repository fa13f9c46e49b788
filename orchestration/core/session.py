"""The one entry for every driver and every run: the warehouse's lock, then recovery.

The lock is the engine's (core/engine.py): a flock beside a DuckDB file, an advisory lock on a
Postgres server (so two hosts never build at once). `kfor refresh`, the page sensor's
evaluation, the run's resource, `kfor import`, `kfor replay` and `kfor rollback` all enter
`warehouse_session`. The lock is reentrant within a process: a run executed in the CLI's own
process enters again without recovering twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from orchestration.core.archive import Archive
from orchestration.core.recovery import recover
from orchestration.core.settings import Settings


@contextmanager
def warehouse_session(settings: Settings, wait: float = 0.0, exclude: str | None = None,
                      say: Callable[[str], None] = print) -> Iterator[None]:
    """Refuse a raw folder that holds another warehouse's fetch log, hold the warehouse's refresh
    lock (waiting up to `wait` seconds; RefreshBusy past that), and, unless this process already
    held it: refuse a raw folder that cannot be written (before anything is written), claim it,
    then settle what an interrupted run left (core.recovery). `exclude`: the fetch a starting run
    builds. Notes of repairs go to `say`."""
    engine = settings.engine
    engine.require_writable()
    # before the lock, which may fail too (a server down): another warehouse's fetch log is
    # never written, not even to record why this refresh failed (drivers/refresh.py)
    archive = Archive(settings.raw_dir)
    archive.check_owner(settings.raw_owner)
    with engine.lock(wait=wait) as reentered:
        if not reentered:
            archive.require_writable()
            archive.claim(settings.raw_owner)
            for note in recover(settings, exclude=exclude):
                say(f"note: {note}")
        yield
