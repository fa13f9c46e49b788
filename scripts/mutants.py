"""`make mutants`: every regression kept in tests/mutants/ must turn the non-slow suite red.

Each tests/mutants/<layer>__<name>.patch is a small, plausible regression (a unified diff that
`git apply` applies from the repository root), after comment lines starting with "# " that say
what it breaks and which test catches it ("# caught by: tests/...::test_name", one or more).

For each patch: a throwaway copy of the checkout (its tracked files as they are in the working
tree, modified ones included, plus untracked files git does not ignore, and dbt's parsed
manifest so an unchanged dbt project is not parsed again), the patch applied there, and pytest
run in the copy with PYTHONPATH pointing at it, so `orchestration` (and every `kfor` process a
test starts) is the mutated copy, never the checkout (checked before the first run). The tests a
patch names run first (`pytest -x -q -p no:randomly <tests>`, non-slow only, as `make test`); when
none of them fails, the whole non-slow suite runs. A table follows: mutant, caught (yes/no), by
which test, seconds. Exits 1 when any mutant survives (or does not apply), 0 otherwise.

    python scripts/mutants.py                      every mutant
    python scripts/mutants.py tests/mutants/redact__*.patch
    python scripts/mutants.py --full               skip the named tests: the whole suite for each
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "tests" / "mutants"
# dbt's parse, kept out of git: copied so that a mutant of Python code does not re-parse dbt
PARSED = ("manifest.json", "partial_parse.msgpack", "kfor_manifest.pickle")
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


@dataclass
class Result:
    patch: Path
    caught: bool | None  # None: the patch does not apply, or the copy is not what runs
    by: str
    seconds: float


def checkout_files() -> list[str]:
    """Tracked files (as in the working tree) and untracked files git does not ignore."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return sorted({f for f in out.decode().split("\0") if f and (ROOT / f).is_file()})


def make_copy(dest: Path) -> None:
    for rel in checkout_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    # the checkout's environment, as `.venv/bin/...` in the README's commands expects it (the
    # copy's own code is what imports: PYTHONPATH, checked by resolves_to_copy)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    for name in PARSED:
        source = ROOT / "dbt_project" / "target" / name
        if source.exists():
            (dest / "dbt_project" / "target").mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / "dbt_project" / "target" / name)


def env_for(copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAGSTER_HOME")}
    env.update(PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    return env


def resolves_to_copy(copy: Path) -> str | None:
    """None when `orchestration` (and the `kfor` entry point's module) import from the copy;
    else where they import from."""
    bin_dir = Path(sys.executable).parent
    probe = ("import orchestration, orchestration.drivers.cli, os; "
             "print(os.path.realpath(orchestration.drivers.cli.__file__))")
    out = subprocess.run([str(bin_dir / "python"), "-c", probe], cwd=copy, env=env_for(copy),
                         capture_output=True, text=True)
    where = out.stdout.strip()
    if out.returncode != 0 or not where.startswith(os.path.realpath(copy) + os.sep):
        return where or out.stderr.strip()[-300:]
    kfor = bin_dir / "kfor"
    if kfor.exists() and not kfor.read_text(errors="replace").startswith(f"#!{bin_dir}"):
        return f"{kfor} runs another interpreter"
    return None


def named_tests(patch: Path) -> list[str]:
    """The node ids a patch's header says catch it."""
    tests = []
    for line in patch.read_text(encoding="utf-8").splitlines():
        if line.startswith("diff --git"):
            break
        # "# caught by: <id>" or "# Caught by:" with the ids on the comment lines that follow
        tests += [t.rstrip(",") for t in re.findall(r"tests/\S+\.py::\S+", line)]
    return tests


def pytest(copy: Path, args: list[str]) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", *args]
    out = subprocess.run(cmd, cwd=copy, env=env_for(copy), capture_output=True, text=True)
    return out.returncode, out.stdout + out.stderr


def first_failure(output: str) -> str:
    m = _FAILED.search(output)
    return m.group(1) if m else "(pytest failed without naming a test)"


def run_one(patch: Path, full: bool, keep: bool) -> Result:
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f"mutant-{patch.stem}-"))
    try:
        copy = tmp / "checkout"
        make_copy(copy)
        applied = subprocess.run(["git", "apply", str(patch.resolve())], cwd=copy,
                                 capture_output=True, text=True)
        if applied.returncode != 0:
            why = " ".join(applied.stderr.split())[:200]
            return Result(patch, None, f"does not apply: {why}",
                          time.monotonic() - started)
        elsewhere = resolves_to_copy(copy)
        if elsewhere:
            return Result(patch, None, f"the copy is not what runs: {elsewhere}",
                          time.monotonic() - started)
        tests = [] if full else named_tests(patch)
        for args in ([tests] if tests else []) + [[]]:
            code, output = pytest(copy, args)
            if code not in (0, 5):  # 5: the named tests were all deselected (slow)
                return Result(patch, True, first_failure(output), time.monotonic() - started)
        return Result(patch, False, "-", time.monotonic() - started)
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def table(results: list[Result]) -> str:
    rows = [("mutant", "caught", "by", "seconds")]
    for r in results:
        caught = {True: "yes", False: "NO", None: "ERROR"}[r.caught]
        rows.append((r.patch.name, caught, r.by, f"{r.seconds:.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d:>7}"
                     for a, b, c, d in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patches", nargs="*", type=Path,
                        help="mutants to run (default: every tests/mutants/*.patch)")
    parser.add_argument("--full", action="store_true",
                        help="run the whole non-slow suite for each, not the named tests first")
    parser.add_argument("--keep", action="store_true", help="keep the copies (to inspect)")
    args = parser.parse_args(argv)
    patches = args.patches or sorted(MUTANTS.glob("*.patch"))
    if not patches:
        print(f"no mutants in {MUTANTS}", file=sys.stderr)
        return 1
    results = []
    for patch in patches:
        result = run_one(patch, args.full, args.keep)
        print(f"{patch.name}: {'caught by ' + result.by if result.caught else result.by} "
              f"({result.seconds:.0f} s)", file=sys.stderr, flush=True)
        results.append(result)
    print(table(results))
    bad = [r for r in results if not r.caught]
    if bad:
        print(f"{len(bad)} of {len(results)} mutants survived or did not run: "
              + ", ".join(r.patch.name for r in bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
