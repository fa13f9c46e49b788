"""dbt, in-process, through dbt's public programmatic API (`dbtRunner`).

A process gets the parsed project once: from the on-disk cache (orchestration.manifest_cache, the
one dbt internal kept, about a second saved per process) or by dbt parse (partial parsing) against
the `dev` target, whose path never changes, so the partial-parse state stays valid whichever
warehouse a refresh builds; every build then reuses that Manifest (`dbtRunner(manifest=...)`, dbt's documented
way to skip re-parsing) and runs against the `build` target. The scratch file's path reaches dbt in
one place: the `--vars` of `build_args()`, which profiles.yml reads as `var('build_path')`; the
code version that `marts.meta` records travels beside it (`code_version()`).

dbt-duckdb's connection closes when dbt's last handle does (`keep_open: false` in profiles.yml), so
the scratch file carries no .wal and no lock once a build returns."""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .core.project import DBT_PROJECT_DIR, PROJECT_ROOT

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
_ARGS = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--log-level", "none", "--log-level-file", "none"]


class DbtFailed(RuntimeError):
    """dbt could not run (a compile error, a broken project), as opposed to a failing test."""


@functools.cache
def manifest():
    """The parsed Manifest, once per process: from the on-disk cache (orchestration.manifest_cache,
    0.03 s) when the project is unchanged, else dbt parse (partial, dev target, no artefacts)."""
    from dbt.cli.main import dbtRunner

    from . import manifest_cache

    key = manifest_cache.fingerprint()
    cached = manifest_cache.load(key)
    if cached is not None:
        return cached
    result = dbtRunner().invoke(["parse", "--target", "dev", "--no-write-json", *_ARGS])
    if not result.success:
        raise DbtFailed(f"dbt parse failed: {result.exception}")
    manifest_cache.save(key, result.result)
    return result.result


def build_args(build_path: Path) -> list[str]:
    """The target and vars that point dbt at a scratch build (the one place its path is set), and
    the code version marts.meta records."""
    return ["--target", "build", "--vars",
            json.dumps({"build_path": str(build_path), "code_version": code_version()})]


PACKAGE = "kfor-warehouse"


@functools.cache
def code_version(root: Path = PROJECT_ROOT) -> str:
    """What code builds the file: in a git checkout of the project, the full SHA-1 of HEAD, with
    "-dirty" when a tracked file differs from it (as `git describe --dirty`: untracked files do
    not count); anywhere else (an installed package, a copy without .git, no git) the package
    version; "unknown" when neither is known. Computed once per process."""
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


def invoke(args: list[str], build_path: Path, write_json: bool = False):
    """Run a dbt command against a scratch build with the parsed manifest; returns dbt's result
    (its `.result` holds the node results). Raises DbtFailed when dbt itself could not run."""
    from dbt.cli.main import dbtRunner

    # No JSON artefacts by default: only `prepare()` writes target/manifest.json (by rename), so
    # a refresh killed mid-build cannot tear the file the Dagster definitions load. `docs
    # generate` writes its site into a --target-path of its own.
    result = dbtRunner(manifest=manifest()).invoke(
        [*args, *build_args(build_path), *([] if write_json else ["--no-write-json"]), *_ARGS])
    if result.exception is not None:
        raise DbtFailed(f"dbt {args[0]} failed: {result.exception}")
    return result


def prepare() -> Path:
    """target/manifest.json, which the Dagster definitions read at import: dbt parse into a scratch
    target folder, then move the manifest and the partial-parse state in by rename (a kill
    mid-parse cannot leave a torn file). `make setup` runs this once."""
    from dbt.cli.main import dbtRunner

    target = MANIFEST_PATH.parent
    target.mkdir(parents=True, exist_ok=True)
    state = target / "partial_parse.msgpack"
    with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as scratch:
        if state.exists():
            shutil.copyfile(state, Path(scratch) / state.name)
        result = dbtRunner().invoke(["parse", "--target", "dev", "--target-path", scratch, *_ARGS])
        if not result.success:
            raise DbtFailed(f"dbt parse failed: {result.exception}")
        for name in (state.name, MANIFEST_PATH.name):
            if (Path(scratch) / name).exists():
                os.replace(Path(scratch) / name, target / name)
    return MANIFEST_PATH


@functools.cache
def manifest_json() -> dict:
    """target/manifest.json as written by `prepare()` (what the Dagster definitions are built from)."""
    return json.loads(MANIFEST_PATH.read_text())


def manifest_is_whole() -> bool:
    try:
        json.loads(MANIFEST_PATH.read_bytes())
        return True
    except (OSError, ValueError):
        return False


def ensure_manifest() -> Path:
    """target/manifest.json exists and is whole (a fresh checkout, or a torn file)."""
    return MANIFEST_PATH if manifest_is_whole() else prepare()


if __name__ == "__main__":  # `python -m orchestration.dbt_build`: parse once at set-up
    prepare()
    print(f"dbt project parsed: {MANIFEST_PATH.relative_to(DBT_PROJECT_DIR.parent)}")
