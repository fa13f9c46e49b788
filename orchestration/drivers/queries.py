"""`make examples`: docs/queries.md, the analyst's questions with their SQL and their output on a
warehouse built from the bundled 20 Nov 2023 page. Each analysis of dbt_project/analyses/ is
compiled by dbt (refs resolved to schema.table) and every query is run read-only by the DuckDB
shell analysts use. tests/test_queries.py renders the page again and compares, so it cannot drift
from the models.

    KFOR_WAREHOUSE=<a warehouse built from raw/bundled> python -m orchestration.drivers.queries"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.core.files import BUILD_NAME
from orchestration.core.layout import PROJECT_ROOT
from orchestration.core.settings import get as get_settings

OUT = PROJECT_ROOT / "docs" / "queries.md"
ANALYSES = [  # (file in dbt_project/analyses, the question it answers)
    ("commanders_per_nation", "Which nations commanded KFOR, and for how long?"),
    ("average_tenure_by_rank", "How long did a tenure last, by rank?"),
    ("troop_drawdown_by_year", "How did KFOR's strength fall, year by year?"),
    ("events_per_year", "How many dated events does the page state per year?"),
    ("commander_on_date", "Who was in command on 1 January 2010?"),
    ("page_strength_over_time", "What has the page itself said KFOR's strength is, version by "
                                "version?"),
]
TIME_AXES = [  # (title, why, SQL): the two time axes and the as-of rules, as written
    ("Who was in command on a handover day?",
     "Exactly one answer on every day: on a handover day the incoming commander (rule H1 of "
     "[rules.md](rules.md)). From `fct_command_tenure` the join is `day >= on_duty_from AND day "
     "< on_duty_until`, never `BETWEEN start_date AND end_date` (two commanders on 23 days).",
     "SELECT d.date_day, c.full_name, t.start_date, t.end_date, d.is_handover_day\n"
     "FROM marts.fct_commander_on_duty AS d\n"
     "JOIN marts.fct_command_tenure AS t USING (tenure_key)\n"
     "JOIN marts.dim_commander AS c ON c.commander_key = t.commander_key\n"
     "WHERE d.date_day IN (DATE '2010-08-31', DATE '2010-09-01')\n"
     "ORDER BY d.date_day;"),
    ("Which nations were NATO members on the page's date?",
     "Membership is as of the page's date (rule A1), not today's: on the page of 20 Nov 2023 "
     "Finland is a member and Sweden (joined 7 Mar 2024) is not.",
     "SELECT nation_name, nato_member_since, is_nato_member_as_of_page\n"
     "FROM marts.dim_nation WHERE nation_key IN ('FI', 'SW') ORDER BY nato_member_since;"),
    ("What did the page say on 1 December 2023? (valid time)",
     "`valid_from` / `valid_to`: when the page said it (its own stamp, rules V1-V5).",
     "SELECT 'tenures' AS facts, count(*) AS n FROM snapshots.snap_command_tenure\n"
     "WHERE valid_from <= TIMESTAMPTZ '2023-12-01 00:00:00+00'\n"
     "  AND (valid_to IS NULL OR valid_to > TIMESTAMPTZ '2023-12-01 00:00:00+00')\n"
     "UNION ALL\n"
     "SELECT 'troop levels', count(*) FROM snapshots.snap_troop_level\n"
     "WHERE valid_from <= TIMESTAMPTZ '2023-12-01 00:00:00+00'\n"
     "  AND (valid_to IS NULL OR valid_to > TIMESTAMPTZ '2023-12-01 00:00:00+00');"),
    ("What does this warehouse know now? (recorded time)",
     "`recorded_at` / `closed_recorded_at`: when this warehouse learned it (its first fetch or "
     "import); a fact that leaves the page is closed, never deleted.",
     "SELECT count(*) AS tenures_known FROM snapshots.snap_command_tenure\n"
     "WHERE recorded_at <= now() AND closed_recorded_at IS NULL;"),
]


def compiled_analyses(published: Path) -> dict[str, str]:
    """Each analysis as dbt compiles it against a copy of `published` (dbt opens its target for
    writing), refs resolved to schema.table, comments off."""
    from orchestration.drivers.dbt_run import run_dbt, target_of

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / BUILD_NAME
        shutil.copyfile(published, copy)
        run_dbt(["compile", "--select", "path:analyses"], copy)
        folder = target_of(copy) / "compiled" / "kfor" / "analyses"
        out = {}
        for name, _ in ANALYSES:
            sql = (folder / f"{name}.sql").read_text(encoding="utf-8")
            sql = re.sub(r'"kfor"\."(\w+)"\."(\w+)"', r"\1.\2", sql).strip()
            out[name] = "\n".join(line for line in sql.splitlines()
                                  if not line.startswith("--")).strip()
        return out


def shell_output(published: Path, sql: str) -> str:
    """What `kfor sql -c` prints: the DuckDB shell, read-only, in its box format."""
    shell = Path(sys.executable).with_name("duckdb")
    return subprocess.run([str(shell), "-readonly", str(published), "-c", sql],
                          capture_output=True, text=True, check=True).stdout.rstrip()


def render(published: Path) -> str:
    parts = [
        "# Queries: the analyst's questions, answered",
        "",
        "Each question is a dbt analysis in `dbt_project/analyses/` (refs resolved to "
        "`schema.table` below), then a few queries on the two time axes; every output is the "
        "DuckDB shell's, read-only, on the warehouse built from the bundled 20 Nov 2023 page. "
        "`make examples` regenerates this page; `tests/test_queries.py` checks it has not drifted. "
        "Run any of them with `.venv/bin/kfor sql -c \"...\"`.",
        ""]
    compiled = compiled_analyses(published)
    for name, question in ANALYSES:
        parts += [f"## {question}", "", f"`dbt_project/analyses/{name}.sql`:", "",
                  "```sql", compiled[name], "```", "", "```",
                  shell_output(published, compiled[name]), "```", ""]
    parts += ["## The two time axes", ""]
    for title, why, sql in TIME_AXES:
        parts += [f"### {title}", "", why, "", "```sql", sql, "```", "", "```",
                  shell_output(published, sql), "```", ""]
    return "\n".join(parts)


def main() -> int:
    published = get_settings().warehouse
    if not published.exists():
        print(f"nothing published at {published}: run `make run` first", file=sys.stderr)
        return 1
    OUT.write_text(render(published), encoding="utf-8")
    print(f"{OUT.relative_to(PROJECT_ROOT)}: {len(ANALYSES)} analyses and {len(TIME_AXES)} "
          "queries on the two time axes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
