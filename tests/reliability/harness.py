"""What every reliability test checks after a refresh that must not publish: one line on stderr, a
non-zero exit, the published file byte-identical, the fetch log's outcome, nothing half-written in
warehouse/ or raw/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from support.fetch_log import fetches
from support.warehouse import file_sha256

BIN = Path(sys.executable).parent
KFOR = str(BIN / "kfor")


def kfor(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`kfor ARGS` as a user runs it: a real process with the test's environment."""
    return subprocess.run([KFOR, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def start_kfor(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([KFOR, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def log_records(raw_dir: Path) -> list[dict]:
    """The fetch log, one record per fetch; every line must be one JSON object."""
    return fetches(raw_dir)


def leftovers(warehouse_path: Path, raw_dir: Path) -> list[str]:
    """Half-written files: the scratch database and its WAL, a WAL beside the published file, an
    unfinished Parquet export, temporary files of the archive's write-and-rename."""
    from orchestration.core.files import WarehouseFiles

    files = WarehouseFiles(Path(warehouse_path))
    found = []
    if files.build_dir.exists():
        found += [str(p.relative_to(files.folder)) for p in files.build_dir.glob("*")
                  if p.suffix in (".duckdb", ".wal", ".tmp")]
    if (files.folder / (files.name + ".wal")).exists():
        found.append(files.name + ".wal")
    if files.parquet.exists():  # the post-publish Parquet export
        found += [f"parquet/{p.name}" for p in files.parquet.iterdir()
                  if p.name.startswith(".tmp-") or p.name == "current.tmp"]
    if raw_dir.exists():
        found += [str(p.relative_to(raw_dir)) for p in raw_dir.rglob("*")
                  if p.name.endswith(".tmp")]
    return found


def assert_refused(proc: subprocess.CompletedProcess, warehouse_path: Path, raw_dir: Path,
                   published_sha: str | None, outcome_prefix: str, *,
                   exit_code: int = 1) -> dict:
    """The refresh did not publish, said why in one line, and left everything as it was.
    Returns the fetch log's last record."""
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == exit_code, (proc.returncode, proc.stdout, proc.stderr)
    assert len(err) == 1, f"expected one line on stderr, got {len(err)}:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    assert proc.stdout == "", proc.stdout
    if published_sha is None:
        assert not warehouse_path.exists()
    else:
        assert file_sha256(warehouse_path) == published_sha, "the published file changed"
    record = log_records(raw_dir)[-1]
    assert record["outcome"].startswith(outcome_prefix), (record["outcome"], outcome_prefix)
    assert err[0].startswith(record["outcome"][:60]), (err[0], record["outcome"])
    assert not leftovers(warehouse_path, raw_dir), leftovers(warehouse_path, raw_dir)
    return record


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a published warehouse/, raw/ and Dagster instance into a test's own folders."""
    for name in ("warehouse", "raw", "dagster_home"):
        if (dst / name).exists():
            shutil.rmtree(dst / name)
        shutil.copytree(src / name, dst / name, symlinks=True)


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
