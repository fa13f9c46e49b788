"""Settings: the one typed object that owns configuration. Read from the environment and checked
once per process (`get()`), then passed down; nothing else reads KFOR_* variables. A bad value is
refused before anything is fetched or written, by a SettingsError naming the setting.

    KFOR_SOURCE_URL        page to fetch (http, https, file); default NATO's live page
    KFOR_WAREHOUSE         the published DuckDB file, any path and name (default
                           warehouse/kfor.duckdb), or a Postgres database:
                           postgresql://user@host:port/database (password: PGPASSWORD, ~/.pgpass)
    KFOR_RAW_DIR           the raw archive and fetch log; default raw/
    DAGSTER_HOME           the Dagster instance every refresh is shown in; default .dagster_home/
    DAGSTER_PG_URL         keep that instance's runs in Postgres (postgresql://user@host:port/db)
    KFOR_ALLOWED_HOSTS     extra hosts a redirect may lead to (comma-separated)
    KFOR_CHECK_EVERY_HOURS how often the page sensor checks the page under `make dev` (default 24)
    KFOR_WEBHOOK_URL       where failed and rejected refreshes are posted (JSON)
    KFOR_KEEP              replaced warehouse files kept for `kfor rollback` (default 5)
    KFOR_FRESHNESS_HOURS   a page not fetched within this window is stale (default 48)
    KFOR_LOCK_WAIT         seconds a sensor-started run waits for a running refresh (default 600)
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from orchestration.core import layout
from orchestration.core.engine import (
    LIBPQ_VARIABLES,
    DuckDBEngine,
    Engine,
    PostgresEngine,
    local_name,
)
from orchestration.core.fetch import FetchPolicy
from orchestration.core.files import WarehouseFiles, derived_name_problem
from orchestration.core.pg_warehouse import SCHEMES, PostgresUrlError, PostgresWarehouse
from orchestration.core.redact import redact_url

DEFAULT_WAREHOUSE = layout.PROJECT_ROOT / "warehouse" / "kfor.duckdb"


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says why, on one line."""


@dataclass(frozen=True)
class Settings:
    source_url: str = layout.LIVE_URL
    # the DuckDB file; for a Postgres warehouse, the name its local files derive from (local_name)
    warehouse: Path = DEFAULT_WAREHOUSE
    postgres: PostgresWarehouse | None = None  # KFOR_WAREHOUSE as a postgresql:// URL
    raw_dir: Path = layout.PROJECT_ROOT / "raw"
    dagster_home: Path = layout.PROJECT_ROOT / ".dagster_home"
    # its password only here or in ~/.pgpass: never written, and not in this object's repr
    dagster_pg_url: str | None = field(default=None, repr=False)
    allowed_hosts: tuple[str, ...] = ()
    check_every_hours: float = 24.0
    webhook_url: str | None = None
    keep: int = 5
    freshness_hours: float = 48.0
    lock_wait: float = 600.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()

        def get(name: str, default):
            value = env.get(name, "").strip()
            return value if value else default

        postgres = postgres_url(get("KFOR_WAREHOUSE", ""))
        raw_dir = real_path(get("KFOR_RAW_DIR", d.raw_dir), "KFOR_RAW_DIR")
        settings = cls(
            source_url=get("KFOR_SOURCE_URL", layout.LIVE_URL),
            # a server's warehouse keeps its few local files beside the raw folder it owns
            warehouse=local_name(postgres, raw_dir.parent) if postgres else
            real_path(get("KFOR_WAREHOUSE", d.warehouse), "KFOR_WAREHOUSE"),
            postgres=postgres,
            raw_dir=raw_dir,
            dagster_home=real_path(get("DAGSTER_HOME", d.dagster_home), "DAGSTER_HOME"),
            dagster_pg_url=get("DAGSTER_PG_URL", None),
            allowed_hosts=tuple(h.strip().lower() for h in get("KFOR_ALLOWED_HOSTS", "")
                                .split(",") if h.strip()),
            check_every_hours=number("KFOR_CHECK_EVERY_HOURS",
                                     get("KFOR_CHECK_EVERY_HOURS", d.check_every_hours),
                                     low=0.1, high=24 * 31),
            webhook_url=get("KFOR_WEBHOOK_URL", None),
            keep=int(number("KFOR_KEEP", get("KFOR_KEEP", d.keep), low=0, high=1000,
                            whole=True)),
            freshness_hours=number("KFOR_FRESHNESS_HOURS",
                                   get("KFOR_FRESHNESS_HOURS", d.freshness_hours),
                                   low=0.1, high=24 * 366),
            lock_wait=seconds("KFOR_LOCK_WAIT", get("KFOR_LOCK_WAIT", d.lock_wait)),
        )
        settings.check()
        return settings

    # -- checks -----------------------------------------------------------------------------------

    def check(self) -> None:
        """Refuse settings that would damage a warehouse, an archive or an instance, before
        anything is fetched or written."""
        if self.webhook_url and not self.webhook_url.lower().startswith(("http://", "https://")):
            raise SettingsError("KFOR_WEBHOOK_URL must be an http:// or https:// URL")
        if self.dagster_pg_url and not self.dagster_pg_url.startswith(("postgresql://",
                                                                       "postgresql+psycopg2://")):
            raise SettingsError("DAGSTER_PG_URL must be a postgresql://user@host:port/database URL "
                                "(its value is not repeated: it may hold a password)")
        warehouse = self.warehouse
        if warehouse.is_dir():
            raise SettingsError(f"KFOR_WAREHOUSE={warehouse} is a directory; give the path of "
                                f"the warehouse file, e.g. {warehouse / 'kfor.duckdb'}")
        problem = derived_name_problem(warehouse)
        if problem:
            raise SettingsError(f"KFOR_WAREHOUSE={warehouse} cannot be a warehouse: {problem}")
        for name, path in (("KFOR_WAREHOUSE", warehouse), ("KFOR_RAW_DIR", self.raw_dir),
                           ("DAGSTER_HOME", self.dagster_home)):
            inside = next((p for p in path.parents if derived_folder(p)), None)
            if inside is not None:  # its recovery, pruning or export cleaning would delete it
                raise SettingsError(f"{name}={path} is inside {inside}, a folder another "
                                    "warehouse owns; give it a place of its own")
        for name, path in (("KFOR_RAW_DIR", self.raw_dir), ("DAGSTER_HOME", self.dagster_home)):
            if path.exists() and not path.is_dir():
                raise SettingsError(f"{name}={path} is a file; it must be a folder (or not exist "
                                    "yet)")
        for parent in warehouse.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise SettingsError(f"KFOR_WAREHOUSE={warehouse}: {parent} is a file, not a "
                                        "folder")
                break
        owned = {"KFOR_WAREHOUSE": self.files.owned(), "KFOR_RAW_DIR": [self.raw_dir],
                 "DAGSTER_HOME": [self.dagster_home]}
        names = list(owned)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                for pa in owned[a]:
                    for pb in owned[b]:
                        if pa == pb or pb in pa.parents or pa in pb.parents:
                            raise SettingsError(
                                f"{a} and {b} overlap ({pa} and {pb}): each owns its own "
                                "files; give them places that do not contain each other")

    # -- derived ----------------------------------------------------------------------------------

    @property
    def files(self) -> WarehouseFiles:
        """Every file this warehouse writes on this host (orchestration.core.files)."""
        return WarehouseFiles(self.warehouse)

    @property
    def engine(self) -> Engine:
        """The published warehouse's owner (orchestration.core.engine)."""
        if self.postgres is not None:
            return PostgresEngine(self.postgres, self.files)
        return DuckDBEngine(self.files)

    @property
    def warehouse_name(self) -> str:
        """How messages, run tags, alerts and the raw folder name this warehouse: the file's
        path, or the server's URL without user or password."""
        return self.engine.name

    @property
    def raw_owner(self) -> Path | str:
        """How the raw folder's owner file names this warehouse (Archive.claim): the file's
        path, or the server's URL as shown."""
        return self.postgres.display if self.postgres else self.warehouse

    @property
    def is_live_default(self) -> bool:
        """The source is NATO's live page (the only source that may fall back to the archive)."""
        return self.source_url == layout.LIVE_URL

    def with_source(self, url: str | None) -> Settings:
        """These settings with `--source` (None: not given); an empty one is a mistake, never
        the default page."""
        if url is None:
            return self
        if not url.strip():
            raise SettingsError("--source is empty; give a page URL, or leave --source out for "
                                "KFOR_SOURCE_URL or the live page")
        return replace(self, source_url=url)

    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(allowed_hosts=self.allowed_hosts)


def derived_folder(path: Path) -> bool:
    """A folder some warehouse derives from its own name (its scratch build, kept versions,
    exports), which that warehouse may clean, prune or delete at any time."""
    name = path.name
    return (name.startswith(".") and name.endswith(".build")) or name.endswith(
        (".history", ".exports"))


def postgres_url(value: str) -> PostgresWarehouse | None:
    """KFOR_WAREHOUSE as a Postgres database, or None when it is not a postgresql:// URL."""
    if not value.lower().startswith(SCHEMES):
        return None
    try:
        server = PostgresWarehouse.from_url(value)
    except PostgresUrlError as e:
        raise SettingsError(f"KFOR_WAREHOUSE={e}") from None
    unknown = sorted({k for k, _ in parse_qsl(urlsplit(value).query)} - set(LIBPQ_VARIABLES))
    if unknown:  # dbt could not be handed them: refused rather than half applied
        raise SettingsError(f"KFOR_WAREHOUSE={server.display}: the parameter {unknown[0]} is not "
                            f"one of {', '.join(LIBPQ_VARIABLES)}; set libpq's own PG* variable")
    return server


def real_path(value, name: str) -> Path:
    """An absolute path with `~` expanded and symlinks resolved: a symlinked warehouse is followed
    (published at its target, atomically), and two spellings of one place are one place."""
    text = str(value)
    if "://" in text:  # named without its password or secret parameters, as every URL is
        raise SettingsError(f"{name}={redact_url(text)} looks like a URL; {name} takes a file "
                            "system path" + (" or a postgresql://user@host:port/database URL"
                                             if name == "KFOR_WAREHOUSE" else ""))
    if re.search(r"password=|^[^/]*:[^/]*@", text):  # libpq's key=value, or user:pw@host
        raise SettingsError(f"{name} looks like a database connection string, not a file system "
                            "path (its value is not repeated: it may hold a password)")
    if "\0" in text:
        raise SettingsError(f"{name} holds a NUL character")
    return Path(os.path.realpath(Path(text).expanduser()))


def number(name: str, value, low: float, high: float, whole: bool = False) -> float:
    """A finite number in [low, high] (a whole one when `whole`), or a SettingsError naming it."""
    kind = "a whole number" if whole else "a number"
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name}={value!r} is not {kind} (from {low:g} to {high:g})") from None
    if not math.isfinite(parsed) or not low <= parsed <= high or (whole and parsed != int(parsed)):
        raise SettingsError(f"{name}={value!r} must be {kind} from {low:g} to {high:g}")
    return parsed


MAX_WAIT = 24 * 3600.0  # longer than any refresh; a bigger wait is a typo, not a plan


def seconds(name: str, value) -> float:
    """A wait in seconds: finite, not negative, at most a day."""
    return number(name, value, low=0, high=MAX_WAIT)


@functools.cache
def get() -> Settings:
    """The process's settings, read and checked on first use."""
    return Settings.from_env()
