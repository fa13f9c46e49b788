"""Secrets in the source URL, end to end (issue 10): `kfor refresh --source
http://user:pw@127.0.0.1:PORT/p.htm?token=abc` fetches with the real URL (the server sees the
credentials and the token) but writes them nowhere: not on stderr or stdout, not in the fetch log,
not in `kfor status`, not in the warehouse file.

The secrets are long and marked ("Zq7") so that a search of several megabytes of DuckDB file
cannot match them by chance. What the warehouse, `kfor status --json`'s `published` part and the
webhook payload hold comes from the refresh code (in the in-memory fetch record), not from the
fetch log, and the refresh records only the redacted URL (orchestration.refresh.new_record)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from support import pages

from . import faults
from .harness import kfor, log_records

HTML = "text/html; charset=utf-8"
USER, PASSWORD, TOKEN = "kforuserZq7", "pw-Zq7-s3cr3t", "abc-Zq7-t0k3n"
SECRETS = (PASSWORD, TOKEN, USER)

# (userinfo, query) variants: where the secrets sit in the URL
VARIANTS = {
    "user-password-and-token": (f"{USER}:{PASSWORD}@", f"token={TOKEN}"),
    "password-with-raw-at": (f"{USER}:{PASSWORD}@x@", f"page=1&API_KEY={TOKEN}"),
    "encoded-password": (f"{USER}:{quote(PASSWORD + '@/:', safe='')}@", f"sig={TOKEN}"),
    "token-as-user": (f"{TOKEN}@", "lang=en"),
    "several-params": ("", f"a=1&access_token={TOKEN}&Session={PASSWORD}&X-Amz-Signature={USER}"),
}


def secret_url(server, userinfo: str, query: str, path: str = "/p.htm") -> tuple[str, str]:
    """(the URL with its secrets, the path and query the server routes on)"""
    return f"http://{userinfo}127.0.0.1:{server.port}{path}?{query}", f"{path}?{query}"


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def warehouse_leaks(warehouse: Path) -> list[str]:
    """Secrets in any file under warehouse/ (the DuckDB file, Parquet, history), as bytes, and in
    every text column of the published file (DuckDB may compress strings on disk)."""
    found = []
    for path in sorted(p for p in warehouse.parent.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.name}: {s}" for s in SECRETS if s.encode() in data]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                              "WHERE data_type = 'VARCHAR' AND NOT internal").fetchall()
        for schema, table, column in columns:
            for secret in SECRETS:
                hit = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" '
                                  f'WHERE contains("{column}", ?)', [secret]).fetchone()[0]
                if hit:
                    found.append(f"{schema}.{table}.{column}: {secret}")
    finally:
        con.close()
    return found


def assert_clean_log(raw_dir: Path) -> dict:
    data = (raw_dir / "fetch_log.jsonl").read_text(encoding="utf-8")
    assert not leaks(data), f"the fetch log holds {leaks(data)}"
    return log_records(raw_dir)[-1]


@pytest.mark.slow  # in CI's slow run: keeps `make test` under ten minutes
def test_a_published_refresh_writes_no_secret(server, raw_dir, warehouse_path):
    userinfo, query = VARIANTS["user-password-and-token"]
    url, route = secret_url(server, userinfo, query)
    server.route(route, body=pages.v1(), headers={"Content-Type": HTML})

    out = kfor("refresh", "--source", url)

    assert out.returncode == 0 and out.stdout.startswith("published: "), out.stderr
    # the fetch used the real URL: the token reached the server, and so did the credentials
    request = server.requests[-1]
    assert request["path"] == route
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert request["headers"].get("Authorization") == expected
    assert not leaks(out.stdout + out.stderr), out.stdout + out.stderr
    record = assert_clean_log(raw_dir)
    assert record["url"] == f"http://127.0.0.1:{server.port}/p.htm?token=REDACTED"
    assert record["outcome"] == "published"
    assert not any(p.name.endswith(".tmp") for p in raw_dir.rglob("*"))

    plain, as_json = kfor("status"), kfor("status", "--json")
    assert plain.returncode == 0 and as_json.returncode == 0, plain.stderr + as_json.stderr
    status = json.loads(as_json.stdout)
    assert not leaks(json.dumps(status["refreshes"])), "status lists a secret from the fetch log"

    # written by the refresh code (raw.fetch_log from the in-memory record, marts.meta, Parquet)
    elsewhere = warehouse_leaks(warehouse_path)
    elsewhere += [f"kfor status: {s}" for s in leaks(plain.stdout)]
    elsewhere += [f"kfor status --json: {s}" for s in leaks(as_json.stdout)]
    assert not elsewhere, elsewhere


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_a_failed_refresh_names_the_url_without_its_secrets(server, published_v1, raw_dir,
                                                            variant):
    url, route = secret_url(server, *variant)
    server.route(route, status=404, body=b"no", headers={"Content-Type": "text/plain"})
    with faults.WebhookReceiver() as hook:
        out = kfor("refresh", "--source", url, env={"KFOR_WEBHOOK_URL": hook.url()})
        posts = hook.wait_for(1)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert server.hits[route] == 1  # the real URL was fetched
    assert out.stderr.startswith("failed: HTTP 404 from http://127.0.0.1:"), out.stderr
    assert not leaks(out.stdout + out.stderr), out.stderr
    record = assert_clean_log(raw_dir)
    assert record["outcome"].startswith("failed: HTTP 404 from http://127.0.0.1:")
    assert "@" not in record["url"].split("?")[0]
    assert posts, "no alert was posted"
    payload = json.dumps(posts[-1]["json"])
    assert not leaks(posts[-1]["json"].get("message") or ""), payload
    assert not leaks(payload), payload


def test_a_refused_redirect_names_neither_url_with_its_secrets(server, published_v1, raw_dir):
    """The redirect's target carries secrets of its own: the message quotes both URLs."""
    url, route = secret_url(server, f"{USER}:{PASSWORD}@", f"token={TOKEN}")
    target = f"http://{USER}:{PASSWORD}@localhost:{server.port}/x?sig={TOKEN}&api_key={USER}"
    server.route(route, handler=faults.redirect(target))
    out = kfor("refresh", "--source", url)
    assert out.returncode == 1
    assert out.stderr.startswith("failed: redirect to another host refused: http://localhost:")
    assert not leaks(out.stderr), out.stderr
    assert_clean_log(raw_dir)
    assert kfor("status").returncode == 0


def test_an_unreadable_file_url_with_credentials(published_v1, raw_dir, tmp_path):
    """file:// URLs are redacted too (a user-info part there is as secret as anywhere)."""
    url = f"file://{USER}:{PASSWORD}@localhost{tmp_path}/missing.html?token={TOKEN}"
    out = kfor("refresh", "--source", url)
    assert out.returncode == 1
    assert not leaks(out.stderr), out.stderr
    assert_clean_log(raw_dir)
