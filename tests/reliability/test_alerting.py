"""Alerting: a failed or rejected refresh reaches KFOR_WEBHOOK_URL (a local receiver recording the
POSTed JSON) from the refreshing process, however the refresh was started, and shows in
`kfor status`."""

from __future__ import annotations

import json

import pytest
from support import pages

from orchestration.core import settings

from .bad_pages import commanders_missing, zero_troops
from .harness import kfor, log_records

HTML = "text/html; charset=utf-8"


def test_an_undeliverable_alert_does_not_raise(monkeypatch):
    """A webhook that is down is logged, never turned into a crash of the refresh."""
    from orchestration.core.outcome import send_alert

    monkeypatch.setenv("KFOR_WEBHOOK_URL", "http://127.0.0.1:9/alerts")  # nothing listens
    settings.get.cache_clear()
    assert send_alert(settings.get(), {"event": "refresh_failed"}) is False


def sensor_tick(monkeypatch, url: str):
    """One evaluation of the page sensor, and the run it requests executed as the daemon would:
    in its own process's instance, with the request's config and tags."""
    from orchestration.definitions import defs
    from orchestration.drivers.launch import get_instance
    from orchestration.sensors import evaluate

    monkeypatch.setenv("KFOR_SOURCE_URL", url)
    settings.get.cache_clear()
    tick = evaluate(settings.get())
    if not tick.run_requests:
        return tick, None
    (request,) = tick.run_requests
    result = defs().resolve_job_def("refresh").execute_in_process(
        run_config=request.run_config, tags=request.tags, raise_on_error=False,
        instance=get_instance(settings.get()))
    return tick, result


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_sensor_run_that_dbt_rejects_alerts_once_from_its_own_process(
        receiver, raw_dir, server, published_v1, monkeypatch):
    body, content_type = zero_troops()
    url = server.route("/p.htm", body=body, headers={"Content-Type": content_type})
    _, result = sensor_tick(monkeypatch, url)
    assert not result.success  # the run's own status says it did not publish
    record = log_records(raw_dir)[-1]
    assert record["outcome"] == "rejected: positive_fct_troop_level_troops"

    posts = receiver.wait_for(1)
    assert len(posts) == 1 and posts[0]["content_type"] == "application/json"
    alert = posts[0]["json"]
    assert alert["event"] == "refresh_rejected" and alert["run_id"] == result.run_id
    assert alert["outcome"] == record["outcome"]
    assert alert["fetch_id"] == record["fetch_id"] and alert["url"] == url
    assert len(receiver.wait_for(2, timeout=1)) == 1  # once


def test_a_sensor_tick_on_an_unreadable_page_skips_and_alerts_with_the_parse_check(
        receiver, tmp_path, raw_dir, monkeypatch):
    page = tmp_path / "bad.html"
    page.write_bytes(commanders_missing()[0])
    tick, result = sensor_tick(monkeypatch, page.as_uri())
    assert result is None  # no run: the sensor decided
    assert tick.skip_reason.skip_message.startswith("rejected: parse:commanders_missing")
    record = log_records(raw_dir)[-1]
    assert record["outcome"] == "rejected: parse:commanders_missing"
    alert = receiver.wait_for(1)[0]["json"]
    assert alert["outcome"] == "rejected: parse:commanders_missing", alert
    assert alert["fetch_id"] == record["fetch_id"] and alert["url"] == record["url"]
    assert len(receiver.wait_for(2, timeout=1)) == 1  # once


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_cli_posts_one_alert_per_failed_or_rejected_refresh(receiver, server, published_v1,
                                                            raw_dir):
    rejected = server.route("/bad.htm", body=commanders_missing()[0], headers={"Content-Type": HTML})
    failed = server.route("/gone.htm", status=404, body=b"gone")
    assert kfor("refresh", "--source", rejected).returncode == 1
    assert kfor("refresh", "--source", failed).returncode == 1
    good = server.route("/ok.htm", body=pages.v1(), headers={"Content-Type": HTML})
    assert kfor("refresh", "--source", good).returncode == 0  # unchanged: no alert

    posts = receiver.wait_for(2, timeout=3)
    records = log_records(raw_dir)[-3:-1]
    assert [p["json"].get("outcome") for p in posts] == [r["outcome"] for r in records]
    for post, record in zip(posts, records, strict=True):
        alert = post["json"]
        assert {"event", "outcome", "message", "url", "fetch_id"} <= set(alert), alert
        assert alert["url"] == record["url"] and alert["fetch_id"] == record["fetch_id"]
        assert alert["message"]
    assert [p["json"]["event"] for p in posts] == ["refresh_rejected", "refresh_failed"]


@pytest.mark.slow  # end to end: its path runs in make test once (tests/README.md)
def test_status_shows_failed_and_rejected_refreshes(server, published_v1, raw_dir):
    rejected = server.route("/bad.htm", body=commanders_missing()[0], headers={"Content-Type": HTML})
    failed = server.route("/gone.htm", status=404, body=b"gone")
    assert kfor("refresh", "--source", rejected).returncode == 1
    assert kfor("refresh", "--source", failed).returncode == 1

    out = kfor("status")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-2].endswith("  rejected: parse:commanders_missing"), out.stdout
    assert lines[-1].endswith(f"  failed: HTTP 404 from {failed}"), out.stdout
    assert lines[-3].endswith("  published")
    status = json.loads(kfor("status", "--json").stdout)
    assert [r["outcome"] for r in status["refreshes"]] == [
        "published", "rejected: parse:commanders_missing", f"failed: HTTP 404 from {failed}"]
    assert status["published"]["content_sha256"] == log_records(raw_dir)[0]["content_sha256"]
