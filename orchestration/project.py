"""The dbt project as dagster-dbt sees it. `make setup` prepares it the documented way
(`dagster-dbt project prepare-and-package --file orchestration/project.py`: dbt parse into
dbt_project/target/manifest.json); under `dagster dev` the definitions call `prepare_if_dev()`.
Imported only when the definitions are loaded, never by `import orchestration.definitions`."""

from dagster_dbt import DbtProject

from orchestration.core.layout import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
