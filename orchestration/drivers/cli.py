"""The `kfor` command line. Each command ends with one clear line; exit 0 on success (published or
unchanged), non-zero otherwise (1 failed or refused, 2 a bad setting or option, 3 another refresh
of this warehouse is running). Tracebacks only with --verbose.

    kfor refresh [--source URL]   check the page; build and publish only when it changed
    kfor status                   what is published, where its files are, the last refreshes
    kfor replay                   rebuild the warehouse from every published version archived
    kfor import SOURCE            earlier versions from a waybackpack dir, a WARC file or the CDX API
    kfor rollback [--to FILE]     publish the previously published version again (twice = undo)
    kfor repair-log               rebuild a lost or damaged fetch log from the warehouse's copies
    kfor sql [-c QUERY]           the DuckDB shell (psql on Postgres), read-only on the warehouse
    kfor plot --out DIR           the plots of the published warehouse as PNGs (DuckDB)
    kfor grant-reader             Postgres: the read-only role kfor_reader, granted the published
                                  schemas (each publish moves the grant along)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from orchestration.core.settings import MAX_WAIT, SettingsError, number, seconds
from orchestration.core.settings import get as get_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


def wait_option(value: str) -> float:
    try:
        return seconds("--wait", value)
    except SettingsError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def count_option(value: str) -> int:
    try:
        return int(number("-n", value, low=1, high=100_000, whole=True))
    except SettingsError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def rate_option(value: str) -> float:
    try:
        return number("--rate", value, low=0.01, high=100)
    except SettingsError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kfor", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and logs")
    sub = parser.add_subparsers(dest="command", required=True)
    wait = {"type": wait_option, "default": 0.0, "metavar": "SECONDS",
            "help": f"wait this long for a running refresh of this warehouse (0 to {MAX_WAIT:g}; "
                    "default: do not wait)"}
    p = sub.add_parser("refresh", help="check the page; build and publish it when it changed")
    p.add_argument("--source", help="page URL (http, https or file); default KFOR_SOURCE_URL or "
                                    "NATO's live page")
    p.add_argument("--wait", **wait)
    p.add_argument("--retry", action="store_true",
                   help="build a page even when it was already rejected against the published "
                        "version (after a fix in the corrections seed or the code)")
    p.set_defaults(run=refresh)
    p = sub.add_parser("status", help="what is published, where its files are, the last refreshes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-n", type=count_option, default=10, help="how many refreshes to list")
    p.set_defaults(run=status)
    p = sub.add_parser("replay", help="rebuild the warehouse from every published version in "
                                      "the archive")
    p.add_argument("--wait", **wait)
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
    p.add_argument("--rate", type=rate_option, default=1.0, metavar="PER_SECOND",
                   help="CDX only: at most this many requests a second (default 1)")
    p.add_argument("--captured-at", type=captured_at, default=None, metavar="TIME",
                   help="a lone saved page only: when it was captured (ISO 8601, UTC unless it "
                        "says otherwise, or YYYYMMDDhhmmss); default the file's modification time")
    p.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                   help="also take captures of HOST (repeatable); by default only the page's own "
                        "hosts: the source's, www.nato.int and nato.int")
    p.add_argument("--wait", **wait)
    p.set_defaults(run=import_)
    p = sub.add_parser("rollback", help="publish the previously published version again")
    p.add_argument("--to", metavar="FILE", help="one of this warehouse's kept versions (see "
                                                "--list; default: the previous version)")
    p.add_argument("--list", action="store_true", help="list this warehouse's kept versions")
    p.add_argument("--wait", **wait)
    p.set_defaults(run=rollback)
    p = sub.add_parser("repair-log", help="rebuild a lost, cut or damaged fetch log from the "
                                          "published warehouse's and its kept versions' copies")
    p.set_defaults(run=repair_log)
    p = sub.add_parser("sql", help="the DuckDB shell (duckdb-cli), or psql for a Postgres "
                                   "warehouse, read-only on the published warehouse; -c runs one "
                                   "query and exits")
    p.add_argument("-c", dest="query", metavar="QUERY", help="run this query and exit")
    p.add_argument("--csv", action="store_true", help="print CSV (with -c)")
    p.set_defaults(run=sql)
    p = sub.add_parser("plot", help="render the plots of the published warehouse as PNGs")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the PNGs into")
    p.set_defaults(run=plot)
    p = sub.add_parser("grant-reader", help="Postgres: create the read-only role kfor_reader "
                                            "(NOLOGIN; BI tools log in as its members) and grant "
                                            "it the published schemas")
    p.set_defaults(run=grant_reader)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # a command-line run: `kfor status | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = parser().parse_args(argv)
    get_settings.cache_clear()  # one command, one reading of the settings (tests call main often)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    # On the handler, so libraries' own logger levels (Dagster's INFO) cannot bypass it.
    logging.getLogger().handlers[0].setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SettingsError as e:
        print(f"invalid setting: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # one clear line; the traceback only on request
        if args.verbose:
            traceback.print_exc()
        print(f"error: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr)
        return EXIT_FAILED


def done(action):
    """Run a refresh-like action. A running refresh, a refusal or a RefreshError ends as one line
    on stderr and an exit code (the action has already logged and alerted). Returns (result,
    exit code)."""
    from orchestration.core.decide import RefreshError
    from orchestration.core.lock import RefreshBusy
    from orchestration.drivers.rollback import RollbackRefused

    try:
        return action(), EXIT_OK
    except RefreshBusy as e:
        print(str(e), file=sys.stderr)
        return None, EXIT_BUSY
    except RollbackRefused as e:
        print(f"refused: {e}", file=sys.stderr)
        return None, EXIT_FAILED
    except RefreshError as e:
        print(outcome_line(e.outcome, e.cause), file=sys.stderr)
        return None, EXIT_FAILED


def outcome_line(outcome: str, cause: str | None) -> str:
    """One line: the logged outcome, and the detail when it adds something."""
    from orchestration.core.outcome import one_line

    line = outcome if not cause or cause in outcome or outcome.startswith("failed") \
        else f"{outcome} ({cause})"
    return one_line(line)


def captured_at(value: str):
    """--captured-at: an ISO 8601 time (UTC when it names no zone) or a 14-digit Wayback
    timestamp; never later than now."""
    from datetime import UTC, datetime

    from orchestration.captures import wayback_time

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
    from orchestration.captures import WAYBACK_CDX, WAYBACK_REPLAY, CaptureSourceError
    from orchestration.drivers.importer import import_captures

    settings = get_settings()
    options = {"since": args.since, "until": args.until, "cdx": args.cdx or WAYBACK_CDX,
               "replay": args.replay or WAYBACK_REPLAY, "rate": args.rate,
               "captured_at": args.captured_at, "allow_hosts": args.allow_host}
    try:
        result, code = done(lambda: import_captures(settings, args.source, say=_say,
                                                    wait=args.wait, verbose=args.verbose,
                                                    **options))
    except (CaptureSourceError, ValueError) as e:  # the whole source: one line saying why
        print(f"failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    if code != EXIT_OK:
        return code
    print(import_line(result, settings.warehouse_name))
    if not result["ok"]:
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


def _elapsed(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


def refresh(args) -> int:
    from orchestration.drivers.refresh import refresh as run_refresh

    started = time.monotonic()
    settings = get_settings().with_source(args.source)
    decision, code = done(lambda: run_refresh(settings, wait=args.wait, say=_say,
                                              verbose=args.verbose, retry=args.retry))
    if code != EXIT_OK:
        return code
    if not decision.changed:
        why = decision.record.get("message") or (
            f"page version {decision.record['content_sha256'][:12]} is already published")
        print(f"unchanged: {why} ({_elapsed(started)})")
        return EXIT_OK
    page = decision.page
    print(f"published: page version {page.content_sha256[:12]} (last updated "
          f"{page.last_updated_text}; {len(page.commanders)} commanders, "
          f"{len(page.troop_figures)} troop figures) to {settings.warehouse_name} "
          f"({_elapsed(started)})")
    return EXIT_OK


def replay(args) -> int:
    from orchestration.drivers.refresh import replay as run_replay

    started = time.monotonic()
    settings = get_settings()
    result, code = done(lambda: run_replay(settings, wait=args.wait, say=_say,
                                           verbose=args.verbose))
    if code == EXIT_OK:
        print(f"replayed: {result['publications']} publications of {result['versions']} "
              f"versions into {settings.warehouse_name} ({_elapsed(started)})")
    return code


def rollback(args) -> int:
    from orchestration.drivers.rollback import rollback as run_rollback

    settings = get_settings()
    if args.list:
        for kept in settings.engine.kept():
            print(kept)
        return EXIT_OK
    result, code = done(lambda: run_rollback(settings, args.to, wait=args.wait, say=_say,
                                             verbose=args.verbose))
    if code == EXIT_OK:
        undo = "run `kfor rollback` again to undo" if result["kept"] else \
            "KFOR_KEEP=0: the replaced file was not kept, so this cannot be undone"
        print(f"rolled back: page version {(result['from'] or '?')[:12]} -> "
              f"{(result['to'] or '?')[:12]} ({result['file']}); {undo}")
    return code


def repair_log(args) -> int:
    from orchestration.drivers.repair import repair_log as run_repair

    _, code = done(lambda: run_repair(get_settings(), say=_say))
    return code


def status(args) -> int:
    from orchestration.drivers.status import status as show

    return EXIT_OK if show(get_settings(), n=args.n, as_json=args.json) else EXIT_FAILED


def _published_or_exit():
    settings = get_settings()
    if settings.postgres is not None:
        print(f"{settings.warehouse_name} is a Postgres warehouse: plot it with a BI tool "
              "(docs/bi.md); `kfor plot` reads a DuckDB file", file=sys.stderr)
        return None
    published = settings.warehouse
    if not published.exists():
        print(f"nothing published yet at {published}; run `kfor refresh`", file=sys.stderr)
        return None
    return published


def sql(args) -> int:
    """Hand over to the DuckDB shell from PyPI (duckdb-cli), or to psql for a Postgres
    warehouse, read-only."""
    if get_settings().postgres is not None:
        return psql(args)
    published = _published_or_exit()
    if published is None:
        return EXIT_FAILED
    shell = _beside_or_on_path("duckdb")
    if not shell:
        print("the DuckDB shell is not installed (pip install duckdb-cli)", file=sys.stderr)
        return EXIT_FAILED
    argv = [shell, "-readonly", *(["-csv"] if args.csv else []), str(published)]
    if args.query:
        argv += ["-c", args.query]
    sys.stdout.flush()
    os.execv(shell, argv)


def psql(args) -> int:
    """psql on the warehouse's database, every transaction read-only (libpq's PGOPTIONS); the
    password from PGPASSWORD or ~/.pgpass, as for a refresh."""
    server = get_settings().postgres
    shell = _beside_or_on_path("psql")
    if not shell:
        print("psql is not installed (Debian: apt install postgresql-client; macOS: brew install "
              "libpq)", file=sys.stderr)
        return EXIT_FAILED
    argv = [shell, "--no-psqlrc", *(["--csv"] if args.csv else []),
            *(["-c", args.query] if args.query else []), server.url]
    options = os.environ.get("PGOPTIONS", "")
    os.environ["PGOPTIONS"] = f"{options} -c default_transaction_read_only=on".strip()
    sys.stdout.flush()
    os.execv(shell, argv)


def _beside_or_on_path(name: str) -> str | None:
    import shutil

    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def grant_reader(args) -> int:
    from orchestration.core.engine import BLIND_SWAP
    from orchestration.core.pg_warehouse import READER_ROLE, ensure_reader, sees_other_sessions

    settings = get_settings()
    if settings.postgres is None:
        print(f"refused: {settings.warehouse_name} is a DuckDB file; readers open it read-only "
              "(`kfor sql`, docs/bi.md), there is no role to grant", file=sys.stderr)
        return EXIT_FAILED
    ensure_reader(settings.postgres)
    if not sees_other_sessions(settings.postgres):
        print(f"warning: {BLIND_SWAP}", file=sys.stderr)
    print(f"granted: the role {READER_ROLE} reads the published schemas of "
          f"{settings.warehouse_name} and nothing else; give a login role it "
          f"(CREATE ROLE metabase LOGIN IN ROLE {READER_ROLE})")
    return EXIT_OK


def plot(args) -> int:
    from orchestration.core.plots import render_plots

    published = _published_or_exit()
    if published is None:
        return EXIT_FAILED
    out = Path(args.out)
    try:
        written = render_plots(published, out)
    except (FileExistsError, NotADirectoryError):  # a file (or a dangling link) in its way
        print(f"refused: --out {out} is a file or lies under one; give the folder the plots go to",
              file=sys.stderr)
        return EXIT_FAILED
    for path in written:
        print(path)
    return EXIT_OK


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
