"""The `kfor` command line. Each command ends with one clear line; exit 0 on success (published or
unchanged), non-zero otherwise. Tracebacks only with --verbose.

    kfor refresh [--source URL]   check the page; build and publish only when it changed
    kfor status                   what is published, and the last refreshes' outcomes
    kfor replay                   rebuild the warehouse from every published version archived
    kfor import SOURCE            earlier versions from a waybackpack dir, a WARC file or the CDX API
    kfor rollback [--to FILE]     re-publish the previously published file (twice = undo)
    kfor sql [-c QUERY]           the DuckDB shell, read-only on the published file
    kfor plot --out DIR           the troop drawdown and commanders timeline as PNGs
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from .settings import get as get_settings

EXIT_OK, EXIT_FAILED, EXIT_BUSY, EXIT_USAGE = 0, 1, 3, 2


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # a command-line run: `kfor status | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(prog="kfor", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and logs")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("refresh", help="check the page; build and publish it when it changed")
    p.add_argument("--source", help="page URL (http, https or file); default KFOR_SOURCE_URL or "
                                    "NATO's live page")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for a running refresh to finish (default: do not wait)")
    p.set_defaults(run=refresh)
    p = sub.add_parser("status", help="what is published, and the last refreshes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-n", type=int, default=10, help="how many refreshes to list (default 10)")
    p.set_defaults(run=status)
    p = sub.add_parser("replay", help="rebuild the warehouse from every published version in "
                                      "the archive, in fetch-log order")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    p.set_defaults(run=replay)
    p = sub.add_parser("import", help="bring in earlier versions of the page from archived "
                                      "captures; one build and publish at the end")
    p.add_argument("source", metavar="SOURCE",
                   help="a directory written by waybackpack, a WARC file, or the page's http(s) "
                        "URL to list its captures from the Wayback CDX API")
    p.add_argument("--from", dest="since", metavar="TIMESTAMP",
                   help="CDX only: the first capture time (YYYY[MMDDhhmmss])")
    p.add_argument("--to", dest="until", metavar="TIMESTAMP",
                   help="CDX only: the last capture time (YYYY[MMDDhhmmss])")
    p.add_argument("--cdx", default=None, metavar="URL",
                   help="CDX only: the CDX API (default the Wayback Machine's)")
    p.add_argument("--replay", default=None, metavar="URL",
                   help="CDX only: where captures are replayed from (default the Wayback Machine)")
    p.add_argument("--rate", type=float, default=1.0, metavar="PER_SECOND",
                   help="CDX only: at most this many requests a second (default 1)")
    p.add_argument("--captured-at", type=captured_at, default=None, metavar="TIME",
                   help="a lone saved page only: when it was captured (ISO 8601, UTC unless it "
                        "says otherwise, or YYYYMMDDhhmmss); default the file's modification time")
    p.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                   help="also take captures of HOST (repeatable); by default only the page's own "
                        "hosts: the source's, www.nato.int and nato.int")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    p.set_defaults(run=import_)
    p = sub.add_parser("rollback", help="re-publish the file the last publish replaced")
    p.add_argument("--to", help="a file under warehouse/history/ (default: the newest)")
    p.add_argument("--list", action="store_true", help="list the kept files and exit")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    p.set_defaults(run=rollback)
    p = sub.add_parser("sql", help="the DuckDB shell (duckdb-cli), read-only on the published "
                                   "warehouse; -c runs one query and exits")
    p.add_argument("-c", dest="query", metavar="QUERY", help="run this query and exit")
    p.add_argument("--csv", action="store_true", help="print CSV (with -c)")
    p.set_defaults(run=sql)
    p = sub.add_parser("plot", help="render the plots of the published warehouse as PNGs")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the PNGs into")
    p.set_defaults(run=plot)
    args = parser.parse_args(argv)
    get_settings.cache_clear()  # one command, one reading of the settings (tests call main often)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    # On the handler, so libraries' own logger levels (Dagster's INFO) cannot bypass it.
    logging.getLogger().handlers[0].setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one clear line; the traceback only on request
        if args.verbose:
            traceback.print_exc()
        print(f"error: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr)
        return EXIT_FAILED


def locked(action):
    """Run a refresh-like action. A running refresh or a RefreshError ends as one line on stderr
    and an exit code (the action has already logged and alerted). Returns (result, exit code)."""
    from .lock import RefreshBusy
    from .refresh import RefreshError

    try:
        return action(), EXIT_OK
    except RefreshBusy as e:
        print(str(e), file=sys.stderr)
        return None, EXIT_BUSY
    except RefreshError as e:
        print(outcome_line(e.outcome, e.cause), file=sys.stderr)
        return None, EXIT_FAILED


def captured_at(value: str):
    """--captured-at: an ISO 8601 time (UTC when it names no zone) or a 14-digit Wayback
    timestamp; never later than now."""
    from datetime import UTC, datetime

    from .captures import wayback_time

    try:
        when = wayback_time(value) if value.isdigit() else datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time (give ISO 8601, e.g. "
                                         "2023-11-21T08:00:00Z, or YYYYMMDDhhmmss)") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > datetime.now(UTC):
        raise argparse.ArgumentTypeError(f"{value!r} is in the future: a capture cannot be")
    return when.astimezone(UTC)


def import_(args) -> int:
    """Exit 0 when the source gave at least one usable capture (imported now or before), else
    non-zero with the summary line all the same."""
    from .captures import WAYBACK_CDX, WAYBACK_REPLAY, CaptureSourceError
    from .importer import import_captures

    settings = get_settings()
    options = {"since": args.since, "until": args.until, "cdx": args.cdx or WAYBACK_CDX,
               "replay": args.replay or WAYBACK_REPLAY, "rate": args.rate,
               "captured_at": args.captured_at, "allow_hosts": args.allow_host}
    try:
        done, code = locked(lambda: import_captures(settings, args.source, say=_say,
                                                    wait=args.wait, verbose=args.verbose,
                                                    **options))
    except (CaptureSourceError, ValueError) as e:  # the whole source: one line saying why
        print(f"failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    if code != EXIT_OK:
        return code
    print(import_line(done, settings.warehouse))
    if not done["ok"]:
        print(f"failed: no capture in {args.source} could be imported", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def import_line(done: dict, warehouse) -> str:
    refused = "; ".join(f"{why}: {n}" for why, n in done["refused"].items()) or "none"
    others = "; ".join(f"{host}: {n}" for host, n in done["other_hosts"].items())
    return (f"imported: {done['captures']} captures seen, {done['new_versions']} new versions, "
            f"{done['sightings']} sightings of known versions, "
            f"{done['already_imported']} already imported, "
            + (f"{done['done_earlier']} done by an earlier run, " if done["done_earlier"] else "")
            + f"refused: {refused}; "
            + (f"skipped (not the page's host, see --allow-host): {others}; " if others else "")
            + "".join(f"{note}; " for note in done["notes"])
            + f"into {warehouse} ({done['seconds']} s)")


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def refresh(args) -> int:
    from . import refresh as path

    started = time.monotonic()
    settings = get_settings().with_source(args.source)
    check, code = locked(lambda: path.refresh(settings, wait=args.wait, say=_say,
                                                verbose=args.verbose))
    if code != EXIT_OK:
        return code
    if not check.changed:
        print(f"unchanged: page version {check.record['content_sha256'][:12]} is already "
              f"published ({_elapsed(started)})")
        return EXIT_OK
    page = check.page
    print(f"published: page version {page.content_sha256[:12]} (last updated "
          f"{page.last_updated_text}; {len(page.commanders)} commanders, "
          f"{len(page.troop_figures)} troop figures) to {settings.warehouse} "
          f"({_elapsed(started)})")
    return EXIT_OK


def outcome_line(outcome: str, cause: str | None) -> str:
    """One line: the logged outcome, and the detail when it adds something."""
    from .outcome import one_line

    line = outcome if not cause or cause in outcome or outcome.startswith("failed") \
        else f"{outcome} ({cause})"
    return one_line(line)


def replay(args) -> int:
    from . import refresh as path

    started = time.monotonic()
    settings = get_settings()
    done, code = locked(lambda: path.replay(settings, wait=args.wait, say=_say,
                                              verbose=args.verbose))
    if code == EXIT_OK:
        print(f"replayed: {done['publications']} publications of {done['versions']} versions "
              f"into {settings.warehouse} ({_elapsed(started)})")
    return code


def rollback(args) -> int:
    from .publish import history
    from .rollback import rollback as roll_back

    settings = get_settings()
    if args.list:
        for path in history(settings):
            print(path)
        return EXIT_OK
    done, code = locked(lambda: roll_back(settings, args.to, wait=args.wait))
    if code == EXIT_OK:
        print(f"rolled back: page version {(done['from'] or '?')[:12]} -> "
              f"{(done['to'] or '?')[:12]} ({done['file']}); run `kfor rollback` again to undo")
    return code


def _published_or_exit():
    published = get_settings().warehouse
    if not published.exists():
        print(f"nothing published yet at {published}; run `kfor refresh`", file=sys.stderr)
        return None
    return published


def sql(args) -> int:
    """Hand over to the DuckDB shell from PyPI (duckdb-cli), read-only."""
    import shutil

    published = _published_or_exit()
    if published is None:
        return EXIT_FAILED
    shell = Path(sys.executable).with_name("duckdb")
    shell = str(shell) if shell.exists() else shutil.which("duckdb")
    if not shell:
        print("the DuckDB shell is not installed (pip install duckdb-cli)", file=sys.stderr)
        return EXIT_FAILED
    argv = [shell, "-readonly", *(["-csv"] if args.csv else []), str(published)]
    if args.query:
        argv += ["-c", args.query]
    sys.stdout.flush()
    os.execv(shell, argv)


def plot(args) -> int:
    from .plots import render_plots

    published = _published_or_exit()
    if published is None:
        return EXIT_FAILED
    for path in render_plots(published, Path(args.out)):
        print(path)
    return EXIT_OK


def status(args) -> int:
    from .archive import Archive
    from .outcome import freshness, last_fresh_fetch
    from .publish import mart_counts, read_meta

    settings = get_settings()
    published = settings.warehouse
    meta = read_meta(published)
    records = list(Archive(settings.raw_dir).records())
    counts = mart_counts(published) if meta else {}
    age_h, stale = freshness(settings, records)  # of the source itself: fallbacks do not count
    last = last_fresh_fetch(records)
    if args.json:
        print(json.dumps({"warehouse": str(published), "published": meta, "row_counts": counts,
                          "hours_since_last_successful_fetch": age_h,
                          "last_successful_fetch_at": last and last["fetched_at"],
                          "stale": stale, "freshness_hours": settings.freshness_hours,
                          "dagster_home": str(settings.dagster_home),
                          "refreshes": records[-args.n:]}, indent=2, default=str))
        return EXIT_OK
    if not meta:
        print(f"nothing published yet at {published}; run `kfor refresh`")
    else:
        print(f"published: {published}")
        print(f"  page version {meta['content_sha256'][:12]}  last updated "
              f"{meta['page_last_updated']}  published {meta['published_at']} UTC from "
              f"{meta['source']} ({meta['source_url']})")
        print("  rows: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    fetched = (f"last successful fetch of the source {age_h:.1f} h ago" if age_h is not None
               else "no successful fetch of the source yet")
    print(f"  freshness: {fetched} (archive fallbacks do not count); stale after "
          f"{settings.freshness_hours} h" + (" -> STALE" if stale else ""))
    print(f"  runs: Dagster instance in {settings.dagster_home} (`make dev` shows it)")
    print(f"last refreshes ({min(args.n, len(records))} of {len(records)}):")
    for r in records[-args.n:]:
        version = (r.get("content_sha256") or "")[:12] or "-"
        print(f"  {r['fetched_at'][:19].replace('T', ' ')}  {r.get('source') or '-':7}  "
              f"{version:12}  {r.get('outcome')}")
    return EXIT_OK


def _elapsed(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
