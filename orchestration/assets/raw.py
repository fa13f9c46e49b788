"""The raw assets: the changed page parsed into raw.* tables of a fresh scratch copy of the
warehouse (one batch per version), plus the fetch log with this fetch as the newest publication."""


import dagster as dg
import duckdb

from .. import raw_tables
from ..archive import Archive
from ..parsing import parse_page
from ..paths import RAW_SCHEMA
from ..publish import start_build
from ..reference import load_reference
from ..refresh import write_pending
from ..resources import RefreshLock
from .page import PAGE_KEY

RAW_KEYS = {table: dg.AssetKey([RAW_SCHEMA, table]) for table in raw_tables.TABLES}


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="raw", deps=[PAGE_KEY], skippable=True,
                        description=f"raw.{table}: the page as parsed, one batch per version")
           for table, key in RAW_KEYS.items()],
    ins={"page": dg.AssetIn(PAGE_KEY)}, pool="kfor_warehouse", can_subset=False,
)
def raw(context: dg.AssetExecutionContext, page: dict, refresh_lock: RefreshLock):
    if not page["changed"]:
        context.log.info("page unchanged: nothing to build")
        return
    record = dict(page["record"], outcome="published")
    archive = Archive()
    parsed = parse_page(archive.load(record["body_sha256"]), record.get("content_type"), load_reference())
    build = start_build()
    write_pending(page["record"])
    con = duckdb.connect(str(build))
    try:
        counts = raw_tables.load_page(con, parsed, record["body_sha256"])
        counts["fetch_log"] = raw_tables.load_fetch_log(con, [*archive.records(), record])
        totals = {t: con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{t}").fetchone()[0]
                  for t in RAW_KEYS}
    finally:
        con.close()
    preview = "\n".join(f"| {c.ordinal} | {c.rank} {c.full_name} | {c.nation_code} | "
                        f"{c.start_text} | {c.end_text or 'present'} |" for c in parsed.commanders)
    for table, key in RAW_KEYS.items():
        metadata = {"rows_added": counts.get(table, 0), "row_count": totals[table],
                    "page_version": parsed.content_sha256}
        if table == "commander":
            metadata["preview"] = dg.MetadataValue.md(
                "| # | commander | nation | from | to |\n|---|---|---|---|---|\n" + preview)
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
