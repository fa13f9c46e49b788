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
#     marts.fct_command_tenure (REST API) while `kfor refresh` publishes v2 (a new commander).
#
# Exits 0 only if every query succeeded with a complete version (28 or 29 tenures) and the refresh
# exited 0. Not part of `make test`; needs the project venv (`make setup`) and PyPI.
# Env: SUPERSET_VENV (default .venv-superset), SUPERSET_PYTHON (default: python3.11, else
#      another Python 3.10-3.12),
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
T0=$SECONDS

say() { echo "bi-smoke: $*"; }
die() { echo "bi-smoke: FAIL: $*" >&2; exit 1; }
elapsed() { echo "$((SECONDS - T0)) s"; }

[ -x "$ROOT/.venv/bin/kfor" ] || die "no project venv: run \`make setup\` first"
[ -n "${SUPERSET_PYTHON:-}" ] && command -v "$SUPERSET_PYTHON" >/dev/null \
    || die "no Python 3.10-3.12 found for Superset (set SUPERSET_PYTHON)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kfor-bi-smoke.XXXXXX")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${BI_SMOKE_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

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
"$ROOT/.venv/bin/kfor" refresh --source "file://$WORK/v1.html" >"$WORK/refresh-v1.log" 2>&1 \
    || { cat "$WORK/refresh-v1.log" >&2; die "publishing v1 failed"; }
say "$(cat "$WORK/refresh-v1.log")"

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
PORT=$("$KFOR_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
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
set +e
"$SUPERSET_VENV/bin/python" "$HERE/superset_client.py" "http://127.0.0.1:$PORT" admin "$PASSWORD" \
    "$KFOR_WAREHOUSE" "$ROOT/.venv/bin/kfor" refresh --source "file://$WORK/v2.html"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    grep -iE "error|traceback" "$WORK/superset-server.log" | tail -20 >&2 || true
    die "see above ($(elapsed))"
fi
say "OK: Superset read the warehouse read-only through duckdb-engine while a refresh published ($(elapsed))"
