"""The raw assets, the run's first step: the decided page parsed into raw.* tables of a fresh
scratch copy of the warehouse (the engine's build: a scratch file, or build_raw on Postgres; one
batch per version), the fetch log (folded: one row per fetch, this one as the newest publication)
and raw.build_info. In replay and import mode the scratch file
starts empty and takes every published version in the archive (and an import's captures).

A run never decides: it builds the fetch `kfor refresh` or the page sensor decided before it. It
re-checks, under the lock, that the published version is still the one that fetch was compared
with (else it ends unchanged, with no build). A run with no decided fetch (Materialize in the UI)
is refused."""

import html
import json
import re
import sys

import dagster as dg

from orchestration.assets.page import PAGE, page_observation
from orchestration.core import raw_tables
from orchestration.core.archive import BUILDING, IMPORTED, Archive, fold
from orchestration.core.layout import RAW_SCHEMA, code_version
from orchestration.core.reference import load_reference
from orchestration.parsing import HISTORICAL, LIVE, ParseError, parse_page
from orchestration.resources import RefreshRun, RunState

RAW_KEYS = {table: dg.AssetKey([RAW_SCHEMA, table]) for table in raw_tables.TABLES}
REFUSED = ("refused: a refresh builds a page checked before the run. Check and build it with "
           "`kfor refresh`, or run the page_sensor's tick in the UI (Automation -> page_sensor); "
           "Materialize cannot start one")


def require_whole_refresh(context: dg.AssetExecutionContext, whole: set[dg.AssetKey]) -> None:
    """A refresh publishes a whole warehouse: a run that selects only some of its assets (a
    partial Materialize in the UI) is refused before it writes anything."""
    selection = context.run.asset_selection  # empty or None: the whole job
    if selection and not whole <= set(selection):
        raise dg.Failure(
            f"refused: a refresh builds and publishes the whole warehouse, and this run selects "
            f"only part of it ({len(whole - set(selection))} assets left out). Use "
            "`kfor refresh`, or the page_sensor's tick in the UI")


def build_raw_assets(whole: set[dg.AssetKey]):
    @dg.multi_asset(
        name="raw",
        specs=[dg.AssetSpec(key, group_name="raw", deps=[PAGE], skippable=True,
                            description=f"raw.{table}: the page as parsed")
               for table, key in RAW_KEYS.items()],
        can_subset=False,
    )
    def raw(context: dg.AssetExecutionContext, refresh_run: RefreshRun):
        require_whole_refresh(context, whole)
        state = refresh_run.state
        if refresh_run.mode in ("replay", "import"):
            captures = json.loads(refresh_run.captures) if refresh_run.captures else []
            counts = load_replay(state, lambda line: progress(context, line), captures)
            version = None
        elif refresh_run.mode == "refresh":
            if state.record is None:
                raise dg.Failure(REFUSED)
            context.log_event(page_observation(state.record))
            if not still_to_build(context, state):
                return
            counts, version = load_changed(state, context.log)
        else:
            raise dg.Failure(f"the raw step does not run in mode {refresh_run.mode}")
        for table, key in RAW_KEYS.items():
            metadata = {"rows_added": counts["added"].get(table, 0),
                        "row_count": counts["total"][table]}
            if version:
                metadata["page_version"] = version.content_sha256
            if table == "commander" and version:
                metadata["preview"] = dg.MetadataValue.md(commander_preview(version))
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)

    return raw


def still_to_build(context, state: RunState) -> bool:
    """The decided fetch is still pending and the published version is still the one it was
    compared with; otherwise the run ends without a build (its record says why)."""
    record = state.record
    if record.get("outcome") != BUILDING:  # recovery or another run ended it already
        state.concluded = True
        state.outcome = record.get("outcome")
        context.log.info(f"the fetch {record['fetch_id']} already ended: {record.get('outcome')}")
        return False
    now = (state.engine.published_meta() or {}).get("content_sha256")
    if now != record.get("compared_with"):
        state.end("unchanged", f"the published version changed since the page was checked "
                               f"(now {str(now)[:12]}): nothing to build")
        context.log.info(state.message)
        return False
    return True


def progress(context, line: str) -> None:
    """Long work says how far it got: in the run's log, and on stderr for `kfor replay`."""
    context.log.info(line)
    print(f"  {line}", file=sys.stderr, flush=True)


def load_changed(state: RunState, log=None):
    """The scratch copy of the published warehouse with this version's batch and the fetch log.
    With nothing published, or a published file that cannot be read, while the log records
    publications, the scratch build starts empty and takes every published version in the
    archive first (as a replay does): the archive and the log are the source of truth, so no
    history is lost. That repair is one warning line (stderr, and `log`, the run's log); its
    progress goes to `log`."""
    settings, record = state.settings, state.record
    archive = Archive(settings.raw_dir)
    parsed = parse_page(archive.load(record["body_sha256"]), record.get("content_type"),
                        load_reference())
    records = archive.fetches()
    earlier = [r for r in records if r.get("outcome") == "published"]
    problem = state.engine.unusable() if earlier else None
    if problem:
        warning = (f"warning: {problem}; rebuilding it from the {len(earlier)} publications in "
                   "the archive")
        print(warning, file=sys.stderr, flush=True)
        if log:
            log.warning(warning)
    with state.engine.building(empty=bool(problem)) as con:
        # every logged publication the copy lacks (all of them for an empty start; after a
        # rollback, the versions published after the one rolled back to): history is never lost
        missing = earlier if problem else not_loaded(con, earlier)
        rekeyed = load_published(con, archive, missing, log.info if log else _quiet) \
            if missing else {}
        added = raw_tables.load_page(con, parsed, record["body_sha256"])
        added["fetch_log"] = raw_tables.load_fetch_log(
            con, rekey(fold([*records, {**record, "outcome": "published"}]), rekeyed))
        added["build_info"] = raw_tables.load_build_info(con, code_version())
        return {"added": added, "total": totals(con)}, parsed


def not_loaded(con, published: list[dict]) -> list[dict]:
    """The publications (one per version) whose batch the scratch copy does not hold."""
    raw_tables.ensure_schema(con)
    held = {key for row in con.execute(f"SELECT content_sha256, body_sha256 FROM "
                                       f"{raw_tables.schema_of(con)}.page_version").fetchall()
            for key in row}
    missing: dict[str, dict] = {}
    for r in published:
        if r.get("body_sha256") and not {r["content_sha256"], r["body_sha256"]} & held:
            missing.setdefault(r["content_sha256"], r)
    return list(missing.values())


def _quiet(line: str) -> None:
    pass


def load_replay(state: RunState, progress, captures: list[dict] | None = None) -> dict:
    """An empty scratch build with every published version's batch and the whole fetch log, plus
    an import's capture records (as the log will hold them once they publish). An imported
    capture is read with the historical requirements (rule L1), as it was imported."""
    archive = Archive(state.settings.raw_dir)
    records = fold([*archive.records(), *(captures or [])])
    published = [r for r in records if r.get("outcome") == "published"]
    if not published:
        raise dg.Failure(f"nothing to replay: the fetch log in {archive.root} records no "
                         "published version")
    with state.engine.building(empty=True) as con:
        rekeyed = load_published(con, archive, published, progress)
        n = raw_tables.load_fetch_log(con, rekey(records, rekeyed))
        raw_tables.load_build_info(con, code_version())
        return {"added": {"fetch_log": n, "build_info": 1}, "total": totals(con)}


def load_published(con, archive: Archive, published: list[dict], progress) -> dict[str, str]:
    """Every published version's batch, parsed from its archived page (a missing or damaged
    page stops the build, naming it). Returns the version keys a newer parser changed."""
    raw_tables.ensure_schema(con)
    rekeyed: dict[str, str] = {}
    for i, record in enumerate(published, start=1):
        try:
            page = parse_page(archive.load(record["body_sha256"]), record.get("content_type"),
                              load_reference(), requirements=requirements_of(record))
        except ParseError as e:  # the run's failure names the check, as a refresh's would
            raise dg.Failure(f"rejected: parse:{e.check} ({e.message}; the page of "
                             f"{record['fetched_at']})") from None
        if page.content_sha256 != record["content_sha256"]:
            rekeyed[record["content_sha256"]] = page.content_sha256  # a newer parser
        raw_tables.load_page(con, page, record["body_sha256"])
        if i % 25 == 0 or i == len(published):
            progress(f"parsed {i}/{len(published)} published versions")
    return rekeyed


def rekey(records: list[dict], rekeyed: dict[str, str]) -> list[dict]:
    return [{**r, "content_sha256": rekeyed.get(r.get("content_sha256"), r.get("content_sha256"))}
            for r in records]


def requirements_of(record: dict):
    """An imported capture is read as it was imported: with the historical requirements (L1)."""
    return HISTORICAL if record.get("source") == IMPORTED else LIVE


def totals(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {raw_tables.schema_of(con)}.{t}").fetchone()[0]
            for t in RAW_KEYS}


def commander_preview(parsed) -> str:
    """The commanders list as a markdown table; page text is escaped (it is not our markup)."""
    # markdown punctuation (emphasis, code, links, table pipes, autolinks) backslash-escaped
    def cell(text) -> str:
        return html.escape(re.sub(r"([\\`*_\[\]|~:.])", r"\\\1", str(text or "")), quote=False)

    rows = "\n".join(f"| {c.ordinal} | {cell(c.rank)} {cell(c.full_name)} | {cell(c.nation_code)} "
                     f"| {cell(c.start_text)} | {cell(c.end_text) or 'present'} |"
                     for c in parsed.commanders)
    return "| # | commander | nation | from | to |\n|---|---|---|---|---|\n" + rows
