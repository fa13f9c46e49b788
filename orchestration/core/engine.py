"""The published warehouse, on whichever engine holds it: the one owner of its publication.

KFOR_WAREHOUSE names a DuckDB file (DuckDBEngine: a scratch file renamed over the published one,
core/publish.py) or a database on a Postgres server (PostgresEngine: scratch schemas swapped for
the published ones in one transaction, core/pg_warehouse.py). Everything above this module (the
session, recovery, the run's steps, the drivers) asks its engine; only the steps one engine alone
has (a DuckDB file's exports and plots, its old history layout; `kfor sql`'s shell) look at
`kind`:

    name              how messages, run tags, alerts and the raw folder's owner file name it
    lock(wait)        the refresh lock: a flock beside the file, or an advisory lock on the server
    read_meta()       marts.meta of the published version (None: nothing published yet)
    building(empty)   a connection to the scratch build's raw tables (raw_tables writes them)
    publish(keep)     the audited build becomes the published version, whole; the replaced one kept
    kept()            the kept versions, oldest first (file paths, or stamps of kept_* schemas);
                      publish_kept(kept) publishes one again the same way (`kfor rollback`)
    dbt_environment() what dbt (a child process) needs to build the scratch build

Each engine also keeps a few local files (`files`, core/files.py): for a DuckDB warehouse all of
them; for a Postgres one only dbt's target folder (artifacts, logs, partial parse), in a folder
named after the server and database, beside the raw folder (local_name)."""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from orchestration.core import lock, pg_lock, publish
from orchestration.core import pg_warehouse as pg
from orchestration.core.files import WarehouseFiles, unwritable
from orchestration.core.layout import RAW_SCHEMA

BUILD_PATH_VARIABLE = "KFOR_BUILD_PATH"  # profiles.yml: the DuckDB scratch file dbt builds
# libpq parameters a warehouse URL may carry, and the variables that hand them to dbt's libpq
LIBPQ_VARIABLES = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                   "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
                   "options": "PGOPTIONS", "target_session_attrs": "PGTARGETSESSIONATTRS"}
SCHEMA_PREFIX_VARIABLE = "KFOR_SCHEMA_PREFIX"  # generate_schema_name: build_ on Postgres
BLIND_SWAP = ("this role cannot see other roles' transactions (GRANT pg_read_all_stats TO it): "
              "the swap cannot wait for a REPEATABLE READ reader of another role, which would "
              "read the new tables empty")


@dataclass(frozen=True)
class DuckDBEngine:
    """A DuckDB file: every path from its own name (core/files.py)."""

    files: WarehouseFiles
    kind = "duckdb"
    dbt_target = "dev"  # profiles.yml's DuckDB output

    @property
    def name(self) -> str:
        return str(self.files.published)

    def lock(self, wait: float = 0.0) -> AbstractContextManager[bool]:
        return lock.refresh_lock(self.files.lock, wait=wait)

    def is_free(self) -> bool:
        return lock.is_free(self.files.lock)

    def require_writable(self) -> None:
        self.files.require_writable()

    def read_meta(self) -> dict | None:
        """UnreadableWarehouse for a damaged file, WarehouseLocked for one held by a writer."""
        return publish.read_meta(self.files.published)

    def published_meta(self) -> dict | None:
        """marts.meta, or None when nothing is published or the file cannot be read (a refresh
        then rebuilds it from the archive)."""
        return publish.published_meta(self.files.published)

    def mart_counts(self) -> dict[str, int]:
        return publish.mart_counts(self.files.published)

    def build_counts(self) -> dict[str, int]:
        return publish.mart_counts(self.files.build)

    def logged_fetches(self) -> list[dict]:
        return publish.logged_fetches(self.files.published)

    def unusable(self) -> str | None:
        """Why the published version cannot be the start of a build, or None."""
        published = self.files.published
        if not published.exists():
            return f"there is no published file at {published}"
        problem = publish.warehouse_problem(published, thorough=True)
        return f"the published file {published} is not a readable warehouse ({problem})" \
            if problem else None

    @contextmanager
    def building(self, empty: bool = False) -> Iterator:
        """A fresh scratch copy of the published file (empty: a new one), open for the raw load."""
        import duckdb

        con = duckdb.connect(str(publish.start_build(self.files, empty=empty)))
        try:
            yield con
        finally:
            con.close()

    def discard_build(self) -> None:
        publish.discard_build(self.files)

    def publish(self, keep: int, say: Callable[[str], None] | None = None) -> str | None:
        """Seal the build and rename it over the published file; returns where the replaced file
        is kept."""
        publish.seal(self.files.build)
        kept = publish.publish(self.files, self.files.build, keep)
        return str(kept) if kept else None

    def kept(self) -> list[str]:
        return [str(p) for p in self.files.kept()]

    def find_kept(self, to: str) -> str | None:
        """`--to`: a kept file by its path or its name."""
        candidate = Path(to)
        if candidate.resolve().parent != self.files.history.resolve() \
                and (candidate.is_absolute() or len(candidate.parts) != 1):
            return None
        return next((k for k in self.kept() if Path(k).name == candidate.name), None)

    def kept_problem(self, kept: str) -> str | None:
        return publish.warehouse_problem(Path(kept), thorough=True)

    def kept_meta(self, kept: str) -> dict | None:
        return publish.read_meta(Path(kept))

    def kept_fetches(self, kept: str) -> list[dict]:
        return publish.logged_fetches(Path(kept))

    def publish_kept(self, kept: str, keep: int) -> str | None:
        """The same atomic rename (publish.publish_kept); returns where the replaced file is kept."""
        replaced = publish.publish_kept(self.files, Path(kept), keep)
        return str(replaced) if replaced else None

    def kept_where(self) -> str:
        return str(self.files.history)

    def kept_uri(self, kept: str) -> str:
        """A kept version as a rollback's fetch record names it."""
        return Path(kept).as_uri()

    def dbt_environment(self) -> dict[str, str]:
        return {BUILD_PATH_VARIABLE: str(self.files.build)}

    def layout(self) -> dict[str, str]:
        return {what: str(path) for what, path in self.files.layout().items()}


@dataclass(frozen=True)
class PostgresEngine:
    """A database on a Postgres server (pg_warehouse.PostgresWarehouse, its URL without a
    password). `files`: this warehouse's local files on the refresh host (dbt's target folder)."""

    server: pg.PostgresWarehouse
    files: WarehouseFiles
    kind = "postgres"
    dbt_target = "postgres"  # profiles.yml's Postgres output

    @property
    def name(self) -> str:
        return self.server.display

    def lock(self, wait: float = 0.0) -> AbstractContextManager[bool]:
        return pg_lock.refresh_lock(self.server, wait=wait)

    def is_free(self) -> bool:
        return pg_lock.is_free(self.server)

    def require_writable(self) -> None:
        problem = unwritable(self.files.build_dir)
        if problem:
            raise PermissionError(f"{problem}: a refresh of {self.name} keeps dbt's target folder "
                                  f"there ({self.files.dbt_target}); nothing was fetched or "
                                  "written")

    def read_meta(self) -> dict | None:
        """ConnectionError (one redacted line) when the server cannot be reached."""
        return pg.read_meta(self.server)

    # A server that cannot be read is an error, never "nothing published": a refresh must not
    # rebuild over a warehouse it merely failed to reach.
    published_meta = read_meta

    def mart_counts(self) -> dict[str, int]:
        return pg.mart_counts(self.server)

    def build_counts(self) -> dict[str, int]:
        return pg.mart_counts(self.server, schema=pg.build_name("marts"))

    def logged_fetches(self) -> list[dict]:
        return pg.logged_fetches(self.server)

    def unusable(self) -> str | None:
        return None if self.read_meta() else f"nothing is published at {self.name} yet"

    @contextmanager
    def building(self, empty: bool = False) -> Iterator:
        """Fresh build schemas (the published raw tables and snapshots copied in, unless
        `empty`), and a connection writing the raw tables into build_raw."""
        from orchestration.core.raw_tables import PostgresConnection

        pg.start_build(self.server, empty=empty)
        con = self.server.connect("build")
        try:
            yield PostgresConnection(con, schema=pg.build_name(RAW_SCHEMA))
        finally:
            con.close()

    def discard_build(self) -> None:
        """Best effort: a server that went down or dropped the connection keeps the build schemas
        until the next refresh, whose recovery and start_build drop them."""
        import psycopg2

        with suppress(ConnectionError, psycopg2.OperationalError):
            pg.discard_build(self.server)

    def publish(self, keep: int, say: Callable[[str], None] | None = None) -> str | None:
        """Swap the build schemas in, in one transaction, while this process still holds the
        refresh lock; returns the kept version's stamp."""
        reader = pg.READER_ROLE if pg.role_exists(self.server) else None  # kfor grant-reader
        if say and not pg.sees_other_sessions(self.server):
            say(BLIND_SWAP)
        return pg.publish(self.server, keep, say=say, guard=pg_lock.lock_guard(self.server),
                          reader=reader)

    def kept(self) -> list[str]:
        return pg.kept_versions(self.server)

    def find_kept(self, to: str) -> str | None:
        """`--to`: a kept version by its stamp (or a name of one of its schemas)."""
        match = re.match(r"^(?:kept_)?(\d{8}_\d{12})(?:_\w+)?$", to)
        return match.group(1) if match and match.group(1) in self.kept() else None

    def kept_problem(self, kept: str) -> str | None:
        return None if pg.read_meta(self.server, kept) else f"kept version {kept} has no marts.meta"

    def kept_meta(self, kept: str) -> dict | None:
        return pg.read_meta(self.server, kept)

    def kept_fetches(self, kept: str) -> list[dict]:
        return pg.logged_fetches(self.server, kept)

    def publish_kept(self, kept: str, keep: int) -> str | None:
        """The same swap as a publish (pg_warehouse.rollback); returns the replaced version's
        stamp."""
        reader = pg.READER_ROLE if pg.role_exists(self.server) else None
        return pg.rollback(self.server, kept, keep, guard=pg_lock.lock_guard(self.server),
                           reader=reader)

    def kept_where(self) -> str:
        return f"the {pg.KEPT_PREFIX}<stamp>_* schemas of {self.name}"

    def kept_uri(self, kept: str) -> str:
        return f"{self.name}#{pg.KEPT_PREFIX}{kept}"

    def dbt_environment(self) -> dict[str, str]:
        """libpq's variables for profiles.yml's postgres output (the password stays where libpq
        finds it: PGPASSWORD or ~/.pgpass), and the build schemas' prefix."""
        parts = urlsplit(self.server.url)
        return {"PGHOST": parts.hostname or "", "PGPORT": str(parts.port or 5432),
                "PGUSER": unquote(parts.username) if parts.username else getpass.getuser(),
                "PGDATABASE": self.server.database,
                **{LIBPQ_VARIABLES[k]: v for k, v in parse_qsl(parts.query)},
                SCHEMA_PREFIX_VARIABLE: pg.BUILD_PREFIX}

    def layout(self) -> dict[str, str]:
        return {"published": f"{self.name} (schemas {', '.join(pg.PUBLISHED)})",
                "lock": f"advisory lock on {self.name}",
                "scratch build": f"schemas {', '.join(map(pg.build_name, pg.PUBLISHED))}",
                "kept versions": f"schemas {pg.KEPT_PREFIX}<UTC time>_<schema>",
                "dbt target": str(self.files.dbt_target)}


Engine = DuckDBEngine | PostgresEngine


def local_name(server: pg.PostgresWarehouse, folder: Path) -> Path:
    """Where a Postgres warehouse's local files are named from: `<host>_<port>_<database>.postgres`
    in `folder` (the raw folder's parent: the refresh host's place for this warehouse), so two
    servers or databases never share them. Only its scratch folder is made
    (`.<that name>.build/dbt`, dbt's target)."""
    parts = urlsplit(server.url)
    slug = "_".join(str(p) for p in (parts.hostname, parts.port or 5432, server.database))
    return folder / (''.join(c if c.isalnum() or c in "-." else "_" for c in slug) + ".postgres")
