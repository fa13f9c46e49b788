"""A publish whose exports fail (issue 16): the page is published (exit 0), one warning line says
the exports failed, one alert is posted, and the next refresh makes the exports again."""

from __future__ import annotations

import json

import pytest
from reliability.harness import kfor
from support import pages
from support.fetch_log import fetches

from orchestration.core.files import WarehouseFiles

HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.mark.extended  # beyond CI's 20 minutes: make test-extended (tests/README.md)
def test_a_failed_export_warns_once_alerts_once_and_never_unpublishes(
        published_v1, raw_dir, receiver, page_server):
    files = WarehouseFiles(published_v1)
    current = files.parquet / "current"
    current.unlink()
    current.write_text("not a link")  # what a user's stray file does to the export's last step
    url = page_server.route("/v2.htm", body=pages.v2(), headers=HTML)
    out = kfor("refresh", "--source", url)
    assert out.returncode == 0 and out.stdout.startswith("published: "), out.stderr
    # recovery notes first that it could not re-make v1's exports; the failure is warned once
    warnings = [x for x in out.stderr.splitlines() if x.startswith("warning: ")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: the exports failed: "), out.stderr
    assert "is not a symlink" in warnings[0]
    assert fetches(raw_dir)[-1]["outcome"] == "published"
    (alert,) = [p["json"] for p in receiver.wait_for(1)]
    assert alert["event"] == "export_failed" and alert["warehouse"] == str(published_v1)
    assert len(receiver.wait_for(2, timeout=1)) == 1  # once

    current.unlink()  # the user removes the stray file: the next refresh makes the exports
    again = kfor("refresh", "--source", url)
    assert again.returncode == 0 and again.stdout.startswith("unchanged: "), again.stderr
    assert "re-made the exports" in again.stderr
    manifest = json.loads((files.parquet / "current" / "manifest.json").read_text())
    assert manifest["version"] == fetches(raw_dir)[-2]["content_sha256"]
    assert (files.img / "troop_levels.png").stat().st_size > 10_000
