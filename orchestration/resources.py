"""Dagster resources: where the page comes from (a live client and a snapshot client), and the
refresh run itself, which holds the lock for the whole run and concludes it once."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
import pydantic

from orchestration.core import project as paths

from .core.fetch import FetchResult, Validators, fetch
from .core.lock import holds, refresh_lock
from .core.outcome import conclude, outcome_of
from .core.publish import discard_build
from .core.settings import Settings
from .core.settings import get as get_settings
from .instance import OUTCOME_TAG, PID_TAG, tag_run


class PageSource(dg.ConfigurableResource):
    """The live client: http(s) or file:// with timeouts, deadline, retries and a size cap."""

    def fetch(self, url: str, validators: Validators | None, policy) -> FetchResult:
        return fetch(url, validators, policy)


class SnapshotPageSource(PageSource):
    """The fixture client: always answers with the bundled 20 Nov 2023 snapshot, no I/O."""

    def fetch(self, url: str, validators: Validators | None, policy) -> FetchResult:
        return FetchResult(url=url, source="file", status=None,
                           body=paths.bundled_snapshot().read_bytes())


@dataclass
class RunState:
    """What one run has done so far; the resource concludes from it when the run ends."""

    settings: Settings
    record: dict | None = None  # the fetch being built
    outcome: str | None = None
    message: str | None = None

    def unchanged(self, record: dict) -> None:
        self.record, self.outcome = None, "unchanged"  # decide() concluded it already

    def published(self) -> None:
        self.outcome = "published"

    def audited(self) -> None:
        self.outcome = "audited"

    def failed(self, error: BaseException | None) -> None:
        if self.outcome is None:
            self.outcome, self.message = outcome_of(error)


class RefreshRun(dg.ConfigurableResource):
    """One refresh run. Holds the refresh lock from the run's start to its end (reentrant: a
    `kfor refresh` that holds it runs the job inside it), and when the run ends writes its outcome
    to the fetch log and alerts (orchestration.outcome.conclude), tags the run with it and removes
    any scratch build left by a failure. The steps only report to it."""

    fetch_record: str = pydantic.Field(default="", description=(
        "JSON fetch record of a check already made by `kfor refresh`. Empty: the run checks the "
        "page itself (a scheduled or UI-started run)."))
    mode: str = pydantic.Field(default="refresh", description=(
        "refresh: build the checked page. replay: rebuild from every published version. "
        "import: rebuild with the captures of `kfor import` added."))
    captures: str = pydantic.Field(default="", description=(
        "import: the JSON list of capture records to add (`kfor import` concludes them)."))
    publish: bool = pydantic.Field(default=True, description=(
        "false: build and audit only, publish nothing (an import finding its failing captures)."))

    _state: RunState | None = pydantic.PrivateAttr(default=None)

    @property
    def state(self) -> RunState:
        assert self._state is not None, "RefreshRun used outside a run"
        return self._state

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        settings = get_settings()
        run_id = context.run.run_id if context.run else None
        instance = context.instance
        if run_id and instance:
            tag_run(instance, run_id, {PID_TAG: str(os.getpid())})
        wait = 0.0 if holds(settings.lock_path) else settings.lock_wait
        with refresh_lock(settings.lock_path, wait=wait):
            if not self.fetch_record and self.mode == "refresh" and instance:
                from .refresh import failures_concluded, new_record, recover

                # a run started by the schedule or the UI: a recovery that fails is its failure
                with failures_concluded(settings, new_record(settings.source_url)):
                    for note in recover(settings, instance, exclude_run=run_id):
                        context.log.warning(note)
            self._state = RunState(settings, json.loads(self.fetch_record)
                                   if self.fetch_record else None)
            try:
                yield self
            finally:
                self._conclude(instance, run_id)

    def _conclude(self, instance, run_id) -> None:
        state = self.state
        if state.outcome != "published":
            discard_build(state.settings)
        if state.outcome is None and state.record is not None:
            state.outcome = "failed: the run ended before it published"
        if state.outcome and instance and run_id:
            tag_run(instance, run_id, {OUTCOME_TAG: state.outcome})
        if state.record is not None:
            conclude(state.settings, state.record, state.outcome, state.message, run_id=run_id)
