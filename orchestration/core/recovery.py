"""Recovery: what a killed refresh, import, replay or rollback left, settled at the start of the
next one, under the warehouse's lock (core.session). It reads only the fetch log, the archive and
the published warehouse (its own copy of the log, raw.fetch_log), never the Dagster instance.

- An intent record with no final record (orchestration.core.archive.pending): the outcome the
  published file's copy of the log holds for it (killed after the rename: `published`, or
  `unchanged` for an import's sighting; for a rollback, when the published file is the version it
  rolled back to), else `failed: interrupted`. An intent handed to a run the daemon has yet to
  start (it carries the page sensor's run key) is spared for KFOR_LOCK_WAIT and a grace period.
- A fetch log that lacks fetches the published warehouse recorded (lost, truncated, replaced by an
  old copy) is never rebuilt to a shorter history: LogBehind stops the refresh, naming
  `kfor repair-log` (orchestration.drivers.repair).
- The scratch build is removed (a scratch file, or build schemas on Postgres); exports that do not
  name the published version are made again (DuckDB files only: a server's readers read it).
- Kept versions of the old shared layout are moved into the warehouse's own history, once."""

from __future__ import annotations

from orchestration.core.archive import Archive, pending
from orchestration.core.decide import stale_intent
from orchestration.core.export import settle
from orchestration.core.outcome import conclude
from orchestration.core.publish import move_legacy_history
from orchestration.core.settings import Settings


class LogBehind(RuntimeError):
    """The fetch log lacks fetches the published warehouse's own copy of it records."""

    def __init__(self, settings: Settings, missing: list[dict]):
        newest = max((r.get("fetched_at") or "" for r in missing), default="?")
        super().__init__(
            f"the fetch log {settings.raw_dir / 'fetch_log.jsonl'} lacks {len(missing)} fetches "
            f"that the published warehouse recorded (the newest {newest}): it was lost, cut or "
            "replaced. Nothing was fetched or written; run `kfor repair-log` to rebuild it from "
            "the published warehouse and its kept versions, then run again")


def recover(settings: Settings, exclude: str | None = None) -> list[str]:
    """Settle what an interrupted run left; returns one note per repair. `exclude` is the fetch a
    starting run is about to build (its intent is pending by design)."""
    files, engine = settings.files, settings.engine
    notes = move_legacy_history(files) if engine.kind == "duckdb" else []
    records = list(Archive(settings.raw_dir).records())
    copy = engine.logged_fetches()
    logged = {r["fetch_id"] for r in records}
    missing = [r for r in copy if r["fetch_id"] not in logged]
    if missing:
        raise LogBehind(settings, missing)
    in_copy = {r["fetch_id"]: r.get("outcome") for r in copy}
    meta = engine.published_meta() or {}
    for intent in pending(records):
        if intent["fetch_id"] == exclude:
            continue
        if intent.get("run_key") and not stale_intent(settings, intent):
            continue  # handed to a run the daemon has yet to start (the page sensor's)
        rolled_back = (intent.get("source") == "rollback" and intent.get("content_sha256")
                       == meta.get("content_sha256") != intent.get("compared_with"))
        if in_copy.get(intent["fetch_id"]) in ("published", "unchanged") or rolled_back:
            # killed after the rename: the published file's copy of the log says how it ended
            # (an import's sighting of a known version is `unchanged`)
            outcome = "published" if rolled_back else in_copy[intent["fetch_id"]]
            conclude(settings, intent, outcome,
                     "log completed: the run was interrupted after it published", alert=False)
            notes.append("completed the fetch log of a refresh interrupted after it published")
        else:
            conclude(settings, intent, "failed: interrupted",
                     "the refresh process died before it published")
            notes.append("logged an interrupted refresh as failed")
    engine.discard_build()
    if engine.kind != "duckdb":
        return notes  # a server's readers need no exports
    try:
        if settle(files, meta.get("content_sha256")):
            notes.append("re-made the exports (Parquet, plots) of the published version")
    except Exception as e:  # noqa: BLE001 - the warehouse is published; its copies can wait
        notes.append(f"the exports of the published version could not be made again: "
                     f"{type(e).__name__}: {e}")
    return notes
