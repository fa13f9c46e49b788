"""The project's fixed layout and names: where things live inside the checkout, the live page's
URL and the warehouse's schema names. Nothing here depends on the environment; what a user can
change (warehouse file, raw dir, source URL, webhook, ...) is in orchestration.core.settings."""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
BUNDLED_DIR = PROJECT_ROOT / "raw" / "bundled"
DAGSTER_CONFIG = PROJECT_ROOT / "config" / "dagster.yaml"

LIVE_URL = "https://www.nato.int/cps/en/natohq/topics_48818.htm"
USER_AGENT = "kfor-warehouse/0.1 (+https://github.com/kfor-warehouse; open-source ETL of NATO's Kosovo page)"

# The pid of the process that starts dbt (the run's step), for kfor-dbt to die with it.
DBT_PARENT_VARIABLE = "KFOR_DBT_PARENT"

RAW_SCHEMA = "raw"
MARTS_SCHEMA = "marts"
PACKAGE = "kfor-warehouse"


def bundled_snapshot() -> Path:
    """The newest snapshot shipped with the project (the offline default and a test fixture)."""
    return sorted(BUNDLED_DIR.glob("*.html"))[-1]


@functools.cache
def code_version(root: Path = PROJECT_ROOT) -> str:
    """What code builds the file (marts.meta.code_version): in a git checkout of the project, the
    full SHA-1 of HEAD, with "-dirty" when a tracked file differs from it (as `git describe
    --dirty`: untracked files do not count); anywhere else (an installed package, a copy without
    .git, no git) the package version; "unknown" when neither is known. Once per process."""
    return _git_commit(root) or _package_version() or "unknown"


def _git_commit(root: Path) -> str | None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "--no-optional-locks", "-C", str(root), *args],
                              capture_output=True, text=True, check=True, timeout=10).stdout.strip()

    try:
        # The project's own checkout only, never a repository that happens to contain the copy.
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root.resolve():
            return None
        commit = git("rev-parse", "--verify", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def _package_version() -> str | None:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
