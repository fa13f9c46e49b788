"""dbt macros rendered with plain Jinja, as dbt renders them for DuckDB: a test that runs one
macro's SQL on an in-memory DuckDB without starting dbt (milliseconds, not seconds). Only what
the rendered macros use is provided: `adapter.dispatch` (to the `duckdb__` macro of the same
files, as dbt-duckdb dispatches) and dbt's `return`."""

from __future__ import annotations

import jinja2

from orchestration.core.layout import DBT_PROJECT_DIR

MACROS = DBT_PROJECT_DIR / "macros"


def duckdb_macros(*files: str):
    """The macros of `files` (names under dbt_project/macros/; adapter_sql.sql is always read) as
    a Jinja module whose attributes are the macros."""
    names = ["adapter_sql.sql", *(f for f in files if f != "adapter_sql.sql")]
    source = "\n".join((MACROS / name).read_text(encoding="utf-8") for name in names)
    module = {}

    class Adapter:
        @staticmethod
        def dispatch(name: str):
            return getattr(module["macros"], f"duckdb__{name}")

    env = jinja2.Environment()
    env.globals.update({"adapter": Adapter(), "return": lambda value: value})
    module["macros"] = env.from_string(source).module
    return module["macros"]
