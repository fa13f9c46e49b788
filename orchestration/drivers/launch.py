"""Running a job of the code location in this process, on the persistent Dagster instance (the
one `make dev` shows), tagged with the warehouse and how it started. Every driver that builds or
publishes (`kfor refresh`, import, replay, rollback) goes through `launch`."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from pathlib import Path

from orchestration.core.layout import DAGSTER_CONFIG
from orchestration.core.redact import redact_db_text, redact_db_url
from orchestration.core.settings import Settings


class InstanceUnavailable(RuntimeError):
    """The Dagster instance cannot be opened or written (a full disk, a damaged database, a
    Postgres server that refuses), or DAGSTER_HOME's dagster.yaml contradicts DAGSTER_PG_URL."""


# With this set, the instance keeps runs, event logs and schedules in that Postgres database
# (dagster-postgres) instead of SQLite under DAGSTER_HOME. Its value (a URL that may carry a
# password) stays in the environment: the yaml names the variable, and messages redact it.
PG_URL_VARIABLE = "DAGSTER_PG_URL"
DAGSTER_PG_CONFIG = DAGSTER_CONFIG.with_name("dagster-postgres.yaml")


def prepare_home(home: Path, pg_url: str | None) -> Path:
    """DAGSTER_HOME with its dagster.yaml: the one place that chooses the project's file (the
    Postgres variant when DAGSTER_PG_URL is set) for `kfor` and `make dev`. An existing yaml is the
    user's and is kept, but one that contradicts the variable is refused: runs must never go
    silently to the other store."""
    on_postgres = bool(pg_url)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(DAGSTER_PG_CONFIG if on_postgres else DAGSTER_CONFIG, config)
    names_url = keeps_runs_in_postgres(config)
    if on_postgres and not names_url:
        raise InstanceUnavailable(
            f"{PG_URL_VARIABLE} is set but {config} keeps runs in SQLite under DAGSTER_HOME: move that "
            f"file aside (a new one on Postgres is written) or use another DAGSTER_HOME")
    if names_url and not on_postgres:
        raise InstanceUnavailable(f"{config} keeps runs in Postgres at {PG_URL_VARIABLE}, which is "
                                  f"not set: set it, or use another DAGSTER_HOME")
    return home


def keeps_runs_in_postgres(config: Path) -> bool:
    """The yaml's storage is dagster-postgres at DAGSTER_PG_URL (read as YAML: a comment naming
    the variable does not count, a literal URL is not ours to choose)."""
    import yaml

    storage = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("storage") or {}
    return (storage.get("postgres") or {}).get("postgres_url") == {"env": PG_URL_VARIABLE}


def get_instance(settings: Settings):
    """The persistent instance in DAGSTER_HOME (created with the project's dagster.yaml when
    missing). Dagster reads DAGSTER_HOME; run processes the daemon starts inherit it."""
    import dagster as dg

    home = settings.dagster_home
    quiet = QuietRetries()
    try:
        prepare_home(home, settings.dagster_pg_url)
        os.environ["DAGSTER_HOME"] = str(home)
        logging.getLogger().addFilter(quiet)
        return dg.DagsterInstance.get()
    except InstanceUnavailable:
        raise
    except Exception as e:  # SQLite says "disk I/O error" and no more: name the setting
        url = settings.dagster_pg_url or ""
        cause = e
        while cause.__cause__ is not None:  # "too many retries for DB connection": say why
            cause = cause.__cause__
        # the URL's user and password never reach a message, even one that quotes the URL
        first = redact_db_text((str(cause) or type(cause).__name__).strip().splitlines()[0], url)
        where = f"{PG_URL_VARIABLE}={redact_db_url(url)}" if url else f"DAGSTER_HOME={home}"
        raise InstanceUnavailable(f"cannot open the Dagster instance in {where}: {first}") from e
    finally:
        logging.getLogger().removeFilter(quiet)


class QuietRetries(logging.Filter):
    """dagster-postgres warns on the root logger, in four lines, at each of its six attempts to
    reach a server that refuses; the refusal is said once, as InstanceUnavailable's one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Retrying failed database connection")


def launch(settings: Settings, job: str, started_by: str, verbose: bool = False, **config):
    """Execute `job` (refresh | rollback) in this process with the run resource's `config`;
    returns Dagster's result (the run's own status and step failures)."""
    from orchestration.definitions import build_definitions
    from orchestration.jobs import run_tags
    from orchestration.resources import run_config

    definitions = build_definitions(settings)
    run = run_config(**config)
    # the run's events go to the instance; the console shows them (and dbt's log, which
    # dagster-dbt echoes on stdout) with -v only, on stderr: stdout is the command's one line
    run["loggers"] = {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}}
    with open(os.devnull, "w") as devnull, \
            contextlib.redirect_stdout(sys.stderr if verbose else devnull):
        return definitions.resolve_job_def(job).execute_in_process(
            run_config=run, instance=get_instance(settings), raise_on_error=False,
            tags=run_tags(settings, started_by))


def failure_of(result) -> tuple[str, str]:
    """(outcome, cause) of a run that failed, from its own step failures: a step that refused or
    rejected says so in its Failure's description ("rejected: <check> (...)"); any other error is
    "failed: <Type: message>" of the error that caused it."""
    for event in result.get_step_failure_events():
        data = event.event_specific_data  # DagsterEvent's documented field (its step failure)
        if data.user_failure_data and data.user_failure_data.description:
            line = " ".join(data.user_failure_data.description.split())
            if line.startswith("rejected: "):
                return f"rejected: {line[len('rejected: '):].split(' ', 1)[0]}", line
            return f"failed: {line}", line
        error = innermost_error(data.error)
        if error is not None:
            cause = " ".join(error.message.split())
            return f"failed: {cause}", cause
    return "failed: the run did not finish", "the run did not finish"


def innermost_error(error):
    """The step's own error: Dagster wraps it ("Error occurred while executing op ...")."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error


if __name__ == "__main__":  # `make dev`: DAGSTER_HOME's dagster.yaml, chosen as `kfor` chooses it
    try:
        settings = Settings.from_env()
        prepare_home(settings.dagster_home, settings.dagster_pg_url)
    except (InstanceUnavailable, ValueError) as e:  # SettingsError is a ValueError
        sys.exit(str(e))
