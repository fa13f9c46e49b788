"""What the fetch log says about a changed page before anything is built (core.decide.held_back):
a build already requested and not started, a rollback that holds, a refusal that stands. Real
fetch logs; milliseconds each."""

from __future__ import annotations

import pytest
from core.test_recovery import now_stamp, record

from orchestration.core.decide import RefreshError, held_back
from orchestration.core.outcome import conclude, intend
from orchestration.core.settings import Settings


@pytest.fixture
def settings(raw_dir) -> Settings:
    return Settings.from_env()


def page(version: str, against: str) -> dict:
    return {"content_sha256": version, "compared_with": against}


def test_a_changed_page_with_no_history_is_built(settings):
    assert held_back(settings, page("v2", "v1"), retry=False) is None


def test_a_build_the_sensor_requested_holds_back_a_second_one(settings):
    intend(settings, record("a", "01", "v2", compared_with="v1", run_key="k")
           | {"fetched_at": now_stamp()})
    assert "has not started yet" in held_back(settings, page("v2", "v1"), retry=False)
    assert held_back(settings, page("v3", "v1"), retry=False) is None  # another version: built


def test_a_rollback_holds_until_the_page_changes_or_retry(settings):
    conclude(settings, record("r", "02", "v1", source="rollback", compared_with="v2"),
             "published", alert=False)
    assert "rollback holds" in held_back(settings, page("v2", "v1"), retry=False)
    assert held_back(settings, page("v2", "v1"), retry=True) is None
    assert held_back(settings, page("v3", "v1"), retry=False) is None


def test_a_rejected_pair_is_refused_again_unless_retried(settings):
    conclude(settings, record("a", "01", "v2", compared_with="v1"), "rejected: dbt checks",
             "a check failed", alert=False)
    with pytest.raises(RefreshError, match="already refused"):
        held_back(settings, page("v2", "v1"), retry=False)
    assert held_back(settings, page("v2", "v1"), retry=True) is None
    assert held_back(settings, page("v2", "v0"), retry=False) is None  # another published version
