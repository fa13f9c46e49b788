"""`kfor import SOURCE`: earlier versions of the page, from the web archives, into the page's own
history (issue 12). One import is:

    gather   outside the refresh lock: read the captures (a waybackpack directory, a WARC file, or
             the Wayback CDX API for a URL, politely and resumably: orchestration.captures),
             archive each body by SHA-256 and read it with the historical requirements (rule L1).
             A capture that does not parse is rejected now, with its check, and never blocks the
             others; one whose version is known already is a sighting of it (rule V1).
    build    under the lock: one run of the `refresh` job in mode `import`: the scratch file takes
             every published version and the captures, and dbt builds and audits it. When a check
             fails, the captures are halved (audit-only runs, nothing published) until the ones
             that fail are found; they are named and excluded, and the rest is built again.
    publish  one atomic rename, then every capture is logged once (published: a new version;
             unchanged: a sighting of a known one; rejected: <check>; failed: <why it could not be
             read>) and a summary printed. A capture imported after newer ones takes its place in
             valid-time order (rule V3).

Every run is recorded in the Dagster instance like a refresh (tagged kfor/started_by=import). The
fetch log stays the one record of what was seen: the captures of a run that may publish get intent
records first, so an interrupted import is settled by recovery (published when the published file
holds them, else failed: interrupted); downloads already done by the CDX client are not repeated
until their capture is logged."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestration.captures import (
    WAYBACK_CDX,
    WAYBACK_REPLAY,
    CdxDownload,
    CdxQuery,
    Revisit,
    Skipped,
    warc_captures,
    waybackpack_captures,
)
from orchestration.core.archive import IMPORTED, Archive
from orchestration.core.decide import RefreshError
from orchestration.core.outcome import TIME_FORMAT, conclude, intend, outcome_of
from orchestration.core.redact import redact_url
from orchestration.core.reference import load_reference
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings
from orchestration.drivers.launch import failure_of, launch
from orchestration.parsing import HISTORICAL, ParseError, parse_page

SOURCE = IMPORTED  # the fetch log's source of an imported capture (archive.IMPORTED)


@dataclass
class Plan:
    """What the captures of one import became before the build: `groups` maps each version key to
    its capture records (the first of a new version says published, the rest unchanged), in
    capture order; `refused` are records already concluded-to-be (rejected, failed)."""

    groups: dict[str, list[dict]] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)
    handled: list = field(default_factory=list)  # items to mark done once logged

    @property
    def records(self) -> list[dict]:
        return [r for g in self.groups.values() for r in g]


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(TIME_FORMAT)


def capture_record(url: str, captured_at: datetime | None, origin) -> dict:
    return {"fetch_id": uuid.uuid4().hex, "fetched_at": stamp(datetime.now(UTC)),
            "captured_at": stamp(captured_at) if captured_at else None,
            "url": redact_url(url), "source": SOURCE, "message": str(origin)}


# -- gather ---------------------------------------------------------------------------------------

def open_source(settings: Settings, source: str, since: str | None = None,
                until: str | None = None, cdx: str = WAYBACK_CDX, replay: str = WAYBACK_REPLAY,
                rate: float = 1.0, progress: Callable[[str], None] | None = None):
    """The captures of SOURCE, and a function that marks one done (resumable CDX downloads).
    SOURCE is a waybackpack directory, a WARC file, or the page's URL (then the CDX API)."""
    policy = settings.fetch_policy()
    if source.startswith(("http://", "https://")):
        download = CdxDownload(CdxQuery(source, since, until, endpoint=cdx, replay=replay),
                               settings.raw_dir / "imports", policy, rate=rate, progress=progress)
        return download, download.done
    path = Path(source)
    if path.is_dir():
        return waybackpack_captures(path, policy), lambda item: None
    if path.is_file():
        return warc_captures(path, policy), lambda item: None
    raise ValueError(f"nothing to import at {source}: give a waybackpack directory, a WARC file "
                     "or the page's http(s) URL (for the Wayback CDX API)")


def plan(settings: Settings, items: Iterable, progress: Callable[[str], None]) -> Plan:
    """Archive and read every capture; sort them into versions, sightings and refusals."""
    archive, reference = Archive(settings.raw_dir), load_reference()
    known = {r["content_sha256"] for r in archive.published()}
    by_digest: dict[str, dict] = {}
    result = Plan()
    seen = 0
    for item in items:
        seen += 1
        result.handled.append(item)
        if isinstance(item, Skipped):
            record = capture_record(item.url or "", item.captured_at, item.origin)
            result.refused.append({**record, "outcome": f"failed: {item.reason}"})
            continue
        if isinstance(item, Revisit):
            earlier = by_digest.get(item.digest)
            record = capture_record(item.url, item.captured_at, item.origin)
            if earlier is None:
                result.refused.append({**record, "outcome": "failed: a revisit of a payload this "
                                                            f"import has no capture of ({item.digest})"})
                continue
            record.update({k: earlier[k] for k in ("body_sha256", "content_sha256", "bytes",
                                                   "content_type")})
            result.groups.setdefault(record["content_sha256"], []).append(
                {**record, "outcome": "unchanged"})
            continue
        record = capture_record(item.url, item.captured_at, item.origin)
        # only a body that looks like HTML is kept; any other is logged by hash and size
        record.update(body_sha256=archive.store(item.body), bytes=len(item.body),
                      content_type=item.content_type)
        try:
            page = parse_page(item.body, item.content_type, reference, requirements=HISTORICAL)
        except ParseError as e:
            result.refused.append({**record, "outcome": f"rejected: parse:{e.check}",
                                   "message": f"{e.message} ({record['message']})"})
            continue
        record["content_sha256"] = page.content_sha256
        group = result.groups.setdefault(page.content_sha256, [])
        new = page.content_sha256 not in known and not group
        group.append({**record, "outcome": "published" if new else "unchanged"})
        if item.digest:
            by_digest[item.digest] = record
        if seen % 10 == 0:
            progress(f"read {seen} captures")
    progress(f"read {seen} captures: {len(result.groups)} versions, {len(result.refused)} refused")
    return result


# -- build ----------------------------------------------------------------------------------------

def build(settings: Settings, groups: list[list[dict]], say, intended: dict[str, dict],
          verbose: bool = False) -> tuple[list[list[dict]], list[tuple[list[dict], str, str]]]:
    """Publish the groups that pass every check; returns (accepted, [(group, outcome, cause)]).
    The first run publishes when everything passes; otherwise audit-only runs halve the groups to
    find the failing ones (each named with its check), and a last run publishes the rest. Before
    a run that may publish, each of its captures gets an intent record (once: `intended`), so a
    kill mid-run is settled by recovery like any interrupted refresh."""

    def attempt(included: list[list[dict]], publish: bool) -> RefreshError | None:
        records = [r for g in included for r in g]
        if publish:
            for record in records:
                if record["fetch_id"] not in intended:
                    intended[record["fetch_id"]] = intend(settings, record)
        result = launch(settings, "refresh", "import", verbose=verbose, mode="import",
                        captures=json.dumps(records), publish=publish)
        if result.success:
            return None
        outcome, cause = failure_of(result)
        if not outcome.startswith("rejected"):  # not the captures' fault (disk full, a damaged
            raise RefreshError(outcome, cause)  # warehouse): stop
        return RefreshError(outcome, cause)

    if not groups:
        return [], []
    error = attempt(groups, publish=True)
    if error is None:
        return groups, []
    say(f"  {error.outcome}: finding the captures that fail it")
    accepted: list[list[dict]] = []
    rejected: list[tuple[list[dict], str, str]] = []

    def add(part: list[list[dict]], known_error: RefreshError | None = None) -> None:
        error = known_error or attempt(accepted + part, publish=False)
        if error is None:
            accepted.extend(part)
        elif len(part) == 1:
            rejected.append((part[0], error.outcome, error.cause))
            say(f"  excluded {describe(part[0][0])}: {error.outcome}")
        else:
            middle = len(part) // 2
            add(part[:middle])
            add(part[middle:])

    add(groups, error)
    if accepted:
        final = attempt(accepted, publish=True)
        if final is not None:  # the halving said these pass together: a check that is not
            raise RefreshError(final.outcome, f"the captures that passed alone fail together: "
                                              f"{final.cause}", None)
    return accepted, rejected


def describe(record: dict) -> str:
    return f"the capture of {record.get('captured_at') or record.get('fetched_at')} ({record['message']})"


# -- the command ----------------------------------------------------------------------------------

def import_captures(settings: Settings, source: str, say=print, wait: float = 0.0,
                    verbose: bool = False, **source_options) -> dict:
    """`kfor import`: gather outside the lock, build and publish under it, log every capture."""
    started = time.monotonic()
    items, mark_done = open_source(settings, source, progress=say, **source_options)
    found = plan(settings, items, progress=lambda line: say(f"  {line}"))
    with warehouse_session(settings, wait=wait, say=say):
        known = {r["content_sha256"] for r in Archive(settings.raw_dir).published()}
        groups = [reseat(g, known) for g in found.groups.values()]  # another import may have run
        intended: dict[str, dict] = {}
        try:
            accepted, rejected = build(settings, groups, say, intended, verbose=verbose)
        except Exception as e:  # the captures this import announced end failed, naming why
            outcome, cause = (e.outcome, e.cause) if isinstance(e, RefreshError) else outcome_of(e)
            for record in intended.values():
                conclude(settings, record, outcome, cause, alert=False)
            raise
        for group in accepted:
            for record in group:
                conclude(settings, record, record["outcome"], record.get("message"), alert=False)
        for group, outcome, cause in rejected:
            for record in group:
                conclude(settings, record, outcome, f"{cause} ({record['message']})", alert=False)
        for record in found.refused:
            conclude(settings, record, record["outcome"], record.get("message"), alert=False)
    for item in found.handled:
        mark_done(item)
    return summary(found, accepted, rejected, time.monotonic() - started)


def reseat(group: list[dict], known: set[str]) -> list[dict]:
    """A group's first record publishes a new version only while the version is still new."""
    first = "unchanged" if group[0]["content_sha256"] in known else "published"
    return [{**r, "outcome": first if i == 0 else "unchanged"} for i, r in enumerate(group)]


def summary(found: Plan, accepted, rejected, seconds: float) -> dict:
    reasons = Counter(r["outcome"] for r in found.refused)
    for group, outcome, _ in rejected:
        reasons[outcome] += len(group)
    published = [r for g in accepted for r in g]
    return {"captures": len(found.handled),
            "new_versions": sum(r["outcome"] == "published" for r in published),
            "sightings": sum(r["outcome"] == "unchanged" for r in published),
            "refused": dict(sorted(reasons.items())),
            "seconds": round(seconds, 1)}
