"""Running a job of the code location in this process, on the persistent Dagster instance (the
one `make dev` shows), tagged with the warehouse and how it started. Every driver that builds or
publishes (`kfor refresh`, import, replay, rollback) goes through `launch`."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys

from orchestration.core.layout import DAGSTER_CONFIG
from orchestration.core.settings import Settings


class InstanceUnavailable(RuntimeError):
    """The Dagster instance cannot be opened or written (a full disk, a damaged database)."""


def get_instance(settings: Settings):
    """The persistent instance in DAGSTER_HOME (created with the project's dagster.yaml when
    missing). Dagster reads DAGSTER_HOME; run processes the daemon starts inherit it."""
    import dagster as dg

    home = settings.dagster_home
    try:
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "dagster.yaml").exists():
            shutil.copyfile(DAGSTER_CONFIG, home / "dagster.yaml")
        os.environ["DAGSTER_HOME"] = str(home)
        return dg.DagsterInstance.get()
    except Exception as e:  # SQLite says "disk I/O error" and no more: name the setting
        first = (str(e) or type(e).__name__).strip().splitlines()[0]
        raise InstanceUnavailable(f"cannot open the Dagster instance in DAGSTER_HOME={home}: "
                                  f"{first}") from e


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
