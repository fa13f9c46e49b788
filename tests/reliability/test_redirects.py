"""Redirects (issue 10): followed only to the source's own host and port, or to a host in the
allow-list (KFOR_ALLOWED_HOSTS); an upgrade from http to https on the same host is fine (port 80
-> 443 counts as the same port); a downgrade from https to http never, anywhere in the chain, to
any host. A refused redirect is a FetchError naming the cause and the target, and nothing is
requested from the target.

The rule is checked on generated redirects (orchestration.core.fetch.redirect_refusal), and for real
against servers on 127.0.0.1: plain HTTP on two ports, HTTPS with a throwaway certificate, and
(when the ports are free) 80 -> 443."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import pages
from support.http_server import PageServer
from support.tls import TLSPageServer
from support.warehouse import file_sha256

from orchestration.core import fetch as fetch_mod
from orchestration.core.fetch import FetchError, FetchPolicy, fetch

from . import faults
from .harness import assert_refused, kfor, log_records

HTML = "text/html; charset=utf-8"
V1 = pages.v1()
FAST = dict(connect_timeout=1.0, read_timeout=1.0, deadline=5.0, max_attempts=1, backoff=0.01)
SETTINGS = settings(max_examples=400, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
DEFAULT = {"http": 80, "https": 443}


def policy(**overrides) -> FetchPolicy:
    return FetchPolicy(**{**FAST, **overrides})


def refusal(origin: str, current: str, target: str, allowed=()) -> str | None:
    return fetch_mod.redirect_refusal(origin, current, target, allowed)


def refused(url: str, pol: FetchPolicy | None = None) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, policy=pol or policy(), sleep=lambda s: None)
    return info.value


# -- the rule, on generated redirects -------------------------------------------------------------

HOSTS = ["127.0.0.1", "localhost", "www.nato.int", "nato.int", "[::1]"]


@st.composite
def endpoints(draw, scheme=None, host=None):
    scheme = scheme or draw(st.sampled_from(["http", "https"]))
    host = host or draw(st.sampled_from(HOSTS))
    port = draw(st.sampled_from([None, 80, 443, 8080, 8443, draw(st.integers(1, 65535))]))
    path = draw(st.sampled_from(["/", "/p.htm", "/cps/en/natohq/topics_48818.htm?x=1"]))
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"
    return {"url": url, "scheme": scheme, "host": host,  # as written: "[::1]"
            "hostname": host.strip("[]").lower(), "port": port or DEFAULT[scheme]}


allowed_lists = st.lists(st.sampled_from(HOSTS[:4]), max_size=2).map(tuple)


def is_upgrade(origin: dict, scheme: str, port: int) -> bool:
    return (origin["scheme"], origin["port"], scheme, port) == ("http", 80, "https", 443)


@SETTINGS
@given(endpoints(), endpoints(scheme="https"), endpoints(scheme="http"), allowed_lists)
def test_a_downgrade_is_never_followed(origin, current, target, allowed):
    """From any https hop to http: refused, even to the origin's host and port, or one allowed."""
    reason = refusal(origin["url"], current["url"], target["url"],
                     allowed + (target["hostname"],))
    assert reason and reason.startswith("redirect from https to http refused: "), reason
    assert target["url"] in reason


@SETTINGS
@given(endpoints(), st.sampled_from(["http", "https"]), st.booleans())
def test_the_same_host_and_port_is_followed(origin, scheme, explicit_port):
    if (origin["scheme"], scheme) == ("https", "http"):
        return
    port = origin["port"]
    if scheme != origin["scheme"]:  # http -> https: the same port, or the default upgrade
        port = 443 if origin["port"] == 80 else port
    written = f":{port}" if explicit_port or port != DEFAULT[scheme] else ""
    target = f"{scheme}://{origin['host'].upper()}{written}/moved?y=2"
    assert refusal(origin["url"], origin["url"], target) is None, target


@SETTINGS
@given(endpoints(), endpoints(), allowed_lists)
def test_another_host_is_refused_unless_allowed(origin, target, allowed):
    if target["hostname"] == origin["hostname"] or (origin["scheme"], target["scheme"]) == (
            "https", "http"):
        return
    reason = refusal(origin["url"], origin["url"], target["url"], allowed)
    if target["hostname"] in allowed:
        assert reason is None
    else:
        assert reason and reason.startswith("redirect to another host refused: "), reason
        assert "KFOR_ALLOWED_HOSTS" in reason


@SETTINGS
@given(endpoints(), st.integers(1, 65535), st.sampled_from(["http", "https"]))
def test_another_port_of_the_same_host_is_refused(origin, port, scheme):
    if (origin["scheme"], scheme) == ("https", "http") or port == origin["port"] \
            or is_upgrade(origin, scheme, port):
        return
    target = f"{scheme}://{origin['host']}:{port}/moved"
    reason = refusal(origin["url"], origin["url"], target)
    assert reason and reason.startswith("redirect to another port refused: "), (target, reason)


@pytest.mark.parametrize(("origin", "target"), [
    ("http://www.nato.int/p", "https://www.nato.int/p"),
    ("http://www.nato.int:80/p", "https://www.nato.int/p"),
    ("http://www.nato.int/p", "https://www.nato.int:443/p"),
    ("HTTP://WWW.NATO.INT/p", "https://www.nato.int/p"),
])
def test_the_upgrade_to_https_on_the_default_ports_is_followed(origin, target):
    assert refusal(origin, origin, target) is None
    # and the chain goes on over https on that host, but never back to http
    assert refusal(origin, target, "https://www.nato.int/q") is None
    assert refusal(origin, target, "http://www.nato.int/q").startswith("redirect from https")


@pytest.mark.parametrize(("origin", "target"), [
    ("http://h:8080/p", "https://h:8443/p"),  # an upgrade that also changes the port
    ("http://h/p", "http://h:8080/p"),
    ("https://h/p", "https://h:8443/p"),
    ("http://h:8080/p", "http://h/p"),
])
def test_other_port_changes_are_refused(origin, target):
    assert refusal(origin, origin, target).startswith("redirect to another port refused: ")


def test_an_allowed_host_may_use_any_port_but_not_a_downgrade():
    assert refusal("http://a/p", "http://a/p", "http://b:9000/q", ("b",)) is None
    assert refusal("https://a/p", "https://a/p", "http://b/q", ("b",)).startswith(
        "redirect from https to http refused")


# -- for real, against local servers --------------------------------------------------------------

def test_a_redirect_to_another_port_of_the_same_host_is_refused(server):
    with PageServer() as other:
        target = other.route("/elsewhere", body=V1, headers={"Content-Type": HTML})
        server.route("/p", handler=faults.redirect(target))
        error = refused(server.url("/p"))
        assert error.cause.startswith(f"redirect to another port refused: {target}"), error.cause
        assert other.hits["/elsewhere"] == 0


def test_a_port_change_is_followed_when_the_host_is_allowed(server):
    with PageServer() as other:
        target = other.route("/elsewhere", body=V1, headers={"Content-Type": HTML})
        server.route("/p", handler=faults.redirect(target))
        result = fetch(server.url("/p"), policy=policy(allowed_hosts=("127.0.0.1",)))
        assert result.body == V1 and result.url == target


def test_https_to_http_is_refused(tls_server, server):
    target = server.route("/plain", body=V1, headers={"Content-Type": HTML})
    tls_server.route("/p", handler=faults.redirect(target))
    for allowed in ((), ("127.0.0.1",)):  # not even to an allowed host
        error = refused(tls_server.url("/p"), policy(allowed_hosts=allowed))
        assert error.cause.startswith(f"redirect from https to http refused: {target}"), \
            error.cause
    assert server.hits["/plain"] == 0


def test_https_is_fetched_and_same_port_redirects_are_followed(tls_server):
    """The TLS server itself works (so the refusals above are the policy's, not TLS errors)."""
    tls_server.route("/old", handler=faults.redirect("/new", status=301))
    url = tls_server.route("/new", body=V1, headers={"Content-Type": HTML})
    result = fetch(tls_server.url("/old"), policy=policy())
    assert result.body == V1 and result.url == url


def test_a_downgrade_later_in_the_chain_is_refused(server, tls_server):
    """http -> https (an allowed host) -> http: the second hop is a downgrade."""
    back = server.route("/back", body=V1, headers={"Content-Type": HTML})
    tls_server.route("/up", handler=faults.redirect(back))
    server.route("/start", handler=faults.redirect(tls_server.url("/up")))
    error = refused(server.url("/start"), policy(allowed_hosts=("127.0.0.1",)))
    assert error.cause.startswith(f"redirect from https to http refused: {back}"), error.cause
    assert server.hits["/back"] == 0 and tls_server.hits["/up"] == 1


def test_http_80_to_https_443_is_followed(tls_files, monkeypatch):
    """The upgrade for real on the default ports (skipped when they are taken or not ours)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))
    try:
        plain = PageServer(port=80)
    except OSError as e:
        pytest.skip(f"port 80 on 127.0.0.1 is not available: {e}")
    try:
        secure = TLSPageServer(*tls_files, port=443)
    except OSError as e:
        plain.httpd.server_close()
        pytest.skip(f"port 443 on 127.0.0.1 is not available: {e}")
    with plain, secure:
        url = secure.route("/p.htm", body=V1, headers={"Content-Type": HTML})
        assert url == "https://127.0.0.1/p.htm"
        plain.route("/p.htm", handler=faults.redirect(url, status=301))
        result = fetch("http://127.0.0.1/p.htm", policy=policy())
        assert result.body == V1 and result.url == url


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_cli_redirect_to_another_port(server, published_v1, raw_dir):
    with PageServer() as other:
        target = other.route("/topics_48818.htm", body=V1, headers={"Content-Type": HTML})
        server.route("/p", handler=faults.redirect(target))
        out = kfor("refresh", "--source", server.url("/p"))
        record = assert_refused(out, published_v1, raw_dir, file_sha256(published_v1),
                                f"failed: redirect to another port refused: {target}")
        assert record["url"] == server.url("/p") and other.hits["/topics_48818.htm"] == 0
        assert len(log_records(raw_dir)) == 2
