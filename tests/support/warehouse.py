"""Helpers to read a warehouse file the way a BI tool would: read-only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb


def query(path: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def rows(path: Path, sql: str) -> list[dict]:
    """The query's rows as dicts, read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def table_checksums(path: Path, schema: str, exclude: dict[str, set[str]] | None = None) -> dict:
    """Per-table checksum of every row (order-independent), leaving out the named columns."""
    exclude = exclude or {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [schema]).fetchall()]
        out = {}
        for t in tables:
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?"
                " ORDER BY column_index", [schema, t]).fetchall() if c not in exclude.get(t, set())]
            collist = ", ".join(f'"{c}"' for c in cols)
            out[t] = con.execute(
                f'SELECT count(*), sum(hash(({collist}))) FROM {schema}."{t}"').fetchone()
        return out
    finally:
        con.close()
