"""The one dbt internal the project keeps, because it pays: the parsed Manifest, cached on disk
between processes. dbt's public API parses in every process (a warm partial parse: about 1.0 s on
the CI machine kind); unpickling the cached Manifest takes about 0.03 s. Every changed refresh and
every replay is a new process, so this saves about a second each (partial parse measured
in-process at 1.0 s; without it refresh_changed_vs_dbt would be ~1.32 instead of 1.22).

Internal because dbt-core 1.11's `Manifest.__reduce_ex__` passes its fields positionally and skips
`fixtures` (which shifts every later field), so the cache stores the dataclass fields by name and
rebuilds the Manifest from them. tests/test_dbt_manifest.py fails if an upgrade breaks this. The
cache is keyed by every project file and dbt's version; anything unreadable means "parse"."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
from pathlib import Path

from .core.project import DBT_PROJECT_DIR

CACHE = DBT_PROJECT_DIR / "target" / "kfor_manifest.pickle"


def fingerprint(project: Path = DBT_PROJECT_DIR) -> str:
    """What a parse depends on: every project file's path and bytes, and dbt's version."""
    from dbt.version import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        if path.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages", "dev") \
                and path.suffix in (".sql", ".yml", ".yaml", ".csv", ".md", ".py"):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load(key: str):
    """The cached Manifest for this fingerprint, or None."""
    from dbt.contracts.graph.manifest import Manifest

    try:
        cached = pickle.loads(CACHE.read_bytes())
        if cached["fingerprint"] == key:
            return Manifest(**cached["fields"])
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, AttributeError, ImportError,
            TypeError, ValueError):
        pass  # no cache, or one written by another dbt
    return None


def save(key: str, manifest) -> None:
    """Write the cache by rename (a kill mid-write leaves the old one or none)."""
    from dbt.contracts.graph.manifest import Manifest

    fields = {f.name: getattr(manifest, f.name) for f in dataclasses.fields(Manifest)
              if f.init and not f.name.startswith("_")}
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps({"fingerprint": key, "fields": fields}, protocol=5))
    os.replace(tmp, CACHE)
