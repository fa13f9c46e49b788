"""Bad pages (tests/reliability/bad_pages.py, generated from the snapshot) served over HTTP after v1
is published: each must be refused by a named check, the parser's or a dbt test's, before publish.
`kfor refresh` exits 1 with one line naming the check, the published file stays byte-identical,
the fetch log says `rejected: <check>`, the bad body is archived when it looks like HTML (else its
hash and size are logged), and no scratch file is left."""

from __future__ import annotations

import hashlib

import pytest
from support.warehouse import file_sha256, query

from orchestration.core.archive import looks_like_html

from .bad_pages import CASES
from .harness import assert_refused, kfor, log_records

pytestmark = pytest.mark.builds(1)  # tests/conftest.py hands it out early

# case -> the checks that may name the rejection. Where one defect fails several dbt tests, dbt
# (4 threads) finishes them in no fixed order and the first to finish names the outcome; the
# others follow in the message ("+N more: ...").
TENURE_CHAIN = {"assert_tenure_handovers", "exactly_one_true_fct_command_tenure_is_current"}
# a page that rewrites one of v1's past tenures also fails the check against the previous version
# (P3 of docs/rules.md), which sorts first
PAST_TENURES = "assert_past_tenures_kept"
SLOW = pytest.mark.slow  # cases beyond one per family, in CI's slow run: `make test` stays short
EXTENDED = pytest.mark.extended  # beyond CI's 20 minutes: make test-extended
EXPECTED: list = [
    # one parse refusal end to end in `make test`; the parser's unit tests decide each check
    ("commanders_missing", {"parse:commanders_missing"}),
    pytest.param("headings_renamed", {"parse:commanders_missing"}, marks=SLOW),
    pytest.param("empty_body", {"parse:empty_body"}, marks=SLOW),
    pytest.param("binary_garbage", {"parse:not_html"}, marks=SLOW),
    pytest.param("wrong_charset", {"parse:charset_mismatch"}, marks=SLOW),
    pytest.param("last_updated_missing", {"parse:last_updated_missing"}, marks=SLOW),
    pytest.param("commander_without_dates", {"parse:commander_without_dates"}, marks=SLOW),
    pytest.param("impossible_date", {"converts_stg_raw__commanders_start_text__start_date",
                                     "converts_stg_raw__commanders_end_text__end_date"}, marks=EXTENDED),
    pytest.param("two_current", TENURE_CHAIN | {PAST_TENURES}, marks=SLOW),
    # one dbt refusal end to end in `make test`; dbt's unit tests decide the rest
    ("unknown_nation", {"relationships_dim_commander_nation_key__nation_key__ref_dim_nation_",
                        "relationships_fct_command_tenure_nation_key__nation_key__ref_dim_nation_"}),
    pytest.param("zero_troops", {"positive_fct_troop_level_troops"}, marks=EXTENDED),
    # a number past INT32: the cast gives null and the converts check names it
    pytest.param("troop_count_overflow", {"converts_stg_raw__troop_figures_troops_text__troops"},
                 marks=EXTENDED),  # try_integer's range is unit-tested on both engines
    # one case beyond issue 4's list, beyond CI's 20 minutes (dbt's unit tests decide it)
    pytest.param("start_in_the_future", {PAST_TENURES,  # it moves v1's current tenure too
                             "within_page_dates_fct_command_tenure_start_date",
                             "within_page_dates_fct_command_tenure_end_date",
                             "within_page_dates_fct_event_event_date",
                             "within_page_dates_fct_event_event_end_date__date_precision"},
                 marks=EXTENDED),
]


def _name(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


def test_every_generated_case_is_tested():
    assert sorted(CASES) == sorted(_name(case) for case in EXPECTED)
    assert len(CASES) >= 12
    # (a tenure ending before it starts, a present tenure not last, a duplicated commander and a
    # list ten times longer went in issue 20: dbt's unit tests of the tenure chain decide them,
    # and two_current runs that chain end to end)


@pytest.mark.parametrize(("case", "checks"), EXPECTED, ids=[_name(case) for case in EXPECTED])
def test_bad_page_is_rejected_by_a_named_check(server, published_v1, raw_dir, case, checks):
    body, content_type = CASES[case]()
    url = server.route("/topics_48818.htm", body=body, headers={"Content-Type": content_type})
    before = file_sha256(published_v1)
    version = query(published_v1, "SELECT content_sha256 FROM marts.meta")

    out = kfor("refresh", "--source", url)

    record = assert_refused(out, published_v1, raw_dir, before, "rejected: ")
    check = record["outcome"].removeprefix("rejected: ")
    assert check in checks, \
        f"{case}: rejected by {check!r}, expected one of {sorted(checks)}"
    line = out.stderr.strip()
    assert line.startswith(f"rejected: {check} (") and len(line) < 600, line
    assert record["message"] and "\n" not in record["message"]
    # the log says which body it was; one that looks like HTML is archived (content-addressed),
    # anything else (empty, binary) only by its hash and size
    assert record["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert record["bytes"] == len(body)
    archived = raw_dir / "pages" / f"{record['body_sha256']}.html"
    if looks_like_html(body):
        assert archived.read_bytes() == body
    else:
        assert not archived.exists()
    assert [r["outcome"] for r in log_records(raw_dir)] == ["published", record["outcome"]]
    assert query(published_v1, "SELECT content_sha256 FROM marts.meta") == version
