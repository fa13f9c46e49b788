#!/usr/bin/env bash
# `make bi-smoke`: prove the BI route with a real Apache Superset.
#
#  1. installs Apache Superset from PyPI into its own venv (.venv-superset, Python 3.11; pins in
#     scripts/bi_smoke/requirements.txt and constraints.txt), once: later runs reuse it;
#  2. publishes v1 of the page (the bundled snapshot) into a throwaway warehouse;
#  3. initialises a throwaway Superset (SUPERSET_HOME and SUPERSET_CONFIG_PATH in a temp dir,
#     SECRET_KEY set, `superset db upgrade`, an admin user, `superset init`) and starts
#     `superset run` on 127.0.0.1;
#  4. registers the warehouse read-only through duckdb-engine and runs SQL Lab queries on
#     marts.fct_command_tenure (REST API) while `kfor refresh` publishes v2 (a new commander);
#  5. the same on Postgres: starts a throwaway server (tests/support/postgres.py up; stopped on
#     exit, whatever happens), publishes v1 into KFOR_WAREHOUSE=postgresql://..., runs
#     `kfor grant-reader`, creates a login role in kfor_reader (its password checked by the
#     server: scram-sha-256 for that role), registers it in Superset through the PostgreSQL form,
#     and runs the same SQL Lab queries while `kfor refresh` swaps v2's schemas in.
#
# Exits 0 only if, in each run, every query succeeded with a complete version (28 or 29 tenures)
# and the refresh exited 0. Not part of `make test`; needs the project venv (`make setup`), PyPI,
# and for step 5 Debian's postgresql (initdb, pg_ctl, psql).
# Env: SUPERSET_VENV (default .venv-superset), SUPERSET_PYTHON (default: python3.11, else
#      another Python 3.10-3.12),
#      BI_SMOKE_ONLY=duckdb or postgres runs only that warehouse's run (default both),
#      BI_SMOKE_KEEP=1 keeps the temp dir for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HERE=$ROOT/scripts/bi_smoke
KFOR_PY=$ROOT/.venv/bin/python
SUPERSET_VENV=${SUPERSET_VENV:-$ROOT/.venv-superset}
if [ -z "${SUPERSET_PYTHON:-}" ]; then  # Superset 6.1 supports Python 3.10-3.12
    for candidate in python3.11 python3.12 python3.10 python3; do
        if command -v "$candidate" >/dev/null \
                && "$candidate" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))'; then
            SUPERSET_PYTHON=$candidate
            break
        fi
    done
fi
ONLY=${BI_SMOKE_ONLY:-}
case "$ONLY" in ""|duckdb|postgres) ;; *) echo "bi-smoke: BI_SMOKE_ONLY is duckdb or postgres" >&2; exit 2;; esac
T0=$SECONDS

say() { echo "bi-smoke: $*"; }
die() { echo "bi-smoke: FAIL: $*" >&2; exit 1; }
elapsed() { echo "$((SECONDS - T0)) s"; }

[ -x "$ROOT/.venv/bin/kfor" ] || die "no project venv: run \`make setup\` first"
[ -n "${SUPERSET_PYTHON:-}" ] && command -v "$SUPERSET_PYTHON" >/dev/null \
    || die "no Python 3.10-3.12 found for Superset (set SUPERSET_PYTHON)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kfor-bi-smoke.XXXXXX")
SERVER_PID=""
PG_DIR="" PG_PORT=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$PG_DIR" ]; then
        "$KFOR_PY" "$ROOT/tests/support/postgres.py" down --dir "$PG_DIR" >/dev/null 2>&1 \
            || say "could not stop the Postgres server in $PG_DIR"
        if [ "${BI_SMOKE_KEEP:-0}" = 1 ]; then say "kept $PG_DIR"; else rm -rf "$PG_DIR"; fi
    fi
    if [ "${BI_SMOKE_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() {
    "$KFOR_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- 1. Superset in its own venv ----------------------------------------------------------------
STAMP=$SUPERSET_VENV/.bi-smoke-installed
WANT=$(cat "$HERE/requirements.txt" "$HERE/constraints.txt" | sha256sum | cut -c1-16)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    say "installing Apache Superset into $SUPERSET_VENV (a few minutes the first time) ..."
    rm -rf "$SUPERSET_VENV"
    "$SUPERSET_PYTHON" -m venv "$SUPERSET_VENV"
    if ! "$SUPERSET_VENV/bin/python" -m pip install --disable-pip-version-check --no-input \
            -r "$HERE/requirements.txt" -c "$HERE/constraints.txt" >"$WORK/pip.log" 2>&1; then
        grep -v "is ignored: it is neither a file nor a directory" "$WORK/pip.log" | tail -30 >&2
        die "pip could not install Superset (log above)"
    fi
    echo "$WANT" >"$STAMP"
    say "installed $("$SUPERSET_VENV/bin/python" -m pip list 2>/dev/null \
        | awk '$1=="apache_superset"||$1=="apache-superset"{print "apache-superset "$2}') ($(elapsed))"
else
    say "reusing $SUPERSET_VENV"
fi
SUPERSET=$SUPERSET_VENV/bin/superset

# --- 2. a throwaway warehouse with v1 published -------------------------------------------------
export KFOR_WAREHOUSE=$WORK/warehouse/kfor.duckdb KFOR_RAW_DIR=$WORK/raw
unset KFOR_SOURCE_URL KFOR_WEBHOOK_URL KFOR_BUILD_DB
"$KFOR_PY" - "$WORK" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from support import pages  # v1 = the bundled snapshot; v2 = the next change of command
work = Path(sys.argv[1])
(work / "v1.html").write_bytes(pages.v1())
(work / "v2.html").write_bytes(pages.v2())
PY
if [ "$ONLY" != postgres ]; then
"$ROOT/.venv/bin/kfor" refresh --source "file://$WORK/v1.html" >"$WORK/refresh-v1.log" 2>&1 \
    || { cat "$WORK/refresh-v1.log" >&2; die "publishing v1 failed"; }
say "$(cat "$WORK/refresh-v1.log")"
fi

# --- 3. a throwaway Superset --------------------------------------------------------------------
export SUPERSET_HOME=$WORK/superset_home SUPERSET_CONFIG_PATH=$WORK/superset_config.py
mkdir -p "$SUPERSET_HOME"
SECRET=$("$KFOR_PY" -c 'import secrets; print(secrets.token_urlsafe(42))')
PASSWORD=$("$KFOR_PY" -c 'import secrets; print(secrets.token_urlsafe(16))')
cat >"$SUPERSET_CONFIG_PATH" <<PY
# Throwaway Superset for make bi-smoke: local metadata DB, no CSRF/Talisman/rate limits.
SECRET_KEY = "$SECRET"
SQLALCHEMY_DATABASE_URI = "sqlite:///$SUPERSET_HOME/superset.db"
WTF_CSRF_ENABLED = False
TALISMAN_ENABLED = False
RATELIMIT_ENABLED = False
AUTH_RATE_LIMITED = False
PY
export FLASK_APP=superset SUPERSET_LOAD_EXAMPLES=no PYTHONWARNINGS=ignore
run_superset() {  # quiet unless it fails
    local log=$WORK/superset-$1.log
    "$SUPERSET" "$@" >"$log" 2>&1 || { tail -40 "$log" >&2; die "superset $* failed"; }
}
say "initialising Superset (db upgrade, admin user, init) ..."
run_superset db upgrade
run_superset fab create-admin --username admin --firstname BI --lastname Smoke \
    --email admin@example.invalid --password "$PASSWORD"
run_superset init
PORT=$(free_port)
"$SUPERSET" run -h 127.0.0.1 -p "$PORT" --with-threads >"$WORK/superset-server.log" 2>&1 &
SERVER_PID=$!
healthy() {
    "$KFOR_PY" -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=5).read()' \
        "http://127.0.0.1:$PORT/health" >/dev/null 2>&1
}
for _ in $(seq 1 120); do
    healthy && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -40 "$WORK/superset-server.log" >&2; die "superset run exited"; }
    sleep 1
done
healthy || die "Superset did not answer on 127.0.0.1:$PORT"
say "Superset $("$SUPERSET_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-superset"))') up on 127.0.0.1:$PORT ($(elapsed))"

# --- 4. SQL Lab while a refresh publishes v2 ----------------------------------------------------
sql_lab_during_refresh() {  # WAREHOUSE (as Superset reads it); the refresh reads KFOR_WAREHOUSE
    set +e
    "$SUPERSET_VENV/bin/python" "$HERE/superset_client.py" "http://127.0.0.1:$PORT" admin \
        "$PASSWORD" "$1" "$ROOT/.venv/bin/kfor" refresh --source "file://$WORK/v2.html"
    local rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
        grep -iE "error|traceback" "$WORK/superset-server.log" | tail -20 >&2 || true
        die "see above ($(elapsed))"
    fi
}
if [ "$ONLY" != postgres ]; then
    sql_lab_during_refresh "$KFOR_WAREHOUSE"
    say "OK: Superset read the warehouse read-only through duckdb-engine while a refresh published ($(elapsed))"
fi
[ "$ONLY" = duckdb ] && exit 0

# --- 5. the same on Postgres, as a login role in kfor_reader -------------------------------------
PSQL=$(command -v psql) || die "no psql on PATH (Debian: apt-get install postgresql-client)"
# A folder of its own, not under $WORK (0700): as root the server runs as another user
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kfor-bi-smoke-pg.XXXXXX")
PG_PORT=$(free_port)
"$KFOR_PY" "$ROOT/tests/support/postgres.py" up --dir "$PG_DIR" --port "$PG_PORT" \
        >"$WORK/pg-up.log" 2>&1 \
    || { cat "$WORK/pg-up.log" >&2; die "could not start a Postgres server (BI_SMOKE_ONLY=duckdb skips this run)"; }
admin_sql() {  # as the server's superuser (trust on loopback), statements on stdin
    "$PSQL" "host=127.0.0.1 port=$PG_PORT user=kfor dbname=kfor" --no-psqlrc -v ON_ERROR_STOP=1 -qAt
}
# A throwaway loses nothing it cannot rebuild: durability off, as tests/support/postgres.THROWAWAY
admin_sql >/dev/null <<'SQL'
ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET full_page_writes = off;
SELECT pg_reload_conf();
SQL
say "Postgres $(admin_sql <<<'SHOW server_version') up on 127.0.0.1:$PG_PORT ($(elapsed))"

export KFOR_WAREHOUSE=postgresql://kfor@127.0.0.1:$PG_PORT/kfor KFOR_RAW_DIR=$WORK/raw-pg
"$ROOT/.venv/bin/kfor" refresh --source "file://$WORK/v1.html" >"$WORK/refresh-pg-v1.log" 2>&1 \
    || { cat "$WORK/refresh-pg-v1.log" >&2; die "publishing v1 to Postgres failed"; }
say "$(cat "$WORK/refresh-pg-v1.log")"
granted=$("$ROOT/.venv/bin/kfor" grant-reader 2>&1) || { echo "$granted" >&2; die "kfor grant-reader failed"; }
say "$granted"

# The login role Superset connects as (docs/bi.md), with a password the server checks: the
# throwaway trusts loopback, so this role alone gets a scram-sha-256 line in front.
READER=superset
READER_PASSWORD=$("$KFOR_PY" -c 'import secrets; print(secrets.token_urlsafe(16))')
admin_sql <<SQL
CREATE ROLE $READER LOGIN PASSWORD '$READER_PASSWORD' IN ROLE kfor_reader;
SQL
HBA=$PG_DIR/data/pg_hba.conf
hba=$(cat "$HBA")
printf 'host all %s 127.0.0.1/32 scram-sha-256\n%s\n' "$READER" "$hba" >"$HBA"
admin_sql >/dev/null <<<'SELECT pg_reload_conf();'
reader_psql() {
    "$PSQL" "host=127.0.0.1 port=$PG_PORT user=$READER dbname=kfor" --no-psqlrc -w -qAt "$@"
}
if (unset PGPASSWORD; reader_psql -c 'SELECT 1') >/dev/null 2>&1; then
    die "the role $READER logs in without its password"
fi
n=$(PGPASSWORD=$READER_PASSWORD reader_psql -c 'SELECT count(*) FROM marts.fct_command_tenure') \
    || die "psql as $READER (a member of kfor_reader) cannot read marts.fct_command_tenure"
say "psql as $READER, with its password, reads marts.fct_command_tenure: $n tenures"

export KFOR_READER_PASSWORD=$READER_PASSWORD  # superset_client.py's, never on a command line
sql_lab_during_refresh "postgresql://$READER@127.0.0.1:$PG_PORT/kfor"
say "OK: Superset read the Postgres warehouse as a member of kfor_reader while a refresh swapped schemas ($(elapsed))"
