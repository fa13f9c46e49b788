"""Alerting: a failed or rejected refresh reaches KFOR_WEBHOOK_URL (a local receiver recording the
POSTed JSON) from the Dagster run-failure sensor and from the CLI, and shows in `kfor status`."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from orchestration.sensors import report_failed_run
from support import pages

from .bad_pages import commanders_missing, zero_troops
from .faults import WebhookReceiver
from .harness import kfor, log_records

HTML = "text/html; charset=utf-8"


@pytest.fixture
def receiver(monkeypatch):
    with WebhookReceiver() as r:
        monkeypatch.setenv("KFOR_WEBHOOK_URL", r.url())
        yield r


def _run_failure_context(instance: dg.DagsterInstance, result) -> dg.RunFailureSensorContext:
    return dg.build_run_status_sensor_context(
        sensor_name="report_failed_run", dagster_instance=instance,
        dagster_run=result.dagster_run, dagster_event=result.get_run_failure_event(),
    ).for_run_failure()


@dg.op
def fail_to_fetch():
    raise RuntimeError("failed: HTTP 503 from http://127.0.0.1/p (after 4 attempts)")


@dg.job
def tiny_failing_job():
    fail_to_fetch()


def test_run_failure_sensor_posts_the_failed_run(receiver):
    instance = dg.DagsterInstance.ephemeral()
    result = tiny_failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success

    report_failed_run(_run_failure_context(instance, result))

    posts = receiver.wait_for(1)
    assert len(posts) == 1 and posts[0]["content_type"] == "application/json"
    alert = posts[0]["json"]
    assert alert["event"] == "refresh_failed"
    assert alert["run_id"] == result.run_id and alert["job"] == "tiny_failing_job"
    assert alert["message"]


def test_an_undeliverable_alert_does_not_raise(monkeypatch):
    """A webhook that is down is logged, never turned into a crash of the sensor."""
    monkeypatch.setenv("KFOR_WEBHOOK_URL", "http://127.0.0.1:9/alerts")  # nothing listens
    instance = dg.DagsterInstance.ephemeral()
    result = tiny_failing_job.execute_in_process(instance=instance, raise_on_error=False)
    report_failed_run(_run_failure_context(instance, result))


def test_run_failure_sensor_reports_the_outcome_of_a_scheduled_run(receiver, tmp_path, raw_dir,
                                                                    server, published_v1):
    """As the schedule does it: the tick's light check passes the changed page on to the refresh
    job in its run config; dbt rejects the page; the sensor's alert carries the logged outcome."""
    from orchestration.definitions import defs
    from orchestration.refresh import check_page

    body, content_type = zero_troops()
    url = server.route("/p.htm", body=body, headers={"Content-Type": content_type})
    check = check_page(url)
    assert check.changed
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=instance, raise_on_error=False,
        run_config={"ops": {"page": {"config": {"fetch_record": json.dumps(check.record)}}}})
    assert not result.success
    record = log_records(raw_dir)[-1]
    assert record["outcome"] == "rejected: positive_fct_troop_level_troops"

    report_failed_run(_run_failure_context(instance, result))

    alert = receiver.wait_for(1)[0]["json"]
    assert alert["event"] == "refresh_rejected" and alert["run_id"] == result.run_id
    assert alert["outcome"] == record["outcome"]
    assert alert["fetch_id"] == record["fetch_id"] and alert["url"] == url


def _unconfigured_refresh_job_run(tmp_path):
    """The refresh job materialized without a fetch record (from the UI, say): its own page step
    fetches, and rejects a page without its commanders section."""
    from orchestration.definitions import defs
    from orchestration.resources import PageSource, RefreshLock

    page = tmp_path / "bad.html"
    page.write_bytes(commanders_missing()[0])
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=instance, raise_on_error=False,
        resources={"page_source": PageSource(url=page.as_uri()), "refresh_lock": RefreshLock()})
    assert not result.success
    return instance, result


def test_run_failure_sensor_reports_an_unconfigured_run(receiver, tmp_path, raw_dir):
    instance, result = _unconfigured_refresh_job_run(tmp_path)
    assert log_records(raw_dir)[-1]["outcome"] == "rejected: parse:commanders_missing"

    report_failed_run(_run_failure_context(instance, result))

    alert = receiver.wait_for(1)[0]["json"]
    assert alert["job"] == "refresh" and alert["run_id"] == result.run_id
    assert alert["event"] in ("refresh_failed", "refresh_rejected") and alert["message"]


def test_run_failure_sensor_alert_names_the_outcome_of_an_unconfigured_run(receiver, tmp_path,
                                                                            raw_dir):
    instance, result = _unconfigured_refresh_job_run(tmp_path)
    record = log_records(raw_dir)[-1]

    report_failed_run(_run_failure_context(instance, result))

    alert = receiver.wait_for(1)[0]["json"]
    assert alert.get("outcome") == "rejected: parse:commanders_missing", alert
    assert alert.get("fetch_id") == record["fetch_id"] and alert.get("url") == record["url"]


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
