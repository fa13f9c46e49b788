"""README.md cannot drift from the code (issue 23): every command it shows is run here as written
(or by CI: the two set-up commands are `.ci/run`'s), the query's output is the real output, the
settings and their defaults are the code's, the make targets exist, and the files it names for a
warehouse are the ones the code writes."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

import pytest

from orchestration.core import layout
from orchestration.core.files import WarehouseFiles
from orchestration.core.settings import Settings

ROOT = layout.PROJECT_ROOT
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str = "") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def run(command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_a_newcomer_reads_it_to_the_end():
    assert len(README.splitlines()) <= 200
    order = [t for t in re.findall(r"^## (.+)$", README, re.M)]
    assert order == ["Two commands", "What you get", "Query it", "Keeping it fresh",
                     "Connecting a BI tool", "Several warehouses side by side",
                     "Older versions of the page", "Developing", "Where the docs are"]
    for link in re.findall(r"\]\(((?:docs|tests)/[^)#]+)\)", README):
        assert (ROOT / link).exists(), link


def test_the_two_commands_are_what_ci_runs():
    commands = [line.split("#")[0].strip() for line in section("Two commands").split("```sh")[1]
                .split("```")[0].splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert re.search(rf"^(echo .*; )?{command}$", ci, re.M), command


def test_the_query_prints_what_the_readme_shows(built_warehouse):
    text = section("Query it")
    command = re.search(r"```sh\n(.+?)\n```", text, re.S).group(1)
    shown = re.search(r"```\n(┌.+?)\n```", text, re.S).group(1)
    out = run(command, {"KFOR_WAREHOUSE": str(built_warehouse)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip() == shown


def test_the_crontab_line_and_status_run_as_written(published_v1):
    text = section("Keeping it fresh")
    cron = re.search(r"^0 6 \* \* \* cd \S+ && (.+?) >> refresh.log 2>&1$", text, re.M)
    assert cron, "the crontab line"
    snapshot = layout.bundled_snapshot().as_uri()
    out = run(cron.group(1), {"KFOR_SOURCE_URL": snapshot})  # the live page is not reachable here
    assert out.returncode == 0 and out.stdout.startswith("unchanged: "), out.stderr
    status = re.search(r"```sh\n(\.venv/bin/kfor status)\n```", text).group(1)
    out = run(status)
    assert out.returncode == 0 and out.stdout.startswith(f"published: {published_v1}")
    assert "files:" in out.stdout and "last refreshes" in out.stdout


def test_the_settings_and_their_defaults_are_the_codes():
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| [^|]+ \|$", section("Keeping it fresh"), re.M)
    defaults = Settings()
    documented = (ROOT / "orchestration" / "core" / "settings.py").read_text()
    shown = {name: default.strip().strip("`") for name, default in rows}
    assert set(shown) == set(re.findall(r"^    (KFOR_\w+|DAGSTER_\w+) ", documented, re.M))
    assert shown["KFOR_WAREHOUSE"] == "warehouse/kfor.duckdb"
    assert defaults.warehouse == ROOT / shown["KFOR_WAREHOUSE"]
    assert defaults.raw_dir == ROOT / shown["KFOR_RAW_DIR"].rstrip("/")
    assert defaults.dagster_home == ROOT / shown["DAGSTER_HOME"].rstrip("/")
    for name, attribute in (("KFOR_CHECK_EVERY_HOURS", "check_every_hours"),
                            ("KFOR_FRESHNESS_HOURS", "freshness_hours"), ("KFOR_KEEP", "keep"),
                            ("KFOR_LOCK_WAIT", "lock_wait")):
        assert float(shown[name]) == getattr(defaults, attribute), name


@pytest.mark.parametrize("target", sorted(set(re.findall(r"\bmake ([a-z][a-z-]*)", README))))
def test_every_make_target_it_names_exists(target):
    assert re.search(rf"^{target}:", (ROOT / "Makefile").read_text(), re.M), target


def test_the_files_it_names_are_the_ones_a_warehouse_writes():
    text = section("Several warehouses side by side")
    files = WarehouseFiles(ROOT / "warehouse" / "kfor.duckdb")
    for path in (files.published, files.lock, files.build_dir, files.history, files.exports):
        assert f"warehouse/{path.name}" in text, path.name
    assert "kfor.duckdb.exports/parquet/current/" in section("Connecting a BI tool")


def test_the_postgres_lines_point_at_what_make_pg_up_starts(tmp_path):
    """The lines to point a refresh at a server: the URL `make pg-up` serves (its port, role and
    database), a raw folder of its own (raw/ belongs to the DuckDB file), and commands that exist."""
    from support.postgres import SUPERUSER

    text = section("Several warehouses side by side")
    line = re.search(r"^export (KFOR_WAREHOUSE=\S+) (KFOR_RAW_DIR=\S+)", text, re.M)
    env = dict(pair.split("=", 1) for pair in line.groups())
    port = re.search(r"^PG_PORT \?= (\d+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert env["KFOR_WAREHOUSE"] == f"postgresql://{SUPERUSER}@127.0.0.1:{port}/kfor"
    settings = Settings.from_env({**env, "KFOR_RAW_DIR": str(tmp_path / env["KFOR_RAW_DIR"])})
    assert settings.engine.kind == "postgres" and settings.raw_dir != Settings().raw_dir
    commands = re.findall(r"kfor ([a-z-]+)", text.split("```sh")[-1].split("```")[0])
    assert commands == ["refresh", "grant-reader", "sql"]
    from orchestration.drivers.cli import parser

    for command in commands:  # an unknown command would exit with a usage error
        assert parser().parse_args([command]).command == command
