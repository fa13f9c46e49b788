"""The one place for the project's paths, URLs and names. Environment variables are read when a
function is called, never at import, so tests can point them at temporary places."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
BUNDLED_DIR = PROJECT_ROOT / "raw" / "bundled"

LIVE_URL = "https://www.nato.int/cps/en/natohq/topics_48818.htm"
USER_AGENT = "kfor-warehouse/0.1 (+https://github.com/kfor-warehouse; open-source ETL of NATO's Kosovo page)"

RAW_SCHEMA = "raw"
MARTS_SCHEMA = "marts"


def source_url() -> str:
    return os.environ.get("KFOR_SOURCE_URL") or LIVE_URL


def warehouse_path() -> Path:
    return Path(os.environ.get("KFOR_WAREHOUSE") or PROJECT_ROOT / "warehouse" / "kfor.duckdb")


def raw_dir() -> Path:
    return Path(os.environ.get("KFOR_RAW_DIR") or PROJECT_ROOT / "raw")


def bundled_snapshot() -> Path:
    """The newest snapshot shipped with the project (the offline default and a test fixture)."""
    return sorted(BUNDLED_DIR.glob("*.html"))[-1]


def allowed_hosts() -> tuple[str, ...]:
    """Extra hosts a redirect may lead to (comma-separated KFOR_ALLOWED_HOSTS)."""
    return tuple(h.strip() for h in os.environ.get("KFOR_ALLOWED_HOSTS", "").split(",") if h.strip())


def cron_schedule() -> str:
    return os.environ.get("KFOR_CRON", "0 6 * * *")


def webhook_url() -> str | None:
    return os.environ.get("KFOR_WEBHOOK_URL") or None


def keep_published() -> int:
    return int(os.environ.get("KFOR_KEEP", "5"))


def freshness_hours() -> int:
    """A page not fetched successfully within this window is stale (default 2 days)."""
    return int(os.environ.get("KFOR_FRESHNESS_HOURS", "48"))
