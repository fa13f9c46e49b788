"""Dagster resources: where the page comes from (a live client and a snapshot client) and the
run-wide refresh lock."""


from contextlib import contextmanager

import dagster as dg

from . import paths
from .fetch import FetchPolicy, FetchResult, Validators, fetch
from .publish import refresh_lock


class PageSource(dg.ConfigurableResource):
    """The live client: http(s) or file:// with timeouts, deadline, retries and a size cap.
    An empty url means KFOR_SOURCE_URL, else NATO's live page."""

    url: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 45.0
    max_attempts: int = 4
    max_bytes: int = 5_000_000

    def source_url(self) -> str:
        return self.url or paths.source_url()

    def policy(self) -> FetchPolicy:
        return FetchPolicy(connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                           deadline=self.deadline, max_attempts=self.max_attempts,
                           max_bytes=self.max_bytes, allowed_hosts=paths.allowed_hosts())

    def fetch(self, url: str, validators: Validators | None, policy: FetchPolicy) -> FetchResult:
        return fetch(url, validators, policy)


class SnapshotPageSource(PageSource):
    """The fixture client: always answers with the bundled 20 Nov 2023 snapshot, no I/O."""

    def source_url(self) -> str:
        return self.url or paths.bundled_snapshot().as_uri()

    def fetch(self, url: str, validators: Validators | None, policy: FetchPolicy) -> FetchResult:
        return FetchResult(url=url, source="file", status=None,
                           body=paths.bundled_snapshot().read_bytes())


class RefreshLock(dg.ConfigurableResource):
    """Held for the whole run: one refresh at a time per warehouse (reentrant, so a CLI refresh
    that already holds it runs its job inside it)."""

    wait_seconds: float = 0.0

    @contextmanager
    def yield_for_execution(self, context):
        with refresh_lock(wait=self.wait_seconds):
            yield self
