"""`make bench`: the cost of a refresh against the anchor a user would compare with (a bare, warm
`dbt build` on the same project and data), measured side by side in one run. Prints a table and
writes bench/results.json. Targets are ratios (and one time), checked here, never in timed tests.

    a  kfor refresh, changed page, plots included (fresh process)      median of 3
    p  the same refresh into a Postgres database (a throwaway server    median of 3, each run
       started and stopped here, durable settings)                      right after an a run
    b  dbt build from the CLI, warm partial parse (the anchor)          median of 3 (after a warm-up)
    c  kfor refresh, unchanged page                                     median of 3
    d  parse_page of a page of about 1 MB                               median of 5
    e  kfor replay of 1 and of 200 synthetic versions                   median of 3 (one run at 200)
    g  peak RSS of a changed refresh (the process and its children)
    s  the split of one changed refresh: start-up to the run, the run's set-up, each step, dbt's
       own build time, the events the run wrote and what one event write costs on this instance
       (for a and for p)

Every refresh here is recorded in a persistent instance (DAGSTER_HOME of the run), as a user's.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
BIN = Path(sys.executable).parent
WORK = ROOT / "bench" / "work"

from support import pages  # noqa: E402
from support.postgres import SKIP_REASON, binaries, discard, throwaway  # noqa: E402

TARGETS = {  # name: (limit, what it compares)
    "refresh_changed_vs_dbt": (1.5, "a / b, plots included"),
    "refresh_changed_postgres_vs_duckdb": (1.5, "p / a: the same refresh into Postgres"),
    "refresh_unchanged_vs_dbt": (0.3, "c / b"),
    "parse_1mb_s": (2.0, "d: parse_page of a ~1 MB page, s (rule L6)"),
    "replay_200_vs_1": (3.0, "e: replay of 200 versions / replay of 1"),
    "peak_rss_mb": (500, "g"),
}
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# The tests' throwaway server turns durability off; this one keeps a real server's defaults, as
# the DuckDB publish fsyncs: without them the comparison would flatter Postgres.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
STATE = ("raw", "dagster_home", "warehouse")  # a root's folders that a refresh changes


def say(*args):
    print(*args, file=sys.stderr, flush=True)


def env_for(root: Path, warehouse: str | None = None) -> dict:
    """A refresh's settings: its raw folder and instance in `root`; its warehouse a DuckDB file
    there, or `warehouse` (a Postgres URL)."""
    return {**os.environ, "KFOR_WAREHOUSE": warehouse or str(root / "warehouse" / "kfor.duckdb"),
            "KFOR_RAW_DIR": str(root / "raw"), "DAGSTER_HOME": str(root / "dagster_home")}


def timed(cmd: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float]:
    """Wall time of a fresh process, and its peak RSS in MB (the max over its process tree, as the
    kernel reports it for the waited-for child)."""
    wrapper = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
               "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
               "print(json.dumps([time.perf_counter() - t, rc, "
               "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, cwd=cwd,
                         capture_output=True, text=True, check=True)
    seconds, rc, rss_kb = json.loads(out.stdout.strip().splitlines()[-1])
    if rc != 0:
        raise SystemExit(f"benchmark command failed ({rc}): {' '.join(cmd)}\n{out.stderr}")
    return seconds, rss_kb / 1024


def fresh(name: str) -> Path:
    root = WORK / name
    shutil.rmtree(root, ignore_errors=True)
    (root / "pages").mkdir(parents=True)
    return root


def page_file(root: Path, name: str, body: bytes) -> str:
    path = root / "pages" / f"{name}.html"
    path.write_bytes(body)
    return path.as_uri()


def kfor(root: Path, *args: str) -> tuple[float, float]:
    return timed([str(BIN / "kfor"), *args], env_for(root))


def saved_state(root: Path) -> Path:
    """The warehouse folder (a DuckDB one), raw dir and instance, to restore before each
    repetition."""
    saved = root / "saved"
    shutil.rmtree(saved, ignore_errors=True)
    for name in STATE:
        if (root / name).exists():
            shutil.copytree(root / name, saved / name, symlinks=True)
    return saved


def restore(root: Path, saved: Path) -> None:
    for name in STATE:
        shutil.rmtree(root / name, ignore_errors=True)
        if (saved / name).exists():
            shutil.copytree(saved / name, root / name, symlinks=True)


class Changed:
    """The changed refresh on one warehouse (KFOR_WAREHOUSE `warehouse`, by default a DuckDB file
    in its root): v1 published, v2 published (warming this warehouse's partial-parse state) and
    rolled back; that state is saved, and every timed refresh of v2 starts from it. The rollback
    holds v2 back from a plain refresh (it is the version the rollback moved away from), so the
    timed refresh says `--retry`, which builds it as any changed page; each is checked to have
    published."""

    def __init__(self, name: str, warehouse: str | None = None):
        self.root = fresh(name)
        self.env = env_for(self.root, warehouse)
        self.v2 = page_file(self.root, "v2", pages.v2())
        self.kfor("refresh", "--source", page_file(self.root, "v1", pages.v1()))
        self.kfor("refresh", "--source", self.v2)
        self.kfor("rollback")
        self.saved = self.save()

    def kfor(self, *args: str) -> tuple[float, float]:
        return timed([str(BIN / "kfor"), *args], self.env)

    def save(self) -> Path:
        return saved_state(self.root)

    def restore(self) -> None:
        restore(self.root, self.saved)

    def run(self) -> tuple[datetime, float, float]:
        """One timed refresh of v2 from the saved state: its start, wall time and peak RSS."""
        self.restore()
        started = datetime.now(UTC)
        seconds, peak = self.kfor("refresh", "--retry", "--source", self.v2)
        published(self.root)
        return started, seconds, peak

    @property
    def files(self):
        """The warehouse's local files (its dbt target folder), as the refresh finds them."""
        from orchestration.core.settings import Settings

        return Settings.from_env(self.env).engine.files


class PostgresChanged(Changed):
    """The same on a database of a Postgres server. Its state is saved as a template database and
    restored by dropping the database and creating it again from that template (CREATE DATABASE
    ... TEMPLATE): every timed refresh publishes onto the same schemas, rows and kept versions, as
    on the DuckDB file's copy. A CHECKPOINT then writes the copy out before the clock starts, as on
    a server that has settled since its last publish. The raw folder and instance are copied as
    for DuckDB; dbt's target folder (beside the raw folder, named after the server) is warmed by
    the set-up as DuckDB's is; `discard()` removes it."""

    DATABASE, TEMPLATE = "kfor", "kfor_saved"

    def __init__(self, name: str, server):
        self.server = server
        super().__init__(name, server.create_database(self.DATABASE))

    def _sql(self, *statements: str) -> None:
        con = self.server.connect()
        try:
            with con.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            con.close()

    def save(self) -> Path:
        self._sql(f"DROP DATABASE IF EXISTS {self.TEMPLATE}",
                  f"CREATE DATABASE {self.TEMPLATE} TEMPLATE {self.DATABASE}")
        return super().save()

    def restore(self) -> None:
        super().restore()
        self._sql(f"DROP DATABASE {self.DATABASE} WITH (FORCE)",
                  f"CREATE DATABASE {self.DATABASE} TEMPLATE {self.TEMPLATE}", "CHECKPOINT")

    def discard(self) -> None:
        shutil.rmtree(self.files.build_dir, ignore_errors=True)


def bench_refreshes(runs: int) -> dict:
    """a, c, g, s on a DuckDB file; p (and its split) on a Postgres database, each timed run right
    after an a run, so a change in the machine's load meets both alike. Without a Postgres
    server, p is skipped and says so."""
    say("a, c, g, p, s: kfor refresh (changed, unchanged; into DuckDB and Postgres)")
    server = throwaway(DURABLE) if binaries() else None
    on_postgres, split_postgres, postgres = [], None, None
    try:
        duck = Changed("refresh")
        postgres = PostgresChanged("refresh-postgres", server) if server else None
        changed, rss = [], []
        for _ in range(runs):
            started, seconds, peak = duck.run()
            changed.append(seconds)
            rss.append(peak)
            if postgres:
                last = postgres.run()
                on_postgres.append(last[1])
        if postgres:
            split_postgres = split_of_last_run(postgres, *last[:2])
    finally:
        if postgres:
            postgres.discard()
        if server:
            discard(server)
    if not server:
        say(SKIP_REASON.replace("Postgres tests skipped", "p (Postgres) skipped"))
    split = split_of_last_run(duck, started, seconds)
    unchanged = [duck.kfor("refresh", "--source", duck.v2)[0] for _ in range(runs)]
    return {"refresh_changed_s": changed, "refresh_changed_postgres_s": on_postgres,
            "refresh_unchanged_s": unchanged, "peak_rss_mb": rss, "split": split,
            "split_postgres": split_postgres}


def published(root: Path) -> None:
    """A timed changed refresh that did not publish measured something else: stop."""
    from orchestration.core.archive import Archive

    outcome = Archive(root / "raw").fetches()[-1].get("outcome")
    if outcome != "published":
        raise SystemExit(f"the timed changed refresh in {root} did not publish ({outcome})")


def split_of_last_run(subject: Changed, started: datetime, total: float) -> dict:
    """s: where a changed refresh's time goes, read from its own run in the instance, dbt's
    run_results.json, and one event write timed on the same instance (median of 100)."""
    probe = (
        "import json, statistics, sys, time, dagster as dg\n"
        "i = dg.DagsterInstance.get()\n"
        "run = i.get_run_records(filters=dg.RunsFilter(job_name='refresh'), limit=1)[0]\n"
        "logs = i.all_logs(run.dagster_run.run_id)\n"
        "steps = {}\n"
        "for e in logs:\n"
        "    if e.dagster_event and e.dagster_event.event_type_value in "
        "('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE'):\n"
        "        steps.setdefault(e.step_key, []).append(e.timestamp)\n"
        "s = []\n"
        "for k in range(100):\n"
        "    t = time.perf_counter(); i.report_runless_asset_event(dg.AssetObservation("
        "asset_key='bench_probe', metadata={'k': k})); s.append(time.perf_counter() - t)\n"
        "print(json.dumps({'created': run.create_timestamp.timestamp(), 'events': len(logs),"
        " 'steps': steps, 'event_write_s': statistics.median(s)}))\n")
    out = subprocess.run([sys.executable, "-c", probe], env=subject.env, capture_output=True,
                         text=True, check=True)
    run = json.loads(out.stdout.strip().splitlines()[-1])
    first = min(t[0] for t in run["steps"].values())
    last = max(t[-1] for t in run["steps"].values())
    results = json.loads((subject.files.dbt_target / "run_results.json").read_text())
    return {
        "start_up_to_run_s": run["created"] - started.timestamp(),
        "run_set_up_s": first - run["created"],
        **{f"step_{k}_s": t[-1] - t[0] for k, t in run["steps"].items()},
        "dbt_own_build_s": results["elapsed_time"],
        "after_last_step_s": total - (last - started.timestamp()),
        "run_events": run["events"], "event_write_s": run["event_write_s"],
        "events_s": run["events"] * run["event_write_s"]}


def bench_dbt_anchor(runs: int) -> dict:
    """The same project and raw data as a changed refresh (v1 published + v2's batch), built by
    `dbt build` from the CLI; the first run warms the partial parse and is not counted."""
    say("b: dbt build from the CLI (warm partial parse)")
    import duckdb

    from orchestration.core import raw_tables
    from orchestration.core.archive import Archive, sha256
    from orchestration.core.layout import code_version
    from orchestration.core.reference import load_reference
    from orchestration.parsing import parse_page

    root = fresh("anchor")
    kfor(root, "refresh", "--source", page_file(root, "v1", pages.v1()))
    db = root / "build" / "kfor.duckdb"
    db.parent.mkdir()
    shutil.copyfile(root / "warehouse" / "kfor.duckdb", db)
    body = pages.v2()
    page = parse_page(body, None, load_reference())
    con = duckdb.connect(str(db))
    records = Archive(root / "raw").fetches() + [{
        "fetch_id": "bench", "fetched_at": datetime.now(UTC).strftime(TIME_FORMAT),
        "url": "bench", "source": "file", "body_sha256": sha256(body),
        "content_sha256": page.content_sha256, "outcome": "published"}]
    raw_tables.load_page(con, page, sha256(body))
    raw_tables.load_fetch_log(con, records)
    raw_tables.load_build_info(con, code_version())
    con.close()
    project = ROOT / "dbt_project"
    cmd = [str(BIN / "dbt"), "build", "--project-dir", str(project), "--profiles-dir",
           str(project), "--quiet", "--exclude-resource-type", "unit_test",
           "--target-path", str(root / "target")]
    env = {**os.environ, "KFOR_BUILD_PATH": str(db)}
    timed(cmd, env)  # warm-up: partial parse state
    return {"dbt_build_s": [timed(cmd, env)[0] for _ in range(runs)]}


def bench_parse(repeat: int) -> dict:
    """d: parse_page of a page of about 1 MB: the snapshot with its prose sections repeated (rule
    L6 of docs/rules.md: linear, under 2 s). Wall time of a warm process, median of `repeat`."""
    say("d: parse_page of a ~1 MB page")
    from orchestration.core.reference import load_reference
    from orchestration.parsing import parse_page

    page = pages.v1().decode("utf-8")
    start = page.index('<h2 class="fs-large">KFOR\'s objectives</h2>')
    end = page.index('<h2 class="fs-large">KFOR commanders')
    prose = page[start:end]
    body = (page[:end] + prose * ((1_000_000 - len(page)) // len(prose)) + page[end:]).encode()
    reference = load_reference()
    parse_page(body, "text/html; charset=utf-8", reference)  # warm
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        parse_page(body, "text/html; charset=utf-8", reference)
        samples.append(time.perf_counter() - t)
    return {"parse_1mb_s": statistics.median(samples), "parse_1mb_bytes": len(body)}


def seed_archive(root: Path, n: int) -> None:
    """An archive and fetch log holding n published synthetic versions (what n refreshes leave),
    sighted in the past, in order (valid time orders the history by sighting, rule V3)."""
    from orchestration.core.archive import Archive
    from orchestration.core.reference import load_reference
    from orchestration.parsing import parse_page

    archive = Archive(root / "raw")
    for i in range(1, n + 1):
        body = pages.synthetic(i)
        fetched_at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
        archive.append({"fetch_id": f"seed-{i}", "fetched_at": fetched_at.strftime(TIME_FORMAT),
                        "url": "synthetic", "source": "file", "status": None,
                        "body_sha256": archive.store(body),
                        "content_sha256": parse_page(body, None, load_reference()).content_sha256,
                        "bytes": len(body), "outcome": "published"})


def bench_replay(sizes: list[int], runs: int) -> dict:
    say(f"e: kfor replay of {sizes} versions")
    out = {}
    for n in sizes:
        root = fresh(f"replay-{n}")
        seed_archive(root, n)
        reps = 1 if n >= 200 else runs
        out[str(n)] = [kfor(root, "replay")[0] for _ in range(reps)]
    return {"replay_s": out}


def main() -> int:
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    raw: dict = {}
    raw.update(bench_dbt_anchor(3))
    raw.update(bench_refreshes(3))
    raw.update(bench_parse(5))
    raw.update(bench_replay([1, 200], 3))
    med = statistics.median
    results = {
        "refresh_changed_vs_dbt": med(raw["refresh_changed_s"]) / med(raw["dbt_build_s"]),
        "refresh_changed_postgres_vs_duckdb": med(raw["refresh_changed_postgres_s"])
        / med(raw["refresh_changed_s"]) if raw["refresh_changed_postgres_s"] else None,
        "refresh_unchanged_vs_dbt": med(raw["refresh_unchanged_s"]) / med(raw["dbt_build_s"]),
        "parse_1mb_s": raw["parse_1mb_s"],
        "replay_200_vs_1": med(raw["replay_s"]["200"]) / med(raw["replay_s"]["1"]),
        "peak_rss_mb": max(raw["peak_rss_mb"]),
        "medians": {
            "refresh_changed_s": med(raw["refresh_changed_s"]),
            "refresh_changed_postgres_s": med(raw["refresh_changed_postgres_s"])
            if raw["refresh_changed_postgres_s"] else None,
            "dbt_build_s": med(raw["dbt_build_s"]),
            "refresh_unchanged_s": med(raw["refresh_unchanged_s"]),
            "replay_total_s": {n: med(v) for n, v in raw["replay_s"].items()},
        },
        "split": raw["split"],
        "split_postgres": raw["split_postgres"],
        "raw": raw,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                       / 2**30, 1),
                    "load_average_at_end": os.getloadavg()},
        "bench_seconds": None,
    }
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


def print_table(results: dict) -> None:
    m, s = results["medians"], results["split"]
    on_postgres = m["refresh_changed_postgres_s"]
    rows = [("a  kfor refresh, changed page, plots included", f"{m['refresh_changed_s']:.2f} s"),
            ("p  the same into Postgres (durable)",
             f"{on_postgres:.2f} s" if on_postgres else "skipped"),
            ("b  dbt build, CLI, warm partial parse", f"{m['dbt_build_s']:.2f} s"),
            ("c  kfor refresh, unchanged page", f"{m['refresh_unchanged_s']:.2f} s"),
            ("d  parse_page, ~1 MB page", f"{results['parse_1mb_s']:.2f} s")]
    rows += [(f"e  kfor replay, {n} versions", f"{v:.1f} s")
             for n, v in m["replay_total_s"].items()]
    rows.append(("g  peak RSS of a changed refresh", f"{results['peak_rss_mb']:.0f} MB"))
    print(f"\n{'measure':48} {'median':>14}")
    for name, value in rows:
        print(f"{name:48} {value:>14}")
    print_split(s, results["split_postgres"] or {})
    print(f"\n{'ratio':36} {'value':>8} {'target':>8}  ")
    for name, (limit, what) in TARGETS.items():
        value = results[name]
        if value is None:  # no Postgres server on this machine
            print(f"{name:36} {'-':>8} {'<= ' + str(limit):>8}  skipped  ({what})")
            continue
        verdict = "ok" if value <= limit else "MISSED"
        print(f"{name:36} {value:8.3f} {'<= ' + str(limit):>8}  {verdict}  ({what})")
    print(f"\nwhole benchmark: {results['bench_seconds']} s; details in bench/results.json")


def print_split(duck: dict, postgres: dict) -> None:
    """s, one changed refresh into DuckDB (a) and into Postgres (p), side by side ("-": a step
    that engine does not have, such as the exports on Postgres)."""
    def events(s: dict) -> str:
        return f"{s['run_events']} x {s['event_write_s'] * 1000:.1f} ms" if s else "-"

    print(f"\n{'split of one changed refresh':36} {'duckdb':>14} {'postgres':>14}")
    for k in dict.fromkeys([*duck, *postgres]):
        if k.endswith("_s") and k != "event_write_s":
            a, p = (f"{s[k]:.2f} s" if k in s else "-" for s in (duck, postgres))
            print(f"{'s  ' + k.removesuffix('_s').replace('_', ' '):36} {a:>14} {p:>14}")
    print(f"{'s  run events x one write':36} {events(duck):>14} {events(postgres):>14}")


if __name__ == "__main__":
    sys.exit(main())
