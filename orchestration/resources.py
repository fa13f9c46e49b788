"""The run's resource: one run of the `refresh` or `rollback` job, from its start to its end.

It enters the warehouse's session (core.session: the lock, waiting up to KFOR_LOCK_WAIT, and
recovery; re-entered without recovery when `kfor refresh` runs the job in its own process), points
dbt at the scratch build for the run's duration (the engine's dbt_environment: KFOR_BUILD_PATH
for a DuckDB file, libpq's PG* variables and KFOR_SCHEMA_PREFIX for Postgres), and
concludes the run once when it ends: the fetch's final record in the fetch log, an alert when it
did not publish, the scratch build removed. The steps only report to it (RunState)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
import pydantic

from orchestration.core.archive import BUILDING, Archive
from orchestration.core.engine import Engine
from orchestration.core.files import WarehouseFiles
from orchestration.core.layout import DBT_PARENT_VARIABLE
from orchestration.core.outcome import alert_export_failed, conclude, one_line, outcome_of
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings
from orchestration.core.settings import get as get_settings

MODES = ("refresh", "replay", "import", "rollback")


@dataclass
class RunState:
    """What one run has done so far; the resource concludes from it when the run ends."""

    settings: Settings
    run_id: str | None
    record: dict | None = None  # the fetch being built (refresh), or the rollback's record
    outcome: str | None = None
    message: str | None = None
    concluded: bool = False
    export_failure: str | None = None

    @property
    def files(self) -> WarehouseFiles:
        return self.settings.files

    @property
    def engine(self) -> Engine:
        return self.settings.engine

    def end(self, outcome: str, message: str | None = None) -> None:
        """Conclude the fetch now (published, or unchanged with nothing to build)."""
        self.outcome, self.message = outcome, message
        if self.record is not None and not self.concluded:
            conclude(self.settings, self.record, outcome, message, run_id=self.run_id)
            self.concluded = True

    def audited(self) -> None:
        self.outcome = "audited"

    def failed(self, error: BaseException | None, step: str | None = None) -> None:
        if step == "exports" and self.outcome == "published":
            self.export_failure = one_line(f"{type(error).__name__}: {error}")
        elif self.outcome is None:
            self.outcome, self.message = outcome_of(error)

    def conclude(self) -> None:
        # the record first: whatever befalls the clean-up, the fetch ends saying why
        if self.record is not None and not self.concluded:
            self.end(self.outcome or "failed: the run ended before it published", self.message)
        if self.outcome != "published":
            self.engine.discard_build()
        if self.export_failure:
            alert_export_failed(self.settings, self.export_failure, self.run_id)


class RefreshRun(dg.ConfigurableResource):
    """One run: `mode` says what it builds. Set by whoever launches it (kfor refresh, the page
    sensor, kfor import / replay / rollback); a run launched from the UI has no decided fetch and
    is refused by its first step."""

    mode: str = pydantic.Field(default="refresh", description=(
        "refresh: build the fetch `fetch_id` (decided before the run). replay: rebuild from every "
        "published version. import: rebuild with the captures of `kfor import` added. rollback: "
        "publish the kept file `kept` again."))
    fetch_id: str = pydantic.Field(default="", description=(
        "The fetch this run concludes: its intent record is in the fetch log."))
    captures: str = pydantic.Field(default="", description=(
        "import: the JSON list of capture records to add (`kfor import` concludes them)."))
    publish: bool = pydantic.Field(default=True, description=(
        "false: build and audit only, publish nothing (an import finding its failing captures)."))
    kept: str = pydantic.Field(default="", description="rollback: the kept file to publish.")

    _state: RunState | None = pydantic.PrivateAttr(default=None)

    @property
    def state(self) -> RunState:
        assert self._state is not None, "RefreshRun used outside a run"
        return self._state

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[RefreshRun]:
        if self.mode not in MODES:
            raise dg.Failure(f"unknown mode {self.mode!r}: one of {', '.join(MODES)}")
        settings = get_settings()
        state = RunState(settings, context.run.run_id if context.run else None)
        say = context.log.warning if context.log else print
        try:
            with warehouse_session(settings, wait=settings.lock_wait,
                                   exclude=self.fetch_id or None, say=say):
                if self.fetch_id:
                    state.record = logged_record(settings, self.fetch_id)
                self._state = state
                with dbt_environment(settings.engine):
                    try:
                        yield self
                    finally:
                        state.conclude()
        except Exception as e:
            if self._state is None and self.fetch_id:  # the session could not start
                conclude_unstarted(settings, self.fetch_id, e, state.run_id)
            raise


def logged_record(settings: Settings, fetch_id: str) -> dict:
    """The fetch's record as the log holds it (its intent, or its final record when recovery or
    another run already ended it)."""
    for record in Archive(settings.raw_dir).fetches():
        if record["fetch_id"] == fetch_id:
            return record
    raise dg.Failure(f"the fetch {fetch_id} is not in the fetch log {Archive(settings.raw_dir).log_path}")


def conclude_unstarted(settings: Settings, fetch_id: str, error: BaseException,
                       run_id: str | None) -> None:
    """A run that could not enter its session (the lock still held after KFOR_LOCK_WAIT): its
    fetch ends failed, naming why, rather than staying an intent."""
    try:
        record = logged_record(settings, fetch_id)
    except Exception:  # noqa: BLE001 - an unreadable log is the error already being raised
        return
    if record.get("outcome") == BUILDING:
        outcome, cause = outcome_of(error)
        conclude(settings, record, outcome, cause, run_id=run_id)


@contextmanager
def dbt_environment(engine: Engine) -> Iterator[None]:
    """dbt (a child process dagster-dbt starts with this process's environment) builds the
    engine's scratch build, for the run's duration; KFOR_DBT_PARENT names this process, which
    kfor-dbt dies with."""
    values = {**engine.dbt_environment(), DBT_PARENT_VARIABLE: str(os.getpid())}
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_config(**config) -> dict:
    """The run config that sets the run's resource (mode, fetch_id, captures, publish, kept)."""
    return {"resources": {"refresh_run": {"config": config}}}
