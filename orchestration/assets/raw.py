"""The raw assets, the refresh's first step: the changed page parsed into raw.* tables of a fresh
scratch copy of the warehouse (one batch per version), plus the fetch log with this fetch as the
newest publication. A run started without a checked page (the schedule, the UI) checks it here,
through the same `decide()` as `kfor refresh`; an unchanged page ends the run without a build. In
replay mode the scratch file starts empty and takes every published version in the archive."""

import html
import json
import re
import sys

import dagster as dg
import duckdb

from orchestration.core import raw_tables

from ..core.archive import IMPORTED, Archive
from ..core.project import RAW_SCHEMA
from ..core.publish import start_build, warehouse_problem
from ..core.reference import load_reference
from ..parsing import parse_page
from ..refresh import RefreshError, decide
from ..resources import PageSource, RefreshRun
from .page import PAGE, RAW_KEYS
from .scope import require_whole_refresh


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="raw", deps=[PAGE], skippable=True,
                        description=f"raw.{table}: the page as parsed, one batch per version")
           for table, key in RAW_KEYS.items()],
    can_subset=False,
)
def raw(context: dg.AssetExecutionContext, refresh_run: RefreshRun, page_source: PageSource):
    require_whole_refresh(context)
    state = refresh_run.state
    settings, archive = state.settings, Archive(state.settings.raw_dir)
    if refresh_run.mode in ("replay", "import"):
        captures = json.loads(refresh_run.captures) if refresh_run.captures else []
        counts = load_replay(settings, archive, lambda line: progress(context, line), captures)
        version = None
    else:
        if state.record is None:  # started by the schedule or the UI: check the page here
            try:
                check = decide(settings, context.instance, fetcher=page_source.fetch,
                               log_event=context.log_event)
            except RefreshError as e:  # concluded by decide(); the run fails naming it
                state.outcome = e.outcome
                raise dg.Failure(e.outcome, metadata={"cause": e.cause}) from None
            for warning in check.warnings:
                context.log.warning(warning)
            if not check.changed:
                state.unchanged(check.record)
                context.log.info("page unchanged: nothing to build")
                return
            state.record = check.record
        counts, version = load_changed(settings, archive, state.record, context.log)
    for table, key in RAW_KEYS.items():
        metadata = {"rows_added": counts["added"].get(table, 0), "row_count": counts["total"][table]}
        if version:
            metadata["page_version"] = version.content_sha256
        if table == "commander" and version:
            metadata["preview"] = dg.MetadataValue.md(commander_preview(version))
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def progress(context, line: str) -> None:
    """Long work says how far it got: in the run's log, and on stderr for `kfor replay`."""
    context.log.info(line)
    print(f"  {line}", file=sys.stderr, flush=True)


def load_changed(settings, archive: Archive, record: dict, log=None):
    """The scratch copy of the published file with this version's batch and the fetch log. With
    no published file, or one that cannot be read, while the log records publications, the
    scratch file starts empty and takes every published version in the archive first (as a
    replay does): the archive and the log are the source of truth, so no history is lost. That
    repair is one warning line (stderr, and `log`, the run's log); its progress goes to `log`."""
    parsed = parse_page(archive.load(record["body_sha256"]), record.get("content_type"),
                        load_reference())
    records = list(archive.records())
    earlier = [r for r in records if r.get("outcome") == "published"]
    problem = unusable_published_file(settings.warehouse) if earlier else None
    if problem:
        warning = (f"warning: {problem}; rebuilding it from the {len(earlier)} publications in "
                   "the archive")
        print(warning, file=sys.stderr, flush=True)
        if log:
            log.warning(warning)
    build = start_build(settings, empty=bool(problem))
    con = duckdb.connect(str(build))
    try:
        rekeyed = load_published(con, archive, earlier, log.info if log else _quiet) \
            if problem else {}
        added = raw_tables.load_page(con, parsed, record["body_sha256"])
        added["fetch_log"] = raw_tables.load_fetch_log(
            con, rekey([*records, {**record, "outcome": "published"}], rekeyed))
        return {"added": added, "total": totals(con)}, parsed
    finally:
        con.close()


def unusable_published_file(published) -> str | None:
    """Why the published file cannot be the start of a build (missing, or not a readable
    warehouse), or None."""
    if not published.exists():
        return f"there is no published file at {published}"
    problem = warehouse_problem(published, thorough=True)
    return f"the published file {published} is not a readable warehouse ({problem})" \
        if problem else None


def _quiet(line: str) -> None:
    pass


def load_replay(settings, archive: Archive, progress, captures: list[dict] | None = None) -> dict:
    """An empty scratch file with every published version's batch and the whole fetch log, plus
    an import's capture records (as the log will hold them once they publish). An imported
    capture is read with the historical requirements (rule L1), as it was imported."""
    records = [*archive.records(), *(captures or [])]
    published = [r for r in records if r.get("outcome") == "published"]
    if not published:
        raise dg.Failure(f"nothing to replay: the fetch log in {archive.root} records no "
                         "published version")
    build = start_build(settings, empty=True)
    con = duckdb.connect(str(build))
    try:
        rekeyed = load_published(con, archive, published, progress)
        n = raw_tables.load_fetch_log(con, rekey(records, rekeyed))
        return {"added": {"fetch_log": n}, "total": totals(con)}
    finally:
        con.close()


def load_published(con, archive: Archive, published: list[dict], progress) -> dict[str, str]:
    """Every published version's batch, parsed from its archived page (a missing or damaged
    page stops the build, naming it). Returns the version keys a newer parser changed."""
    raw_tables.ensure_schema(con)
    rekeyed: dict[str, str] = {}
    for i, record in enumerate(published, start=1):
        page = parse_page(archive.load(record["body_sha256"]), record.get("content_type"),
                          load_reference(), requirements=requirements_of(record))
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
    from ..parsing import HISTORICAL, LIVE

    return HISTORICAL if record.get("source") == IMPORTED else LIVE


def totals(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{t}").fetchone()[0]
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
