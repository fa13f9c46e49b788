"""A throwaway Postgres server: Debian's `initdb` and `pg_ctl`, a folder of its own, a free port
on 127.0.0.1, trust authentication on loopback only (no password exists to leak), no Unix socket
outside its folder. The tests start one per session (tests/postgres/conftest.py); `make pg-up`
and `make pg-down` run this file to give a newcomer one under .pg/.

Postgres refuses to run as root, so as root the server runs as an unprivileged user: `postgres`
(Debian's package creates it) or `kfor-pg`, created here when neither exists.

    python tests/support/postgres.py up   [--dir .pg] [--port 5433]
    python tests/support/postgres.py down [--dir .pg]
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

SUPERUSER = "kfor"
HOST = "127.0.0.1"
SKIP_REASON = ("Postgres tests skipped: no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin "
               "(enable them with: apt-get install postgresql)")
# A throwaway server loses nothing it cannot rebuild: durability off makes dbt's DDL several
# times faster. Its sessions' time zone is not UTC (-03:30 or -02:30), so nothing that depends on
# it passes by luck. `make pg-up`'s server keeps the defaults, in UTC.
THROWAWAY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
             "timezone": "America/St_Johns"}


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else the newest Debian cluster version."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    for initdb in reversed(versions):
        if (Path(initdb).parent / "pg_ctl").exists():
            return Path(initdb).parent
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _server_user() -> str | None:
    """None when this process may run Postgres itself; else the unprivileged user to run it as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "kfor-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "kfor-pg"], check=True, capture_output=True)
    return "kfor-pg"


class PostgresServer:
    """One server. `start()` runs initdb the first time (the folder is kept between starts), then
    pg_ctl start, waiting until it accepts connections (on the same port when started again);
    `stop()` stops it (fast shutdown, or `mode="immediate"`)."""

    def __init__(self, folder: Path, port: int | None = None, settings: dict | None = None):
        self.folder = Path(folder).resolve()
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = port
        self.settings = dict(settings or {})
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError(SKIP_REASON)
        self.user = _server_user()

    # --- running the server's own commands -------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/")
        if check and out.returncode != 0:
            tail = "\n".join(self.log.read_text().splitlines()[-20:]) if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({out.returncode}):\n"
                               f"{out.stdout}{out.stderr}{tail}")
        return out

    def _own(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        return self.data.exists() and self._run("pg_ctl", "status", "-D", str(self.data),
                                                check=False).returncode == 0

    def start(self) -> PostgresServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._own(self.folder)
        if not self.initialised():
            self._run("initdb", "-D", str(self.data), "--username", SUPERUSER, "--auth", "trust",
                      "--encoding", "UTF8", "--no-locale", "--no-instructions")
            # loopback only: initdb's trust lines cover 127.0.0.1 and ::1 (and the socket)
        if self.running():
            self.port = self._port_of_running()
            return self
        self.port = self.port or free_port()
        options = {"listen_addresses": HOST, "port": str(self.port),
                   "unix_socket_directories": str(self.data), "timezone": "UTC", **self.settings}
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", opts)
        return self

    def _port_of_running(self) -> int:
        # postmaster.pid, line 4: the port it listens on
        return int((self.data / "postmaster.pid").read_text().splitlines()[3])

    def stop(self, mode: str = "fast") -> None:
        """`mode` as pg_ctl's: fast (roll back, shut down cleanly) or immediate (as a crash:
        every session cut, recovery at the next start)."""
        if self.running():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    # --- what a client needs -----------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def env(self, database: str) -> dict[str, str]:
        """libpq's variables (and the dbt profile's, which read them) for one database."""
        return {"PGHOST": HOST, "PGPORT": str(self.port), "PGUSER": SUPERUSER,
                "PGDATABASE": database}

    def connect(self, database: str = "postgres", autocommit: bool = True):
        import psycopg2

        con = psycopg2.connect(host=HOST, port=self.port, user=SUPERUSER, dbname=database)
        con.autocommit = autocommit
        return con

    def create_database(self, name: str) -> str:
        """A fresh, empty database (dropped first if it exists); returns its URL."""
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return self.url(name)

    def ensure_database(self, name: str) -> str:
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return self.url(name)


def throwaway(settings: dict | None = None) -> PostgresServer:
    """A started server in a new temporary folder (outside pytest's 0700 tmp folders, which the
    server's user could not enter). `discard()` stops it and removes the folder."""
    folder = Path(tempfile.mkdtemp(prefix="kfor-pg-"))
    server = PostgresServer(folder, settings={**THROWAWAY, **(settings or {})})
    try:
        return server.start()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def discard(server: PostgresServer) -> None:
    try:
        server.stop()
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="postgres.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dir", default=".pg", help="the server's folder (default .pg)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PG_PORT") or 5433))
    args = parser.parse_args(argv)
    if binaries() is None:
        print(SKIP_REASON.replace("Postgres tests skipped", "no Postgres server"), file=sys.stderr)
        return 1
    server = PostgresServer(Path(args.dir), port=args.port)
    if args.action == "down":
        was = server.running()
        server.stop()
        print(f"Postgres in {args.dir}/ stopped" if was else f"no Postgres running in {args.dir}/")
        return 0
    server.start()
    server.ensure_database("kfor")
    server.ensure_database("dagster")
    print(f"Postgres {server.url()} running (data in {args.dir}/data, log {args.dir}/server.log;"
          " `make pg-down` stops it). dbt's postgres target and psql reach it with:")
    print(f"export PGHOST={HOST} PGPORT={server.port} PGUSER={SUPERUSER} PGDATABASE=kfor")
    print("and the Dagster instance keeps its runs there with:")
    print(f"export DAGSTER_PG_URL={server.url('dagster')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
