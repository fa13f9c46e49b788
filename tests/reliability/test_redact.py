"""Secrets in URLs (issues 10 and 26): orchestration.core.redact removes the user-info part always,
replaces the values of query parameters whose names contain token, key, secret, pass, pwd, auth,
sig, credential, session or code (any case), of every X-Amz-* and X-Goog-* parameter and of
Azure SAS's se and sp by REDACTED, and redacts the fragment (its secret values, and every piece
without "=" whole); everything else stays byte for byte. Generated URLs (hypothesis), every
family by name, and the named examples."""

from __future__ import annotations

import importlib
from urllib.parse import quote, unquote_plus, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WORDS = ("token", "key", "secret", "pass", "pwd", "auth", "sig", "credential", "session", "code")
PREFIXES = ("x-amz-", "x-goog-")
EXACT = ("se", "sp")
SETTINGS = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def redact():
    """The module under test (a failure, not a collection error, where it does not exist)."""
    return importlib.import_module("orchestration.core.redact")


def secret_name(name: str) -> bool:  # the rule, stated independently of the code
    folded = unquote_plus(name).lower().strip()
    return any(w in folded for w in WORDS) or folded.startswith(PREFIXES) or folded in EXACT


# -- generated URLs ------------------------------------------------------------------------------

# Secrets carry a marker so that "not in the output" cannot be fooled by a host or a path that
# happens to contain the same few characters.
MARK = "Zq7"
secret_values = st.text(min_size=1, max_size=12).map(lambda t: f"{MARK}{t}{MARK}")
plain_values = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=10)
innocent_names = st.text("abcdefghijlmnoqrtuvwxyz_-", min_size=1, max_size=10).filter(
    lambda n: not secret_name(n))
secret_words = st.tuples(st.sampled_from(WORDS), innocent_names | st.just(""),
                         innocent_names | st.just(""), st.booleans()).map(
    lambda t: (t[1] + t[0] + t[2]).upper() if t[3] else t[1] + t[0].capitalize() + t[2])
cloud_names = st.tuples(st.sampled_from(["X-Amz-", "x-amz-", "X-Goog-", "X-GOOG-"]),
                        innocent_names).map("".join)
sas_names = st.sampled_from(["se", "sp", "SE", "Sp", "sig"])
secret_names = secret_words | cloud_names | sas_names
fragments = st.one_of(
    st.none(),
    # a bare fragment is a secret as a whole: marked like the other secrets
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-_./", max_size=10).map(
        lambda t: (f"{MARK}{t}{MARK}", "bare")),
    st.tuples(secret_names, secret_values).map(lambda nv: (f"{nv[0]}={nv[1]}", "secret")))
hosts = st.sampled_from(["127.0.0.1", "localhost", "www.nato.int", "[::1]", "example.org"])
ports = st.one_of(st.none(), st.integers(1, 65535))
paths = st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=8),
                 max_size=3).map(lambda parts: "/" + "/".join(parts))


@st.composite
def urls(draw, with_userinfo=None, with_fragment=True):
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "file"]))
    host = draw(hosts)
    port = draw(ports)
    userinfo = draw(st.sampled_from(["none", "user", "user:password"])
                    if with_userinfo is None else st.just(with_userinfo))
    user, password = draw(secret_values), draw(secret_values)
    auth = {"none": "", "user": f"{quote(user, safe='')}@",
            "user:password": f"{quote(user, safe='')}:{quote(password, safe='')}@"}[userinfo]
    params = draw(st.lists(st.tuples(secret_names | innocent_names, st.booleans()), max_size=5))
    query = []
    for name, _ in params:
        value = draw(secret_values) if secret_name(name) else draw(plain_values)
        query.append((name, value))
    url = f"{scheme}://{auth}{host}{'' if port is None else f':{port}'}{draw(paths)}"
    if query or draw(st.booleans()):
        url += "?" + "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in query)
    fragment = draw(fragments) if with_fragment else None
    if fragment:
        url += "#" + quote(fragment[0], safe="=/")
    return {"url": url, "userinfo": userinfo, "user": user, "password": password,
            "query": query, "host": host, "port": port, "fragment": fragment}


@SETTINGS
@given(urls())
def test_redacted_urls_hold_no_user_info_and_no_secret_values(case):
    out = redact().redact_url(case["url"])
    assert MARK not in unquote_plus(out), (case["url"], out)
    parts, original = urlsplit(out), urlsplit(case["url"])
    assert parts.username is None and parts.password is None and "@" not in parts.netloc
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == \
        (original.scheme, original.hostname, original.port, original.path)
    pairs = [p.split("=", 1) for p in parts.query.split("&")] if parts.query else []
    assert [n for n, _ in pairs] == [quote(n, safe="") for n, _ in case["query"]]
    for (name, value), (_, got) in zip(case["query"], pairs, strict=True):
        assert got == ("REDACTED" if secret_name(name) else quote(value, safe=""))
    if case["fragment"] is None:
        assert "#" not in out
    elif case["fragment"][1] == "bare":
        assert parts.fragment == "REDACTED", out
    else:
        assert parts.fragment.endswith("=REDACTED"), out


@SETTINGS
@given(urls(with_userinfo="none", with_fragment=False))
def test_a_url_without_secrets_comes_back_byte_for_byte(case):
    if any(secret_name(n) for n, _ in case["query"]):
        return
    assert redact().redact_url(case["url"]) == case["url"]


@SETTINGS
@given(urls())
def test_redacting_is_idempotent(case):
    once = redact().redact_url(case["url"])
    assert redact().redact_url(once) == once


@SETTINGS
@given(st.text())
def test_redact_never_raises(text):
    r = redact()
    assert isinstance(r.redact_url(text), str)
    assert isinstance(r.redact_text(text, text), str)


@SETTINGS
@given(urls(with_userinfo="user:password"),
       st.text("abcdefghijklmnopqrstuvwxyz :;,()", max_size=20),
       st.text("abcdefghijklmnopqrstuvwxyz :;,()", max_size=20))
def test_redact_text_scrubs_a_message_that_quotes_the_url(case, before, after):
    """The URL as it stands in a message, its repr, and its password decoded elsewhere."""
    url = case["url"]
    message = (f"{before} cannot fetch {url}: {after} ({url!r}) "
               f"as {case['user']}:{case['password']} token {case['password']}")
    out = redact().redact_text(message, url)
    assert MARK not in out, out
    assert out.startswith(f"{before} cannot fetch ")


@SETTINGS
@given(urls(with_userinfo="user:password"), urls(with_userinfo="user:password"))
def test_redact_text_scrubs_every_url_in_the_text_not_only_the_named_one(first, second):
    """A redirect's target carries its own secrets: the message names both URLs."""
    message = f"redirect loop: {first['url']} -> {second['url']} -> {first['url']}"
    out = redact().redact_text(message, first["url"])
    assert MARK not in unquote_plus(out), out


@pytest.mark.parametrize(("url", "expected"), [
    ("http://user:pw@127.0.0.1:8000/p.htm?token=abc",
     "http://127.0.0.1:8000/p.htm?token=REDACTED"),
    ("https://TOKEN123@github.com/x", "https://github.com/x"),
    ("https://a:p%40ss@host/p?x=1&API_KEY=k&X-Amz-Signature=s;sessionid=9",
     "https://host/p?x=1&API_KEY=REDACTED&X-Amz-Signature=REDACTED;sessionid=REDACTED"),
    ("https://h/p?%74oken=abc&Password=p&auth=a&client_secret=c&page=2",
     "https://h/p?%74oken=REDACTED&Password=REDACTED&auth=REDACTED&client_secret=REDACTED&page=2"),
    ("https://h/cb#access_token=t&state=1", "https://h/cb#access_token=REDACTED&state=1"),
    ("https://u:p@w@host/", "https://host/"),  # a raw "@" in the password: the last one ends it
    ("https://bob:p#ss@host/x", "https://host/x"),  # a raw "#" in the password
    ("https://www.nato.int/cps/en/natohq/topics_48818.htm",
     "https://www.nato.int/cps/en/natohq/topics_48818.htm"),
    ("file:///tmp/page.html", "file:///tmp/page.html"),
    ("http://host?email=a@b.c", "http://host?email=a@b.c"),
    ("javascript:alert(1)", "javascript:alert(1)"),
])
def test_named_examples(url, expected):
    assert redact().redact_url(url) == expected


# -- every family by name, as the issue found them kept --------------------------------------------

FAMILIES = {  # name -> redacted?
    "token": True, "access_token": True, "apikey": True, "API_KEY": True, "Key": True,
    "client_secret": True, "password": True, "passwd": True, "pwd": True, "PWD": True,
    "auth": True, "authorization": True, "sig": True, "signature": True, "X-Amz-Signature": True,
    "X-Amz-Credential": True, "X-Amz-Security-Token": True, "X-Amz-Date": True,
    "x-amz-expires": True, "X-Goog-Signature": True, "X-Goog-Credential": True,
    "x-goog-date": True, "credential": True, "credentials": True, "session": True,
    "session_id": True, "JSESSIONID": True, "code": True, "auth_code": True, "se": True,
    "SE": True, "sp": True, "%73ig": True, "%58-Amz-Credential": True,
    # innocent names stay
    "page": False, "lang": False, "sv": False, "sr": False, "spr": False, "seq": False,
    "x-amzn": False, "amz": False, "id": False, "q": False,
}


@pytest.mark.parametrize(("name", "secret"), FAMILIES.items(), ids=FAMILIES.keys())
def test_every_secret_family_by_name(name, secret):
    url = f"https://h/p?{name}=Zq7value&keep=1"
    out = redact().redact_url(url)
    assert out == (f"https://h/p?{name}=REDACTED&keep=1" if secret else url)
    assert redact().is_secret_name(name) is secret
    assert ("Zq7value" in redact().secrets_of(url)) is secret


@pytest.mark.parametrize(("fragment", "expected"), [
    ("abc", "REDACTED"),  # bare: the whole fragment
    ("section-2", "REDACTED"),
    ("access_token=t&state=1", "access_token=REDACTED&state=1"),
    ("abc&token=t", "REDACTED&token=REDACTED"),
    ("REDACTED", "REDACTED"),
    ("", ""),
])
def test_the_fragment(fragment, expected):
    assert redact().redact_url(f"https://h/p?x=1#{fragment}") == f"https://h/p?x=1#{expected}"


def test_the_issues_examples():
    """Issue 26: each of these was kept verbatim on stderr, in the log, the instance, the alert."""
    url = ("http://127.0.0.1:8000/p.htm?pwd=hunter2&X-Amz-Credential=AKIAZQ7%2F20240101"
           "&code=oauth-Zq7#bare-Zq7-fragment")
    assert redact().redact_url(url) == ("http://127.0.0.1:8000/p.htm?pwd=REDACTED"
                                        "&X-Amz-Credential=REDACTED&code=REDACTED#REDACTED")
    assert {"hunter2", "AKIAZQ7/20240101", "oauth-Zq7", "bare-Zq7-fragment"} <= \
        redact().secrets_of(url)
    message = f"HTTP 404 from {url}; as hunter2 with bare-Zq7-fragment"
    out = redact().redact_text(message, url)
    assert not any(s in out for s in ("hunter2", "AKIAZQ7", "oauth-Zq7", "bare-Zq7")), out


@pytest.mark.parametrize(("url", "origin"), [
    ("https://hooks.example.com/services/T0/B0/SECRET?token=x", "https://hooks.example.com"),
    ("http://u:p@127.0.0.1:9/alerts#x", "http://127.0.0.1:9"),
    ("https://bob:p#ss@host/x", "https://host"),
    ("not a url", "(not a URL)"),
    ("", "(none)"),
    (None, "(none)"),
])
def test_origin_of_names_a_webhook_by_its_host_only(url, origin):
    assert redact().origin_of(url) == origin


@SETTINGS
@given(st.text())
def test_origin_of_never_raises(text):
    assert isinstance(redact().origin_of(text), str)


def test_redact_text_on_a_fetch_error_message():
    url = "http://user:s3cr3t-pw@127.0.0.1:8000/p.htm?token=t0ken-abc"
    text = f"HTTP 404 from {url} (after 1 attempts); user:s3cr3t-pw tried"
    out = redact().redact_text(text, url)
    assert out == ("HTTP 404 from http://127.0.0.1:8000/p.htm?token=REDACTED (after 1 attempts); "
                   "REDACTED tried")


# -- database URLs, read as SQLAlchemy reads them to connect ---------------------------------------

@pytest.mark.parametrize("url, shown", [
    ("postgresql://kfor:s3cret@db:5432/dagster", "postgresql://db:5432/dagster"),
    ("postgresql://kfor:2024/Spring@db/dagster", "postgresql://db/dagster"),  # "2024" no port
    ("postgresql://kfor:a?b#c@db:5432/dagster", "postgresql://db:5432/dagster"),
    ("postgresql://kfor@127.0.0.1:5433/kfor", "postgresql://127.0.0.1:5433/kfor"),
    ("not a url at all: s3cret", "(a database URL that does not parse)"),
])
def test_a_database_url_is_shown_without_its_user_and_password(url, shown):
    from orchestration.core.redact import redact_db_text, redact_db_url

    assert redact_db_url(url) == shown
    message = redact_db_text(f"cannot connect to {url}: password for kfor was refused", url)
    assert "2024/Spring" not in message and "s3cret" not in message and "a?b#c" not in message
