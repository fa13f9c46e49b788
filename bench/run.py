"""`make bench`: the cost of a refresh against the anchor a user would compare with (a bare, warm
`dbt build` on the same project and data), measured side by side in one run. Prints a table and
writes bench/results.json. Targets are ratios, checked here, never in timed tests.

    a  kfor refresh, changed page (fresh process)            median of 5
    b  dbt build from the CLI, warm partial parse (anchor)    median of 5 (after a warm-up run)
    c  kfor refresh, unchanged page                           median of 5
    d  parse_page of a ~1 MB page (the snapshot's prose repeated), seconds  median of 5
    e  kfor replay of 1, 10, 50 and 200 synthetic versions    median of 3 (one run at 200)
    f  a refresh after 200 versions against one after 1       median of 3 each
    g  peak RSS of a changed refresh (the process and its children)
    h  the recording's own cost: the events a changed refresh writes to the Dagster instance,
       times the cost of one event write on the same instance (median of 200 writes)

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

TARGETS = {  # name: (limit, what it compares)
    "refresh_changed_vs_dbt": (1.25, "a / b (goal 1.0)"),
    "refresh_unchanged_vs_dbt": (0.3, "c / b"),
    "parse_1mb_s": (2.0, "d: parse_page of a ~1 MB page, s (rule L6)"),
    "replay_200_vs_1": (2.5, "e: replay of 200 versions / replay of 1"),
    "refresh_after_200_vs_after_1": (1.25, "f"),
    "peak_rss_mb": (500, "g"),
}


def say(*args):
    print(*args, file=sys.stderr, flush=True)


def env_for(root: Path) -> dict:
    return {**os.environ, "KFOR_WAREHOUSE": str(root / "warehouse" / "kfor.duckdb"),
            "KFOR_RAW_DIR": str(root / "raw"), "DAGSTER_HOME": str(root / "dagster_home")}


def timed(cmd: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, int]:
    """Wall time of a fresh process, and its peak RSS in MB (the max over its process tree is
    reported by the kernel for the waited-for child)."""
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


def kfor(root: Path, *args: str) -> tuple[float, int]:
    return timed([str(BIN / "kfor"), *args], env_for(root))


def snapshot_state(root: Path) -> Path:
    """Save the published file and the raw dir, to restore before each repetition."""
    saved = root / "saved"
    shutil.rmtree(saved, ignore_errors=True)
    saved.mkdir()
    shutil.copytree(root / "raw", saved / "raw")
    shutil.copytree(root / "dagster_home", saved / "dagster_home")
    shutil.copyfile(root / "warehouse" / "kfor.duckdb", saved / "kfor.duckdb")
    return saved


def restore(root: Path, saved: Path) -> None:
    for name in ("raw", "dagster_home"):
        shutil.rmtree(root / name)
        shutil.copytree(saved / name, root / name)
    shutil.rmtree(root / "warehouse")
    (root / "warehouse").mkdir()
    shutil.copyfile(saved / "kfor.duckdb", root / "warehouse" / "kfor.duckdb")


def bench_refreshes(runs: int) -> dict:
    say("a, c, g: kfor refresh (changed, unchanged)")
    root = fresh("refresh")
    v1, v2 = page_file(root, "v1", pages.v1()), page_file(root, "v2", pages.v2())
    kfor(root, "refresh", "--source", v1)
    saved = snapshot_state(root)
    changed, rss = [], []
    for _ in range(runs):
        restore(root, saved)
        seconds, peak = kfor(root, "refresh", "--source", v2)
        changed.append(seconds)
        rss.append(peak)
    unchanged = [kfor(root, "refresh", "--source", v2)[0] for _ in range(runs)]
    return {"refresh_changed_s": changed, "refresh_unchanged_s": unchanged, "peak_rss_mb": rss,
            **recording_cost(root), "_root": root}


def recording_cost(root: Path) -> dict:
    """h: events of the newest changed run, and the cost of one event write on that instance."""
    probe = ("import json, statistics, time, dagster as dg; i = dg.DagsterInstance.get(); "
             "run = i.get_run_records(filters=dg.RunsFilter(job_name='refresh'), limit=1)[0]; "
             "n = len(i.all_logs(run.dagster_run.run_id)); s = []\n"
             "for k in range(200):\n"
             "    t = time.perf_counter(); i.report_runless_asset_event(dg.AssetObservation("
             "asset_key='bench_probe', metadata={'k': k})); s.append(time.perf_counter() - t)\n"
             "print(json.dumps([n, statistics.median(s)]))")
    out = subprocess.run([sys.executable, "-c", probe], env=env_for(root), capture_output=True,
                         text=True, check=True)
    events, per_event = json.loads(out.stdout.strip().splitlines()[-1])
    return {"run_events": events, "event_write_s": per_event}


def bench_dbt_anchor(runs: int) -> dict:
    """The same project and raw data as a changed refresh (v1 published + v2's batch), built by
    `dbt build` from the CLI; the first run warms the partial parse and is not counted."""
    say("b: dbt build from the CLI (warm partial parse)")
    from orchestration.core import raw_tables
    from orchestration.core.archive import Archive, sha256
    from orchestration.core.reference import load_reference
    from orchestration.parsing import parse_page

    root = fresh("anchor")
    v1 = page_file(root, "v1", pages.v1())
    kfor(root, "refresh", "--source", v1)
    db = root / "build" / "kfor.duckdb"
    db.parent.mkdir()
    shutil.copyfile(root / "warehouse" / "kfor.duckdb", db)
    import duckdb

    body = pages.v2()
    con = duckdb.connect(str(db))
    records = list(Archive(root / "raw").records()) + [{
        "fetch_id": "bench", "fetched_at": "2030-01-01T00:00:00.000000Z", "url": "bench",
        "source": "file", "body_sha256": sha256(body),
        "content_sha256": parse_page(body, None, load_reference()).content_sha256,
        "outcome": "published"}]
    raw_tables.load_page(con, parse_page(body, None, load_reference()), sha256(body))
    raw_tables.load_fetch_log(con, records)
    con.close()
    project = ROOT / "dbt_project"
    from orchestration.dbt_build import build_args

    cmd = [str(BIN / "dbt"), "build", "--project-dir", str(project), "--profiles-dir",
           str(project), "--quiet", *build_args(db)]
    env = os.environ.copy()
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
    """An archive and fetch log holding n published synthetic versions (what n refreshes leave)."""
    from orchestration.core.archive import Archive
    from orchestration.core.reference import load_reference
    from orchestration.parsing import parse_page

    archive = Archive(root / "raw")
    for i in range(1, n + 1):
        body = pages.synthetic(i)
        # in the past, in order: the versions' sightings come before the benchmark's own refresh
        # (valid time orders the history by sighting, rule V3 of docs/rules.md)
        fetched_at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
        archive.append({"fetch_id": f"seed-{i}",
                        "fetched_at": fetched_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "url": "synthetic", "source": "file", "status": None,
                        "body_sha256": archive.store(body),
                        "content_sha256": parse_page(body, None, load_reference()).content_sha256,
                        "bytes": len(body),
                        "outcome": "published"})


def bench_replay(sizes: list[int], runs: int) -> dict:
    say(f"e: kfor replay of {sizes} versions")
    out = {}
    for n in sizes:
        root = fresh(f"replay-{n}")
        seed_archive(root, n)
        reps = 1 if n >= 200 else runs
        out[str(n)] = [kfor(root, "replay")[0] for _ in range(reps)]
    return {"replay_s": out}


def bench_refresh_after(counts: list[int], runs: int) -> dict:
    say(f"f: a changed refresh after {counts} versions")
    out = {}
    for n in counts:
        root = fresh(f"after-{n}")
        seed_archive(root, n)
        kfor(root, "replay")
        nxt = page_file(root, "next", pages.synthetic(n + 1))
        saved = snapshot_state(root)
        samples = []
        for _ in range(runs):
            restore(root, saved)
            samples.append(kfor(root, "refresh", "--source", nxt)[0])
        out[str(n)] = samples
    return {"refresh_after_s": out}


def main() -> int:
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "python"), "-m", "orchestration.dbt_build"], check=True,
                   stdout=subprocess.DEVNULL)
    raw: dict = {}
    raw.update(bench_dbt_anchor(5))
    refreshes = bench_refreshes(5)
    refreshes.pop("_root")
    raw.update(refreshes)
    raw.update(bench_parse(5))
    raw.update(bench_replay([1, 10, 50, 200], 3))
    raw.update(bench_refresh_after([1, 200], 3))
    med = statistics.median
    per_version = {n: med(v) / int(n) for n, v in raw["replay_s"].items()}
    recording_s = raw["run_events"] * raw["event_write_s"]
    results = {
        "refresh_changed_vs_dbt": med(raw["refresh_changed_s"]) / med(raw["dbt_build_s"]),
        "refresh_unchanged_vs_dbt": med(raw["refresh_unchanged_s"]) / med(raw["dbt_build_s"]),
        "parse_1mb_s": raw["parse_1mb_s"],
        "replay_200_vs_1": med(raw["replay_s"]["200"]) / med(raw["replay_s"]["1"]),
        "refresh_after_200_vs_after_1": med(raw["refresh_after_s"]["200"])
        / med(raw["refresh_after_s"]["1"]),
        "peak_rss_mb": max(raw["peak_rss_mb"]),
        "medians": {
            "refresh_changed_s": med(raw["refresh_changed_s"]),
            "dbt_build_s": med(raw["dbt_build_s"]),
            "refresh_unchanged_s": med(raw["refresh_unchanged_s"]),
            "parse_1mb_s": raw["parse_1mb_s"],
            "replay_total_s": {n: med(v) for n, v in raw["replay_s"].items()},
            "replay_per_version_s": per_version,
            "replay_marginal_s_per_version_10_to_200":
                (med(raw["replay_s"]["200"]) - med(raw["replay_s"]["10"])) / 190,
            "refresh_after_s": {n: med(v) for n, v in raw["refresh_after_s"].items()},
            "recording_s": recording_s,
            "recording_share_of_changed_refresh": recording_s / med(raw["refresh_changed_s"]),
        },
        "raw": raw,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                       / 2**30, 1)},
        "bench_seconds": None,
    }
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


def print_table(results: dict) -> None:
    m = results["medians"]
    print(f"\n{'measure':44} {'median':>12}")
    rows = [("a  kfor refresh, changed page", f"{m['refresh_changed_s']:.2f} s"),
            ("b  dbt build, CLI, warm partial parse", f"{m['dbt_build_s']:.2f} s"),
            ("c  kfor refresh, unchanged page", f"{m['refresh_unchanged_s']:.2f} s"),
            ("d  parse_page, ~1 MB page", f"{m['parse_1mb_s']:.2f} s")]
    rows += [(f"e  kfor replay, {n} versions (per version)",
              f"{m['replay_total_s'][n]:.1f} s ({m['replay_per_version_s'][n]:.3f})")
             for n in m["replay_total_s"]]
    rows += [(f"f  changed refresh after {n} versions", f"{s:.2f} s")
             for n, s in m["refresh_after_s"].items()]
    rows.append(("g  peak RSS of a changed refresh", f"{results['peak_rss_mb']:.0f} MB"))
    rows.append((f"h  recording: {results['raw']['run_events']} events x "
                 f"{results['raw']['event_write_s'] * 1000:.1f} ms",
                 f"{m['recording_s']:.2f} s ({m['recording_share_of_changed_refresh']:.0%} of a)"))
    for name, value in rows:
        print(f"{name:44} {value:>12}")
    print(f"\n{'ratio':30} {'value':>8} {'target':>8}  ")
    for name, (limit, what) in TARGETS.items():
        value = results[name]
        verdict = "ok" if value <= limit else "MISSED"
        print(f"{name:30} {value:8.3f} {'<= ' + str(limit):>8}  {verdict}  ({what})")
    print(f"\nwhole benchmark: {results['bench_seconds']} s; details in bench/results.json")


if __name__ == "__main__":
    sys.exit(main())
