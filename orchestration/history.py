"""Replay and rollback.

replay: rebuild the warehouse from every published version in the archive, in fetch-log order
(rejected versions were never published, so they stay out). The marts and snapshots are functions
of the raw batches and the fetch log, so one dbt build over all batches reproduces what the
refreshes produced, and one more version costs one parse and one batch load.

rollback: re-publish the file the last publish replaced (kept under history/) by the same atomic
rename, and log it as a publication (source "rollback"), so history and a later replay agree."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from . import paths, raw_tables
from .archive import Archive
from .parsing import parse_page
from .publish import (
    after_publish,
    build_path,
    discard_build,
    history,
    publish,
    published_meta,
    seal,
    start_build,
)
from .reference import load_reference
from .refresh import RefreshError, finish, new_record


def replay(archive: Archive | None = None, progress=print) -> dict:
    """Rebuild and publish; returns what was replayed. Call under the refresh lock."""
    from . import dbt_build

    archive = archive or Archive()
    records = list(archive.records())
    published = [r for r in records if r.get("outcome") == "published"]
    if not published:
        raise RefreshError("failed: nothing to replay",
                           f"the fetch log in {archive.root} records no published version")
    build = start_build(empty=True)  # from nothing, not from a copy of the published file
    con = duckdb.connect(str(build))
    rekeyed: dict[str, str] = {}
    try:
        raw_tables.ensure_schema(con)
        for i, record in enumerate(published, start=1):
            page = parse_page(archive.load(record["body_sha256"]), record.get("content_type"),
                              load_reference())
            if page.content_sha256 != record["content_sha256"]:
                rekeyed[record["content_sha256"]] = page.content_sha256  # a newer parser
            raw_tables.load_page(con, page, record["body_sha256"])
            if i % 25 == 0 or i == len(published):
                progress(f"  parsed {i}/{len(published)} published versions")
        raw_tables.load_fetch_log(con, [
            {**r, "content_sha256": rekeyed.get(r.get("content_sha256"), r.get("content_sha256"))}
            for r in records])
    finally:
        con.close()
    progress("  building the marts and snapshots")
    dbt_build.point_at_build()
    results = dbt_build.invoke(["build"]).result.results
    failing = [r.node.name for r in results if str(r.status) in ("fail", "error")]
    if failing:
        discard_build()
        raise RefreshError(f"rejected: {failing[0]}", f"replay build failed: {', '.join(failing)}")
    seal(build)
    publish(build, keep=paths.keep_published())
    for warning in after_publish():
        progress(warning)
    return {"versions": len({r["content_sha256"] for r in published}),
            "publications": len(published), "rekeyed": len(rekeyed)}


def rollback(to: Path | None = None, archive: Archive | None = None) -> dict:
    """Re-publish a kept file: by default the newest one holding another page version than the
    published file (the previous version). The file it replaces is kept in turn, so a second
    rollback undoes the first. Call under the refresh lock."""
    archive = archive or Archive()
    kept = history()
    current = (published_meta() or {}).get("content_sha256")
    if to:
        source = Path(to).resolve()
        if source not in [k.resolve() for k in kept]:
            raise RefreshError("failed: not a kept file", f"{to} is not under history/")
    else:
        older = [k for k in reversed(kept) if (published_meta(k) or {}).get("content_sha256")
                 != current]
        if not older:
            raise RefreshError("failed: nothing to roll back to",
                               "no kept file under history/ holds another page version")
        source = older[0]
    build = build_path()
    build.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, build)
    seal(build)
    before = published_meta()
    publish(build, keep=paths.keep_published() + 1)  # the source entry goes next
    source.unlink()
    after_publish()
    meta = published_meta() or {}
    record = new_record(str(source))
    record.update(source="rollback", body_sha256=meta.get("body_sha256"),
                  content_sha256=meta.get("content_sha256"), etag=meta.get("etag"),
                  last_modified=meta.get("last_modified"))
    finish(archive, record, "published",
           f"rollback from {(before or {}).get('content_sha256', '?')[:12]} to "
           f"{meta.get('content_sha256', '?')[:12]} ({source.name})")
    return {"from": (before or {}).get("content_sha256"), "to": meta.get("content_sha256"),
            "file": source.name}
