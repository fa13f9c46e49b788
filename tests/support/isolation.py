"""Point a test (or a module-scoped fixture) at a warehouse, raw archive and Dagster instance of
its own, and make the process read its settings afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.core import settings


def isolate(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setenv("KFOR_WAREHOUSE", str(root / "warehouse" / "kfor.duckdb"))
    mp.setenv("KFOR_RAW_DIR", str(root / "raw"))
    mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    for name in ("KFOR_SOURCE_URL", "KFOR_WEBHOOK_URL", "KFOR_ALLOWED_HOSTS", "KFOR_KEEP",
                 "KFOR_CHECK_EVERY_HOURS", "KFOR_FRESHNESS_HOURS", "KFOR_LOCK_WAIT",
                 "KFOR_BUILD_PATH", "KFOR_SCHEMA_PREFIX", "DAGSTER_PG_URL"):
        mp.delenv(name, raising=False)
    settings.get.cache_clear()
