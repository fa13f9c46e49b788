"""The dbt project as dagster-dbt sees it. `make setup` prepares it the documented way
(`dagster-dbt project prepare-and-package --file orchestration/project.py`: dbt parse into
dbt_project/target/manifest.json); under `dagster dev` the definitions call `prepare_if_dev()`.
Imported only when the definitions are loaded, never by `import orchestration.definitions`."""

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.core.layout import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)


def prepared() -> DbtProject:
    """The project with a whole manifest: prepared under `dagster dev`, and prepared again when
    the manifest is missing or torn (a checkout without `make setup`, a kill mid-parse)."""
    with this_python_on_path():
        dbt_project.prepare_if_dev()
        try:
            json.loads(dbt_project.manifest_path.read_bytes())
        except (OSError, ValueError):
            dbt_project.preparer.prepare(dbt_project)
    return dbt_project


@contextmanager
def this_python_on_path():
    """dagster-dbt's preparer runs `dbt` from PATH: the dbt beside this Python (the project's
    venv), also when `kfor` was started by its full path without activating the venv."""
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), before])
    try:
        yield
    finally:
        os.environ["PATH"] = before
