"""`kfor repair-log`: rebuild a lost, cut or damaged fetch log without losing a publication.

The fetch log is the one record; every build also stores the log as it stood (raw.fetch_log), so
the published warehouse and each kept version hold copies. The repair takes the union of those
copies and of every readable line of the current log (one record per fetch, its final outcome
preferred), in the order the fetches were made, checks that every published version's page is in
the archive, moves the old log aside (fetch_log.jsonl.before-repair-<UTC time>) and writes the
new one atomically. Damaged lines of the old log are kept in the file moved aside."""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestration.core.archive import (
    BUILDING,
    LOG_FIELDS,
    LOG_NAME,
    Archive,
    check_record,
    log_line,
    write_atomically,
)
from orchestration.core.files import utc_stamp
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings


def readable_lines(path: Path) -> tuple[list[dict], int]:
    """The log's records that read as records, and how many lines did not."""
    records, damaged = [], 0
    if not path.exists():
        return records, damaged
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except ValueError:
            damaged += 1
            continue
        if check_record(record) is None:
            records.append(record)
        else:
            damaged += 1
    return records, damaged


def repair_log(settings: Settings, say=print) -> dict:
    """Rebuild the fetch log (see the module's doc). Takes the lock; runs no recovery first (the
    log is what recovery would refuse)."""
    engine = settings.engine
    archive = Archive(settings.raw_dir)
    with engine.lock():
        current, damaged = readable_lines(archive.log_path)
        copies = [engine.logged_fetches(), *map(engine.kept_fetches, reversed(engine.kept()))]
        merged: dict[str, dict] = {}
        conflicts: list[tuple[dict, dict]] = []
        for record in [r for copy in copies for r in copy] + current:
            record = {k: record.get(k) for k in LOG_FIELDS}
            known = merged.get(record["fetch_id"])
            if known is None or known.get("outcome") == BUILDING:
                merged[record["fetch_id"]] = record
            elif record.get("outcome") not in (BUILDING, known.get("outcome")):
                conflicts.append((known, record))  # two final outcomes: one line is damaged
        ordered = sorted(merged.values(), key=lambda r: r["fetched_at"])
        missing = [r for r in ordered if r.get("outcome") == "published" and r.get("body_sha256")
                   and not page_present(archive, r["body_sha256"])]
        from_copies = len({r["fetch_id"] for c in copies for r in c} - {r["fetch_id"] for r in current})
        if archive.log_path.exists():
            aside = archive.log_path.with_name(f"{LOG_NAME}.before-repair-{utc_stamp()}")
            os.link(archive.log_path, aside)
            say(f"note: the old log is kept as {aside.name}")
        archive.root.mkdir(parents=True, exist_ok=True)
        write_atomically(archive.log_path, b"".join(log_line(r) for r in ordered))
    published = sum(r.get("outcome") == "published" for r in ordered)
    say(f"repaired {archive.log_path}: {len(ordered)} fetches ({from_copies} recovered from the "
        f"warehouse's copies, {damaged + len(conflicts)} damaged lines left out), {published} "
        "publications")
    for kept, other in conflicts:  # the warehouse's copies come first: what a build saw wins
        say(f"warning: the fetch {kept['fetch_id']} ({kept['fetched_at']}) has two final outcomes, "
            f"{kept.get('outcome')!r} (kept) and {other.get('outcome')!r} (left out as damaged)")
    for record in missing:
        say(f"warning: the page of the publication {record['fetch_id']} ({record['fetched_at']}) "
            "is not in the archive; a replay cannot rebuild that version")
    with warehouse_session(settings, say=say):
        pass  # the repaired log now passes recovery's checks (it raises otherwise)
    return {"fetches": len(ordered), "recovered": from_copies, "damaged": damaged + len(conflicts),
            "publications": published, "missing_pages": len(missing)}


def page_present(archive: Archive, body_sha256: str) -> bool:
    try:
        archive.load(body_sha256)
        return True
    except Exception:  # noqa: BLE001 - missing or damaged: reported, not fatal to the repair
        return False
