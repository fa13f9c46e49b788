"""`make docs`: dbt's static docs site (one HTML file with the manifest and catalog inlined), built
against a copy of the published warehouse so the catalog shows real columns and row counts; the
published file is never opened for writing."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from orchestration.core import layout
from orchestration.core.files import BUILD_NAME
from orchestration.core.settings import get as get_settings
from orchestration.drivers.dbt_run import run_dbt

OUT = layout.PROJECT_ROOT / "docs" / "site" / "index.html"


def main() -> int:
    published = get_settings().warehouse
    if not published.exists():
        print(f"nothing published at {published}: run `make run` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / BUILD_NAME  # the catalog name dbt's SQL uses
        shutil.copyfile(published, copy)
        site = Path(tmp) / "site"  # its own target folder: target/manifest.json stays as it is
        run_dbt(["docs", "generate", "--static", "--target-path", str(site)], copy)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(site / "static_index.html", OUT)
    print(f"dbt docs site: {OUT.relative_to(layout.PROJECT_ROOT)} (open it in a browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
