"""Settings: the one typed object that owns configuration. Read from the environment once per
process (`get()`), then passed down; nothing else reads KFOR_* variables.

    KFOR_SOURCE_URL       page to fetch (http, https, file); default NATO's live page
    KFOR_WAREHOUSE        the published DuckDB file, any path and name; default warehouse/kfor.duckdb
    KFOR_RAW_DIR          the raw archive and fetch log; default raw/
    DAGSTER_HOME          the Dagster instance every refresh is recorded in; default .dagster_home/
    KFOR_ALLOWED_HOSTS    extra hosts a redirect may lead to (comma-separated)
    KFOR_CRON             the schedule (default daily 06:00 UTC)
    KFOR_WEBHOOK_URL      where failed and rejected refreshes are posted (JSON)
    KFOR_KEEP             replaced warehouse files kept for `kfor rollback` (default 5)
    KFOR_FRESHNESS_HOURS  a page not fetched within this window is stale (default 48)
    KFOR_LOCK_WAIT        seconds a scheduled or UI-started run waits for a running refresh (600)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestration.core import project as paths
from orchestration.core.fetch import FetchPolicy

# DuckDB names a file's catalog after its stem and dbt's compiled SQL names that catalog: the
# scratch build always carries this name, whatever the published file is called.
BUILD_NAME = "kfor.duckdb"


@dataclass(frozen=True)
class Settings:
    source_url: str = paths.LIVE_URL
    warehouse: Path = paths.PROJECT_ROOT / "warehouse" / "kfor.duckdb"
    raw_dir: Path = paths.PROJECT_ROOT / "raw"
    dagster_home: Path = paths.PROJECT_ROOT / ".dagster_home"
    allowed_hosts: tuple[str, ...] = ()
    cron: str = "0 6 * * *"
    webhook_url: str | None = None
    keep: int = 5
    freshness_hours: int = 48
    lock_wait: float = 600.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default):
            value = env.get(name, "").strip()
            return value if value else default

        try:
            return cls(
                source_url=get("KFOR_SOURCE_URL", paths.LIVE_URL),
                warehouse=Path(get("KFOR_WAREHOUSE", defaults.warehouse)).absolute(),
                raw_dir=Path(get("KFOR_RAW_DIR", defaults.raw_dir)).absolute(),
                dagster_home=Path(get("DAGSTER_HOME", defaults.dagster_home)).absolute(),
                allowed_hosts=tuple(h.strip().lower() for h in get("KFOR_ALLOWED_HOSTS", "")
                                    .split(",") if h.strip()),
                cron=get("KFOR_CRON", defaults.cron),
                webhook_url=get("KFOR_WEBHOOK_URL", None),
                keep=int(get("KFOR_KEEP", defaults.keep)),
                freshness_hours=int(get("KFOR_FRESHNESS_HOURS", defaults.freshness_hours)),
                lock_wait=float(get("KFOR_LOCK_WAIT", defaults.lock_wait)),
            )
        except ValueError as e:
            raise SystemExit(f"invalid setting: {e}") from None

    @property
    def is_live_default(self) -> bool:
        """The source is NATO's live page (the only source that may fall back to the archive)."""
        return self.source_url == paths.LIVE_URL

    @property
    def build_dir(self) -> Path:
        """Scratch space beside the published file, one folder per published file."""
        return self.warehouse.parent / ".build" / self.warehouse.stem

    @property
    def build_path(self) -> Path:
        """The scratch warehouse a refresh writes, audits and then renames over the published one."""
        return self.build_dir / BUILD_NAME

    @property
    def lock_path(self) -> Path:
        return self.warehouse.with_name(self.warehouse.name + ".lock")

    @property
    def history_dir(self) -> Path:
        return self.warehouse.parent / "history"

    def with_source(self, url: str | None) -> Settings:
        from dataclasses import replace

        return replace(self, source_url=url) if url else self

    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(allowed_hosts=self.allowed_hosts)


@functools.cache
def get() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
