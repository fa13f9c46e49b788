"""Print the README's "Five questions" section: each analysis in dbt_project/analyses/, compiled
(refs resolved to schema.table), with its real output on the warehouse built from the bundled
snapshot. Usage: KFOR_WAREHOUSE=<a warehouse built from raw/bundled> python scripts/readme_analyses.py"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.core.files import BUILD_NAME
from orchestration.core.settings import get as get_settings
from orchestration.drivers.dbt_run import run_dbt, target_of

QUESTIONS = [
    ("commanders_per_nation", "Which nations commanded KFOR, and for how long?"),
    ("average_tenure_by_rank", "How long did a tenure last, by rank?"),
    ("troop_drawdown_by_year", "How did KFOR's strength fall, year by year?"),
    ("events_per_year", "How many dated events does the page state per year?"),
    ("commander_on_date", "Who was in command on 1 January 2010?"),
]


def main() -> int:
    published = get_settings().warehouse
    with tempfile.TemporaryDirectory() as tmp:  # dbt opens its target for writing: a copy
        copy = Path(tmp) / BUILD_NAME
        shutil.copyfile(published, copy)
        run_dbt(["compile", "--select", "path:analyses"], copy)
        compiled = {name: (target_of(copy) / "compiled" / "kfor" / "analyses" / f"{name}.sql")
                    .read_text() for name, _ in QUESTIONS}
    shell = Path(sys.executable).with_name("duckdb")
    for name, question in QUESTIONS:
        sql = compiled[name]
        sql = re.sub(r'"kfor"\."(\w+)"\."(\w+)"', r"\1.\2", sql).strip()
        sql = "\n".join(line for line in sql.splitlines() if not line.startswith("--")).strip()
        out = subprocess.run([str(shell), "-readonly", str(published), "-c", sql],
                             capture_output=True, text=True, check=True).stdout
        print(f"**{question}** (`dbt_project/analyses/{name}.sql`)\n")
        print(f"<details><summary>SQL</summary>\n\n```sql\n{sql}\n```\n</details>\n")
        print(f"```\n{out.rstrip()}\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
