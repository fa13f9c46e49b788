"""The project's fixed layout and names: where things live inside the checkout, the live page's
URL and the warehouse's schema names. Nothing here depends on the environment; what a user can
change (warehouse file, raw dir, source URL, webhook, ...) is in orchestration.settings."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
BUNDLED_DIR = PROJECT_ROOT / "raw" / "bundled"
DAGSTER_CONFIG = PROJECT_ROOT / "config" / "dagster.yaml"

LIVE_URL = "https://www.nato.int/cps/en/natohq/topics_48818.htm"
USER_AGENT = "kfor-warehouse/0.1 (+https://github.com/kfor-warehouse; open-source ETL of NATO's Kosovo page)"

RAW_SCHEMA = "raw"
MARTS_SCHEMA = "marts"


def bundled_snapshot() -> Path:
    """The newest snapshot shipped with the project (the offline default and a test fixture)."""
    return sorted(BUNDLED_DIR.glob("*.html"))[-1]
