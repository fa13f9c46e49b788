"""Security: only http, https and file sources; the size cap; page text, URLs and headers go into
DuckDB as values, never as SQL. (`make dev` binding the webserver to 127.0.0.1 is asserted
elsewhere.)"""

from __future__ import annotations

import pytest
from support import pages
from support.warehouse import file_sha256, query

from orchestration.core.reference import load_reference
from orchestration.parsing import parse_page

from .harness import assert_refused, kfor, leftovers, log_records

HTML = "text/html; charset=utf-8"
# The classic name, and the same without the parenthesis, which the parser's name grammar accepts
# (it refuses "," "(" ")" and digits in a name), so that the SQL reaches raw loading and dbt.
INJECTIONS = ["Robert'); DROP TABLE raw.commander; --", "Robert'; DROP TABLE raw.commander; --"]
HEADING = "Bobby\"; DROP SCHEMA marts CASCADE; --"


# one scheme end to end (KFOR_SOURCE_URL reaches the fetch); the rest in the slow run: the fetch
# client's unit tests refuse every one (test_http_faults.test_unsupported_schemes_are_refused)
@pytest.mark.parametrize("url", ["ftp://127.0.0.1/topics_48818.htm", *[
    pytest.param(u, marks=pytest.mark.slow) for u in
    ("javascript:alert(1)", "data:text/html,<h1>KFOR</h1>", "gopher://127.0.0.1:70/1")]])
def test_only_http_https_and_file_sources(published_v1, raw_dir, url):
    """KFOR_SOURCE_URL (not only --source) is held to the same three schemes."""
    out = kfor("refresh", env={"KFOR_SOURCE_URL": url})
    assert_refused(out, published_v1, raw_dir, file_sha256(published_v1),
                   "failed: unsupported URL scheme ")
    assert log_records(raw_dir)[-1]["url"] == url


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_file_source_is_accepted(published_v1, raw_dir, tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(pages.v1())
    out = kfor("refresh", "--source", page.as_uri())
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("unchanged: ")
    assert log_records(raw_dir)[-1]["source"] == "file"


@pytest.mark.slow  # the unit tests above prove it; one end-to-end test of its class stays
def test_file_source_over_the_size_cap(published_v1, raw_dir, tmp_path):
    page = tmp_path / "huge.html"
    page.write_bytes(pages.v1() + b"<!--" + b"x" * 5_000_000 + b"-->")
    out = kfor("refresh", "--source", page.as_uri())
    assert_refused(out, published_v1, raw_dir, file_sha256(published_v1),
                   f"failed: {page} is {page.stat().st_size} bytes, over the 5000000-byte cap")
    assert not (raw_dir / "pages").exists() or len(list((raw_dir / "pages").iterdir())) == 1


def injected_page(name: str) -> bytes:
    """v1 with SQL in a commander's name (nation code intact) and in a section heading."""
    text = pages.V1
    old = "<p><strong>Maj. Gen. Michele Risi, IT A</strong></p>"
    assert old in text
    text = text.replace(old, f"<p><strong>Maj. Gen. {name}, IT A</strong></p>")
    old = "<h3>Capacity-building support</h3>"
    assert old in text
    text = text.replace(old, f"<h3>Capacity-building support {HEADING}</h3>")
    return text.encode()


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
@pytest.mark.parametrize("name", INJECTIONS, ids=["with-parenthesis", "parser-accepted"])
def test_sql_in_page_text_is_stored_verbatim_or_rejected_by_a_check(server, published_v1,
                                                                     raw_dir, name):
    url = server.route("/topics_48818.htm", body=injected_page(name),
                       headers={"Content-Type": HTML})
    before = file_sha256(published_v1)
    out = kfor("refresh", "--source", url)
    outcome = log_records(raw_dir)[-1]["outcome"]
    assert not outcome.startswith("failed: "), out.stderr  # never a SQL error
    for word in ("Parser Error", "syntax error", "Catalog Error", "Binder Error"):
        assert word not in out.stderr
    if outcome.startswith("rejected: "):
        assert_refused(out, published_v1, raw_dir, before, "rejected: ")
        return
    assert out.returncode == 0 and outcome == "published", out.stderr
    version = query(published_v1, "SELECT content_sha256 FROM marts.meta")[0][0]
    # exactly what the parser read (it spaces initials: "raw.commander" -> "raw. commander"),
    # and the page's line verbatim as the source text
    parsed = parse_page(injected_page(name), HTML, load_reference()).commanders[23]
    assert "DROP TABLE" in parsed.full_name
    rows = query(published_v1, "SELECT full_name, source_text FROM raw.commander "
                               "WHERE content_sha256 = ? ORDER BY ordinal", [version])
    assert len(rows) == 28 and rows[23] == (parsed.full_name, parsed.source_text)
    assert f"Maj. Gen. {name}, IT A" in rows[23][1]
    assert query(published_v1, "SELECT count(*) FROM marts.dim_commander "
                               "WHERE full_name = ?", [parsed.full_name]) == [(1,)]
    sections = query(published_v1, "SELECT count(*) FROM raw.section WHERE content_sha256 = ? "
                                   "AND heading LIKE ?", [version, f"%{HEADING}"])
    assert sections == [(1,)]
    assert query(published_v1, "SELECT count(*) FROM marts.fct_command_tenure") == [(28,)]
    assert not leftovers(published_v1, raw_dir)


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_sql_in_url_and_headers_is_stored_verbatim(server, published_v1, raw_dir):
    etag = "\"x'); DROP TABLE raw.fetch_log; --\""
    path = "/topics_48818.htm?q=%27);DROP%20TABLE%20marts.meta;--"
    url = server.route(path, body=pages.v1(), headers={"Content-Type": HTML, "ETag": etag})
    out = kfor("refresh", "--source", url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("unchanged: ")
    last = log_records(raw_dir)[-1]
    assert (last["url"], last["etag"], last["outcome"]) == (url, etag, "unchanged")
    assert query(published_v1, "SELECT count(*) FROM marts.meta") == [(1,)]
    assert query(published_v1, "SELECT count(*) FROM raw.fetch_log") == [(1,)]  # as of its build
