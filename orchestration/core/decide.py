"""decide(): the one decision path. Whoever asks (`kfor refresh`, the page sensor), under the
warehouse's session (lock + recovery), before any run:

    fetch     conditional GET with the validators of the published version (core.fetch); the
              default live URL unreachable: the newest published or bundled version, said so
    archive   the body by its SHA-256 (core.archive)
    compare   its version key with the published file's
    record    an unchanged page, a failed fetch, an unreadable page: its final record (and an
              alert when it did not succeed); a changed page: its intent record, and the caller
              launches a run that builds it (the run writes the final record)

A page already rejected against the same published version is refused again from the log, with
no build (`retry` builds it anyway: after a fix in the corrections seed or the code)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestration.core import layout
from orchestration.core.archive import BUILDING, IMPORTED, Archive, pending, sha256
from orchestration.core.fetch import FetchError, FetchPolicy, FetchResult, Validators, fetch
from orchestration.core.outcome import (
    SUCCESS,
    TIME_FORMAT,
    conclude,
    intend,
    outcome_of,
    staleness,
)
from orchestration.core.redact import redact_url
from orchestration.core.reference import load_reference
from orchestration.core.settings import Settings
from orchestration.parsing import ParsedPage, ParseError, parse_page

log = logging.getLogger("kfor")


class RefreshError(Exception):
    """A refresh that did not publish: `outcome` is what the fetch log says, `record` the fetch."""

    def __init__(self, outcome: str, cause: str, record: dict | None = None):
        super().__init__(cause)
        self.outcome = outcome
        self.cause = cause
        self.record = record


@dataclass
class Decision:
    record: dict  # the fetch's record: final (unchanged) or its intent (changed)
    changed: bool
    page: ParsedPage | None = None
    warnings: list[str] = field(default_factory=list)
    attempt: int = 0  # earlier attempts at the same (version, published version) pair

    @property
    def run_key(self) -> str:
        """The new version key with the published one: a revert (v1, v2, v1) is a new key; a
        retry of the same pair after a failure counts its attempts."""
        key = f"{self.record['content_sha256']}:{self.record.get('compared_with') or 'none'}"
        return f"{key}:{self.attempt}" if self.attempt else key


def now_utc() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def new_record(url: str, source: str | None = None) -> dict:
    """A fetch's record. Its URL is redacted (user-info, secret query values): the record reaches
    the fetch log, the warehouse, the instance and alerts; the fetch itself uses the real URL."""
    return {"fetch_id": uuid.uuid4().hex, "fetched_at": now_utc(), "url": redact_url(url),
            "source": source or ("file" if url.lower().startswith("file:") else "live")}


def decide(settings: Settings, fetcher=fetch, policy: FetchPolicy | None = None,
           retry: bool = False, handed_over: bool = False) -> Decision:
    """Fetch, archive, compare; record the outcome (or, for a changed page, the intent). Raises
    RefreshError, already recorded and alerted, when the page was not fetched or not readable.
    `handed_over`: the run that builds a changed page is started by another process (the page
    sensor's run request): the intent carries its run key, and recovery spares it for a while.
    Call inside core.session.warehouse_session."""
    record = new_record(settings.source_url)
    try:
        decision = check_page(settings, record, fetcher, policy or settings.fetch_policy())
        if decision.changed:
            held = held_back(settings, decision.record, retry)
            if held:
                decision.changed, decision.record["message"] = False, held
        if not decision.changed:
            decision.record = conclude(settings, decision.record, "unchanged")
            return decision
        earlier = attempts(Archive(settings.raw_dir).fetches(), decision.record)
        decision.attempt = len(earlier)
        if handed_over:
            decision.record["run_key"] = decision.run_key
        decision.record = intend(settings, decision.record)
        return decision
    except RefreshError as e:
        concluded = conclude(settings, e.record or record, e.outcome, e.cause)
        raise RefreshError(concluded["outcome"], concluded["message"], concluded) from None
    except Exception as e:
        outcome, cause = outcome_of(e)
        concluded = conclude(settings, record, outcome, cause)
        raise RefreshError(concluded["outcome"], concluded["message"], concluded) from e


def held_back(settings: Settings, record: dict, retry: bool) -> str | None:
    """Why a changed page is not built now, from the log (None: build it). A build of it is
    already requested and not started yet; or the page is the version `kfor rollback` moved away
    from (the rollback holds until the page changes). A page whose last build against the same
    published version was rejected is refused again (RefreshError). `retry` builds anyway."""
    records = Archive(settings.raw_dir).fetches()
    queued = [r for r in pending(records) if r.get("run_key") and same_pair(r, record)
              and not stale_intent(settings, r)]
    if queued:
        return (f"a build of page version {record['content_sha256'][:12]} was requested by the "
                f"fetch of {queued[-1]['fetched_at'][:19]}Z and has not started yet")
    if retry:
        return None
    publications = [r for r in records if r.get("outcome") == "published"]
    if publications and publications[-1].get("source") == "rollback" \
            and publications[-1].get("compared_with") == record["content_sha256"]:
        return (f"page version {record['content_sha256'][:12]} is the one `kfor rollback` moved "
                "away from; the rollback holds until the page changes (`kfor refresh --retry` "
                "publishes it)")
    earlier = attempts(records, record)
    if earlier and earlier[-1]["outcome"].startswith("rejected"):
        raise RefreshError(
            earlier[-1]["outcome"],
            f"already refused against the published version by the fetch of "
            f"{earlier[-1]['fetched_at'][:19]}Z; not rebuilt (`kfor refresh --retry` builds it "
            "again after a fix)", record)
    return None


def same_pair(a: dict, b: dict) -> bool:
    return (a.get("content_sha256") == b.get("content_sha256")
            and a.get("compared_with") == b.get("compared_with"))


def attempts(records: list[dict], record: dict) -> list[dict]:
    """Earlier builds of the same version against the same published version, ended (published
    ones included: a page that flips back and forth gets a new run key each time)."""
    return [r for r in records if same_pair(r, record)
            and r.get("outcome") not in (None, BUILDING)
            and r.get("source") in ("live", "file", "archive")]


def stale_intent(settings: Settings, intent: dict) -> bool:
    """An intent handed to a run the daemon starts (it carries a run key) is spared by recovery
    while that run may still be waiting: its launch, then up to KFOR_LOCK_WAIT for the lock."""
    age = (datetime.now(UTC) - datetime.strptime(intent["fetched_at"], TIME_FORMAT)
           .replace(tzinfo=UTC)).total_seconds()
    return age > settings.lock_wait + HANDOVER_GRACE_S


HANDOVER_GRACE_S = 300  # the daemon's launch of a requested run, on top of KFOR_LOCK_WAIT


def check_page(settings: Settings, record: dict, fetcher, policy: FetchPolicy) -> Decision:
    """Fetch, archive and compare with the published version, filling in `record` (so whatever
    raises, the fetch is logged with what was learnt). Raises RefreshError for a failed fetch or
    an unreadable page. `fetcher(url, validators, policy)` is the fetch client."""
    archive = Archive(settings.raw_dir)
    archive.require_writable()  # a read-only archive fails before anything is fetched
    meta = settings.engine.published_meta()  # None when missing or damaged: rebuilt then
    record["compared_with"] = meta.get("content_sha256") if meta else None
    confirmed = validated_record(archive.fetches(), meta, record["url"])
    validators = Validators(confirmed.get("etag"), confirmed.get("last_modified")) \
        if confirmed else None
    warnings: list[str] = []
    try:
        result = fetcher(settings.source_url, validators, policy)
    except FetchError as e:
        record.update(status=e.status, attempts=e.attempts)
        if not (e.unreachable and settings.is_live_default):
            raise RefreshError(f"failed: {e.cause}", e.cause, record) from None
        result, origin = archived_fallback(archive)
        stale = staleness(settings, archive.fetches())
        offline = f"{e.cause}; offline, so using {origin}" + (f"; {stale}" if stale else "")
        record["message"] = offline
        warnings.append(f"warning: {offline}")
    record.update(source=result.source, status=result.status, etag=result.validators.etag,
                  last_modified=result.validators.last_modified,
                  content_type=result.content_type, attempts=result.attempts,
                  elapsed_ms=result.elapsed_ms)
    if result.not_modified:
        if not confirmed:
            raise RefreshError("failed: 304 Not Modified with no published version",
                               "the server answered 304 Not Modified to an unconditional request",
                               record)
        # the server confirms the body those validators came with
        record.update(body_sha256=confirmed["body_sha256"],
                      content_sha256=confirmed["content_sha256"],
                      etag=record["etag"] or confirmed.get("etag"),
                      last_modified=record["last_modified"] or confirmed.get("last_modified"))
        return Decision(record, changed=False, warnings=warnings)
    record.update(body_sha256=sha256(result.body), bytes=len(result.body))  # logged if store fails
    archive.store(result.body)
    if meta and record["body_sha256"] == meta.get("body_sha256"):
        record["content_sha256"] = meta["content_sha256"]
        return Decision(record, changed=False, warnings=warnings)
    try:
        page = parse_page(result.body, result.content_type, load_reference())
    except ParseError as e:
        raise RefreshError(f"rejected: parse:{e.check}", e.message, record) from None
    record["content_sha256"] = page.content_sha256
    changed = not meta or page.content_sha256 != meta.get("content_sha256")
    return Decision(record, changed=changed, page=page, warnings=warnings)


def validated_record(records, meta: dict | None, url: str) -> dict | None:
    """The fetch whose validators the next conditional GET of `url` sends: the newest successful
    fetch of that URL (redacted, as logged) that holds the published version and has an ETag or
    a Last-Modified, so a 304 confirms what is published. None with nothing published."""
    if not meta:
        return None
    found = None
    for record in records:
        if (record.get("outcome") in SUCCESS and record.get("url") == url
                and record.get("content_sha256") == meta.get("content_sha256")
                and record.get("body_sha256") and (record.get("etag")
                                                   or record.get("last_modified"))):
            found = record
        elif record.get("outcome") == "published":
            found = None  # another version was published since (a rollback, another source)
    return found


def archived_fallback(archive: Archive) -> tuple[FetchResult, str]:
    """The newest version a refresh published (an imported capture is older by nature: never
    this), else the bundled snapshot (source = archive), and words saying which. A newest version
    whose page is missing or damaged raises: falling back to an older one would publish it over
    the newer."""
    published = [r for r in archive.published() if r.get("source") != IMPORTED]
    if published:
        record = published[-1]
        return (FetchResult(url=record["url"], source="archive", status=None,
                            body=archive.load(record["body_sha256"])),
                f"the archived version published {record['fetched_at'][:10]} "
                f"({record['content_sha256'][:12]})")
    snapshot = layout.bundled_snapshot()
    return (FetchResult(url=snapshot.as_uri(), source="archive", status=None,
                        body=snapshot.read_bytes()),
            f"the bundled snapshot {snapshot.relative_to(layout.PROJECT_ROOT)}")
