"""dbt, in-process: one parse per process (partial parsing keeps it cheap), builds that reuse the
parsed manifest, and DuckDB handles closed after every invocation (dbt-duckdb keeps its connection
open, which would hold a lock on the scratch file and leave a .wal behind)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
from pathlib import Path

from .paths import DBT_PROJECT_DIR
from .publish import build_path

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
MANIFEST_CACHE = DBT_PROJECT_DIR / "target" / "kfor_manifest.pickle"
_ARGS = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--log-level", "none", "--log-level-file", "none"]


class DbtFailed(RuntimeError):
    """dbt could not run (a compile error, a broken project), as opposed to a failing test."""


def point_at_build(published: Path | None = None) -> Path:
    """dbt's profile reads the scratch file's path from KFOR_BUILD_DB."""
    path = build_path(published)
    os.environ["KFOR_BUILD_DB"] = str(path)
    return path


@functools.cache
def manifest():
    """The parsed Manifest, once per process. A refresh process loads it from target/ (pickled
    after the last parse, 30 ms) when the project's files are unchanged; otherwise dbt parses
    (partial parsing, seconds) and the cache is rewritten. Parsing also writes
    target/manifest.json, which the Dagster definitions read at import; both files are replaced
    by rename, so a kill mid-parse cannot leave them torn."""
    from dbt.contracts.graph.manifest import Manifest

    key = fingerprint()
    try:
        cached = pickle.loads(MANIFEST_CACHE.read_bytes())
        if cached["fingerprint"] == key and _loads(MANIFEST_PATH):
            return Manifest(**cached["fields"])
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, AttributeError, ImportError,
            TypeError):
        pass  # no cache, or one written by another dbt: parse
    result = _parse()
    tmp = MANIFEST_CACHE.with_suffix(f".{os.getpid()}.tmp")
    # By field name: Manifest.__reduce_ex__ in dbt-core 1.11 passes its fields positionally and
    # skips `fixtures`, which shifts every later field. The lookup caches rebuild lazily.
    fields = {f.name: getattr(result.result, f.name) for f in dataclasses.fields(Manifest)
              if f.init and not f.name.startswith("_")}
    tmp.write_bytes(pickle.dumps({"fingerprint": key, "fields": fields}, protocol=5))
    os.replace(tmp, MANIFEST_CACHE)
    return result.result


def _parse():
    """dbt parse into a scratch target folder (seeded with the partial-parse state), then move
    manifest.json and the partial-parse state into target/ by rename."""
    import shutil
    import tempfile

    from dbt.cli.main import dbtRunner

    target = MANIFEST_PATH.parent
    target.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KFOR_BUILD_DB", str(build_path()))
    with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as scratch:
        state = target / "partial_parse.msgpack"
        if state.exists():
            shutil.copyfile(state, Path(scratch) / state.name)
        result = dbtRunner().invoke(["parse", "--target-path", scratch, *_ARGS])
        close_connections()
        if not result.success:
            raise DbtFailed(f"dbt parse failed: {result.exception}")
        for name in (state.name, MANIFEST_PATH.name):
            if (Path(scratch) / name).exists():
                os.replace(Path(scratch) / name, target / name)
    return result


def _loads(path: Path) -> bool:
    """The file is whole JSON (a torn manifest.json would break the Dagster definitions)."""
    import json

    try:
        json.loads(path.read_bytes())
        return True
    except (OSError, ValueError):
        return False


def fingerprint() -> str:
    """What the parsed manifest depends on: every project file's path and bytes, and dbt's
    version."""
    from dbt.version import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        rel = path.relative_to(DBT_PROJECT_DIR)
        if path.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages") \
                and path.suffix in (".sql", ".yml", ".yaml", ".csv", ".md", ".py"):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_manifest() -> Path:
    """target/manifest.json exists, is whole and matches the project (set-up parses once; this
    covers a fresh checkout, edited models and a torn file)."""
    manifest()
    return MANIFEST_PATH


def invoke(args: list[str]):
    """Run a dbt command in-process with the parsed manifest; returns dbt's result object."""
    from dbt.cli.main import dbtRunner

    try:
        # No JSON artefacts: only the parse writes target/manifest.json (atomically), so a run
        # killed mid-write cannot tear the file the Dagster definitions load. `docs generate`
        # writes its site into its own --target-path.
        quiet = [] if args[0] == "docs" or "--no-write-json" in args else ["--no-write-json"]
        result = dbtRunner(manifest=manifest()).invoke([*args, *quiet, *_ARGS])
    finally:
        close_connections()
    if result.exception is not None:
        raise DbtFailed(f"dbt {args[0]} failed: {result.exception}")
    return result


def close_connections() -> None:
    """Close dbt-duckdb's process-wide DuckDB connection (reset_adapters does not)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager._ENV = None


if __name__ == "__main__":  # `python -m orchestration.dbt_build`: parse once at set-up
    manifest()
    print(f"dbt project parsed: {MANIFEST_PATH.relative_to(DBT_PROJECT_DIR.parent)}")
