"""`make dbt-dev`: a file of its own for the dbt `dev` target (dbt_project/dev/kfor.duckdb, or
KFOR_DBT_DEV_DIR/kfor.duckdb), holding only the published warehouse's raw schema, so that
`cd dbt_project && dbt build` works by hand and never touches the published file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

from orchestration.core.files import BUILD_NAME
from orchestration.core.layout import DBT_PROJECT_DIR, RAW_SCHEMA
from orchestration.core.settings import get as get_settings


def dev_path() -> Path:
    folder = Path(os.environ.get("KFOR_DBT_DEV_DIR") or "dev")
    return (folder if folder.is_absolute() else DBT_PROJECT_DIR / folder) / BUILD_NAME


def main() -> int:
    published = get_settings().warehouse
    if not published.exists():
        print(f"nothing published at {published}: run `make run` first", file=sys.stderr)
        return 1
    target = dev_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH '{str(published).replace(chr(39), chr(39) * 2)}' AS published (READ_ONLY)")
        con.execute(f"CREATE SCHEMA {RAW_SCHEMA}")
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'published' "
            "AND schema_name = ?", [RAW_SCHEMA]).fetchall()]
        for t in tables:
            con.execute(f'CREATE TABLE {RAW_SCHEMA}."{t}" AS SELECT * FROM published.{RAW_SCHEMA}."{t}"')
        con.execute("DETACH published")
    finally:
        con.close()
    print(f"dev target ready: {target} (raw schema of {published}); now "
          "`cd dbt_project && ../.venv/bin/dbt build`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
