"""The raw schema: the parser's records as rows, one batch per page version (keyed by its version
key, content_sha256), and the fetch log. Values go in as parameters; no SQL is built from page
text. Rows carry no load time, so a replay writes the same rows.

One loader for both engines: `con` is a DuckDB connection, or a psycopg2 connection wrapped in
`PostgresConnection` (the same two calls). The DDL uses only types both engines name alike
(VARCHAR, INTEGER: `_TYPES`), so the raw tables are the same on both."""

from __future__ import annotations

from dataclasses import astuple, fields

from orchestration.core.archive import LOG_FIELDS
from orchestration.core.layout import RAW_SCHEMA
from orchestration.parsing import Commander, EventMention, ParsedPage, Section, TroopFigure

_TYPES = {int: "INTEGER", "int": "INTEGER", "int | None": "INTEGER"}


def _columns(record_type) -> list[tuple[str, str]]:
    return [(f.name, _TYPES.get(f.type, "VARCHAR")) for f in fields(record_type)]


# table -> (record type, columns). Every batch table starts with content_sha256.
BATCH_TABLES = {
    "section": (Section, _columns(Section)),
    "commander": (Commander, _columns(Commander)),
    "troop_figure": (TroopFigure, _columns(TroopFigure)),
    "event_mention": (EventMention, _columns(EventMention)),
}
PAGE_VERSION_COLUMNS = [("content_sha256", "VARCHAR"), ("body_sha256", "VARCHAR"),
                        ("title", "VARCHAR"), ("last_updated_text", "VARCHAR"),
                        ("parser_version", "VARCHAR"), ("article_text", "VARCHAR")]
FETCH_LOG_COLUMNS = [("log_seq", "INTEGER")] + [
    (name, "INTEGER" if name in ("status", "bytes", "attempts", "elapsed_ms") else "VARCHAR")
    for name in LOG_FIELDS]
BUILD_INFO_COLUMNS = [("code_version", "VARCHAR")]
TABLES = ["page_version", *BATCH_TABLES, "fetch_log", "build_info"]


class PostgresConnection:
    """A psycopg2 connection with DuckDB's `execute` and `executemany` (`?` markers), in
    autocommit mode, so load_page's own BEGIN and COMMIT delimit its transaction as on DuckDB.
    For this module's SQL only: it holds no literal `?` or `%` (values are parameters).
    `schema`: where the raw tables are on this server (a build writes `build_raw`,
    core/pg_warehouse.py); a DuckDB build is a scratch file of its own, always `raw`."""

    def __init__(self, connection, schema: str = RAW_SCHEMA):
        self.connection, self.schema = connection, schema
        connection.autocommit = True

    def execute(self, sql: str, params=None):
        cursor = self.connection.cursor()
        cursor.execute(sql.replace("?", "%s"), params)
        return cursor

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        from psycopg2.extras import execute_batch  # one round trip per page of rows

        with self.connection.cursor() as cursor:
            execute_batch(cursor, sql.replace("?", "%s"), rows, page_size=500)


def schema_of(con) -> str:
    """The schema `con` holds the raw tables in (PostgresConnection.schema; `raw` on DuckDB)."""
    return getattr(con, "schema", RAW_SCHEMA)


def ensure_schema(con) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema_of(con)}")
    _create(con, "page_version", PAGE_VERSION_COLUMNS)
    for table, (_, columns) in BATCH_TABLES.items():
        _create(con, table, [("content_sha256", "VARCHAR"), *columns])
    _create(con, "fetch_log", FETCH_LOG_COLUMNS)
    _create(con, "build_info", BUILD_INFO_COLUMNS)


def _create(con, table: str, columns: list[tuple[str, str]]) -> None:
    """The table, created or extended: a warehouse published by an older version of this code
    gets the columns added since (always at the end, so rows still insert by position)."""
    cols = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS {schema_of(con)}.{table} ({cols})")
    for name, kind in columns:
        con.execute(f'ALTER TABLE {schema_of(con)}.{table} ADD COLUMN IF NOT EXISTS "{name}" {kind}')


def load_page(con, page: ParsedPage, body_sha256: str) -> dict[str, int]:
    """Append the batch of one version; a version already loaded is left as it is (append-only).
    Returns rows written per table (0 everywhere for a version already present)."""
    ensure_schema(con)
    present = con.execute(f"SELECT count(*) FROM {schema_of(con)}.page_version "
                          "WHERE content_sha256 = ?", [page.content_sha256]).fetchone()[0]
    if present:
        return {table: 0 for table in ["page_version", *BATCH_TABLES]}
    counts = {}
    con.execute("BEGIN TRANSACTION")
    try:
        _insert(con, "page_version", len(PAGE_VERSION_COLUMNS),
                [(page.content_sha256, body_sha256, page.title, page.last_updated_text,
                  page.parser_version, page.article_text)])
        counts["page_version"] = 1
        for table, rows in (("section", page.sections), ("commander", page.commanders),
                            ("troop_figure", page.troop_figures), ("event_mention", page.events)):
            width = 1 + len(BATCH_TABLES[table][1])
            _insert(con, table, width, [(page.content_sha256, *astuple(r)) for r in rows])
            counts[table] = len(rows)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


def load_fetch_log(con, records: list[dict]) -> int:
    """Replace raw.fetch_log with the log as it stands (the log file is the source of truth)."""
    ensure_schema(con)
    con.execute(f"DELETE FROM {schema_of(con)}.fetch_log")
    _insert(con, "fetch_log", len(FETCH_LOG_COLUMNS),
            [(seq, *(r.get(k) for k in LOG_FIELDS)) for seq, r in enumerate(records, start=1)])
    return len(records)


def load_build_info(con, code_version: str) -> int:
    """Replace raw.build_info: what code builds this file (marts.meta reads it). A raw table, not
    a dbt var or env var, so dbt parses the same project whatever the code version."""
    ensure_schema(con)
    con.execute(f"DELETE FROM {schema_of(con)}.build_info")
    _insert(con, "build_info", len(BUILD_INFO_COLUMNS), [(code_version,)])
    return 1


def _insert(con, table: str, width: int, rows: list[tuple]) -> None:
    if rows:
        marks = ", ".join("?" * width)
        con.executemany(f"INSERT INTO {schema_of(con)}.{table} VALUES ({marks})", rows)
