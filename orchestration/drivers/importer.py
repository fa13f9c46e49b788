"""`kfor import SOURCE`: earlier versions of the page, from the web archives, into the page's own
history (issue 12). One import is:

    gather   outside the refresh lock: read the captures (a waybackpack directory, a WARC file, a
             lone saved .htm/.html page, or the Wayback CDX API for a URL, politely and
             resumably: orchestration.captures), keep those of the page's own hosts (rule I1),
             pass over those imported already (rule I2), archive each body by SHA-256 and read it
             with the historical requirements (rule L1). A capture that does not parse is
             rejected now, with its check, and never blocks the others; one whose version is
             known already is a sighting of it (rule V1).
    build    under the lock: what another import logged meanwhile is passed over too (decided
             again, so two imports at once log what one after the other would), then one run of
             the `refresh` job in mode `import`: the scratch file takes every published version
             and the captures, and dbt builds and audits it. When a check fails, the captures
             are halved (audit-only runs, nothing published) until the ones that fail are found;
             they are named and excluded, and the rest is built again.
    publish  one atomic rename, then every capture is logged once (published: a new version;
             unchanged: a sighting of a known one; rejected: <check>; failed: <why it could not be
             read>) and a summary printed. A capture imported after newer ones takes its place in
             valid-time order (rule V3). A capture of another site is not logged at all: it is
             named in the summary as skipped.

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
from urllib.parse import urlsplit

from orchestration.captures import (
    WAYBACK_CDX,
    WAYBACK_REPLAY,
    CdxDownload,
    CdxQuery,
    Revisit,
    Skipped,
    saved_page_captures,
    warc_captures,
    waybackpack_captures,
)
from orchestration.core.archive import IMPORTED, Archive, looks_like_html
from orchestration.core.decide import RefreshError
from orchestration.core.outcome import SUCCESS, TIME_FORMAT, conclude, intend, outcome_of
from orchestration.core.redact import redact_text, redact_url
from orchestration.core.reference import load_reference
from orchestration.core.session import warehouse_session
from orchestration.core.settings import Settings
from orchestration.drivers.launch import failure_of, launch
from orchestration.parsing import HISTORICAL, ParseError, parse_page

SOURCE = IMPORTED  # the fetch log's source of an imported capture (archive.IMPORTED)
# The page's own site under every name it has had (rule I1), beside the configured source's host.
PAGE_HOSTS = ("www.nato.int", "nato.int")


@dataclass
class Plan:
    """What the captures of one import became before the build: `groups` maps each version key to
    its capture records (the first of a new version says published, the rest unchanged), in
    capture order; `refused` are records already concluded-to-be (rejected, failed); `already`
    counts captures imported before (rule I2); `other_hosts` counts the captures of other sites
    by host (rule I1), which are neither archived nor logged."""

    groups: dict[str, list[dict]] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)
    handled: list = field(default_factory=list)  # items to mark done once logged
    already: int = 0
    other_hosts: Counter = field(default_factory=Counter)

    @property
    def records(self) -> list[dict]:
        return [r for g in self.groups.values() for r in g]


@dataclass
class Source:
    """An opened SOURCE: its items, how to mark one done (resumable CDX downloads), lines for the
    summary (how a saved page was dated), and how many captures an earlier run of the same CDX
    download finished (known once the items are read)."""

    items: Iterable
    mark_done: Callable = lambda item: None
    notes: list[str] = field(default_factory=list)
    earlier: Callable[[], int] = lambda: 0


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(TIME_FORMAT)


def capture_record(url: str, captured_at: datetime | None, origin) -> dict:
    return {"fetch_id": uuid.uuid4().hex, "fetched_at": stamp(datetime.now(UTC)),
            "captured_at": stamp(captured_at) if captured_at else None,
            "url": redact_url(url), "source": SOURCE, "message": redact_text(str(origin))}


def page_hosts(settings: Settings, allow: Iterable[str] = ()) -> frozenset[str]:
    """The hosts whose captures are the page's (rule I1): the configured source's, the site's
    known aliases, and any given with --allow-host."""
    hosts = {*PAGE_HOSTS, *(h.strip().lower() for h in allow if h.strip())}
    source = host_of(settings.source_url)
    if source:
        hosts.add(source)
    return frozenset(hosts)


def host_of(url: str | None) -> str | None:
    """The URL's host name, lower case, without port or user-info; None when it has none."""
    try:
        return (urlsplit(url or "").hostname or None) if url else None
    except ValueError:  # an invalid IPv6 literal, a port that is no number
        return None


def capture_keys(record: dict) -> set[tuple]:
    """What makes a capture the same capture (rule I2): its URL (as logged) and capture time, or
    its payload's SHA-256 and capture time."""
    at = record.get("captured_at")
    if not at:
        return set()
    keys = set()
    if record.get("url"):
        keys.add(("url", record["url"], at))
    if record.get("body_sha256"):
        keys.add(("payload", record["body_sha256"], at))
    return keys


def imported_captures(records: Iterable[dict]) -> dict[tuple, dict]:
    """Every key of every capture an import logged as seen (published or unchanged), to its
    record. A rejected or failed capture may be imported again (after a parser fix)."""
    found: dict[tuple, dict] = {}
    for record in records:
        if record.get("source") == SOURCE and record.get("outcome") in SUCCESS:
            for key in capture_keys(record):
                found.setdefault(key, record)
    return found


# -- gather ---------------------------------------------------------------------------------------

def open_source(settings: Settings, source: str, since: str | None = None,
                until: str | None = None, cdx: str = WAYBACK_CDX, replay: str = WAYBACK_REPLAY,
                rate: float = 1.0, progress: Callable[[str], None] | None = None,
                captured_at: datetime | None = None) -> Source:
    """SOURCE opened: a waybackpack directory, a WARC file, a lone saved page (a file that looks
    like HTML: one capture, dated by `captured_at` or else the file's modification time, rule
    I3), or the page's URL (then the CDX API)."""
    policy = settings.fetch_policy()
    path = Path(source)
    is_url = source.startswith(("http://", "https://"))
    saved = not is_url and path.is_file() and _saved_page(path)
    if captured_at is not None and not saved:
        raise ValueError(f"--captured-at dates a lone saved page; {source} is not one (its "
                         "captures carry their own times)")
    if is_url:
        download = CdxDownload(CdxQuery(source, since, until, endpoint=cdx, replay=replay),
                               settings.raw_dir / "imports", policy, rate=rate, progress=progress)
        return Source(download, download.done, earlier=lambda: download.earlier or 0)
    if path.is_dir():
        return Source(waybackpack_captures(path, policy))
    if saved:
        when = "given by --captured-at" if captured_at else "the file's modification time"
        items = list(saved_page_captures(path, settings.source_url, captured_at, policy))
        at = items[0].captured_at if items and items[0].captured_at else None
        note = (f"read {path} as one saved page, captured at "
                f"{stamp(at) if at else '?'} ({when})")
        return Source(items, notes=[note])
    if path.is_file():
        return Source(warc_captures(path, policy))
    raise ValueError(f"nothing to import at {source}: give a waybackpack directory, a WARC file, "
                     "a saved .htm/.html page or the page's http(s) URL (for the Wayback CDX API)")


def _saved_page(path: Path) -> bool:
    """A file whose first bytes look like HTML (archive.looks_like_html): a saved .htm/.html
    page. A WARC starts with "WARC/" or a gzip member; a file that is neither is no source."""
    try:
        with open(path, "rb") as f:
            return looks_like_html(f.read(1024))
    except OSError:
        return False


def plan(settings: Settings, items: Iterable, progress: Callable[[str], None],
         hosts: frozenset[str] | None = None) -> Plan:
    """Archive and read every capture of the page's hosts; sort them into versions, sightings,
    captures imported already and refusals."""
    archive, reference = Archive(settings.raw_dir), load_reference()
    hosts = hosts if hosts is not None else page_hosts(settings)
    records = archive.fetches()
    known = {r["content_sha256"] for r in records if r.get("outcome") == "published"}
    imported = imported_captures(records)
    by_digest: dict[str, dict] = {}  # an archive's payload digest -> the record of its body
    result = Plan()
    seen = 0

    def already(record: dict) -> bool:
        earlier = next((imported[k] for k in capture_keys(record) if k in imported), None)
        if earlier is None:
            return False
        result.already += 1
        return True

    for item in items:
        seen += 1
        result.handled.append(item)
        host = host_of(getattr(item, "url", None))
        if host is not None and host not in hosts:
            result.other_hosts[host] += 1  # not the page: neither archived nor logged (I1)
            continue
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
            if already(record):
                continue
            _add(result, record, "unchanged", imported)
            continue
        record = capture_record(item.url, item.captured_at, item.origin)
        record.update(body_sha256=item.body_sha256, bytes=len(item.body),
                      content_type=item.content_type)
        if already(record):
            logged = next(imported[k] for k in capture_keys(record) if k in imported)
            if item.digest:  # a revisit of it later in this source is still a sighting
                by_digest[item.digest] = {**record, "content_sha256": logged["content_sha256"]}
            continue
        archive.store(item.body)  # only a body that looks like HTML is kept
        try:
            page = parse_page(item.body, item.content_type, reference, requirements=HISTORICAL)
        except ParseError as e:
            result.refused.append({**record, "outcome": f"rejected: parse:{e.check}",
                                   "message": f"{e.message} ({record['message']})"})
            continue
        record["content_sha256"] = page.content_sha256
        group = result.groups.get(page.content_sha256, [])
        new = page.content_sha256 not in known and not group
        _add(result, record, "published" if new else "unchanged", imported)
        if item.digest:
            by_digest[item.digest] = record
        if seen % 10 == 0:
            progress(f"read {seen} captures")
    skipped = sum(result.other_hosts.values())
    progress(f"read {seen} captures: {len(result.groups)} versions, {len(result.refused)} refused"
             + (f", {result.already} imported already" if result.already else "")
             + (f", {skipped} of other hosts skipped" if skipped else ""))
    return result


def _add(result: Plan, record: dict, outcome: str, imported: dict[tuple, dict]) -> None:
    """Into its version's group; a second copy of it in this source is then imported already."""
    result.groups.setdefault(record["content_sha256"], []).append({**record, "outcome": outcome})
    for key in capture_keys(record):
        imported.setdefault(key, record)


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
                    verbose: bool = False, allow_hosts: Iterable[str] = (),
                    **source_options) -> dict:
    """`kfor import`: gather outside the lock, decide again, build and publish under it, log
    every capture of the page once."""
    started = time.monotonic()
    hosts = page_hosts(settings, allow_hosts)
    if source.startswith(("http://", "https://")) and host_of(source) not in hosts:
        # every capture the CDX API lists would be downloaded, then skipped (rule I1)
        raise ValueError(f"{redact_url(source)} is not on the page's hosts ({', '.join(sorted(hosts))}"
                         f"): give the page's URL, or allow the host with --allow-host")
    opened = open_source(settings, source, progress=say, **source_options)
    for note in opened.notes:
        say(note)
    found = plan(settings, opened.items, progress=lambda line: say(f"  {line}"), hosts=hosts)
    with warehouse_session(settings, wait=wait, say=say):
        records = Archive(settings.raw_dir).fetches()
        found.groups, meanwhile = still_new(found.groups, imported_captures(records))
        found.already += meanwhile
        known = {r["content_sha256"] for r in records if r.get("outcome") == "published"}
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
        opened.mark_done(item)
    return summary(found, accepted, rejected, time.monotonic() - started,
                   earlier=opened.earlier(), notes=opened.notes)


def still_new(groups: dict[str, list[dict]], imported: dict[tuple, dict]
              ) -> tuple[dict[str, list[dict]], int]:
    """The groups without the captures an import logged since the plan (rule I2, decided again
    under the lock), and how many those were."""
    kept: dict[str, list[dict]] = {}
    dropped = 0
    for version, group in groups.items():
        rest = [r for r in group if not capture_keys(r) & imported.keys()]
        dropped += len(group) - len(rest)
        if rest:
            kept[version] = rest
    return kept, dropped


def reseat(group: list[dict], known: set[str]) -> list[dict]:
    """A group's first record publishes a new version only while the version is still new."""
    first = "unchanged" if group[0]["content_sha256"] in known else "published"
    return [{**r, "outcome": first if i == 0 else "unchanged"} for i, r in enumerate(group)]


def summary(found: Plan, accepted, rejected, seconds: float, earlier: int = 0,
            notes: list[str] | None = None) -> dict:
    """What the import did. `ok` is false when the source gave no usable capture: none at all,
    or every one refused or of another host (the command then exits non-zero)."""
    reasons = Counter(r["outcome"] for r in found.refused)
    for group, outcome, _ in rejected:
        reasons[outcome] += len(group)
    published = [r for g in accepted for r in g]
    usable = len(published) + found.already + earlier
    return {"captures": len(found.handled),
            "new_versions": sum(r["outcome"] == "published" for r in published),
            "sightings": sum(r["outcome"] == "unchanged" for r in published),
            "already_imported": found.already,
            "done_earlier": earlier,
            "refused": dict(sorted(reasons.items())),
            "other_hosts": dict(sorted(found.other_hosts.items())),
            "notes": list(notes or []),
            "ok": usable > 0,
            "seconds": round(seconds, 1)}
