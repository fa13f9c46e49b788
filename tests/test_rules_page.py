"""docs/rules.md is the one place the rules are written (D*, T*, E*, C*, and the families still to
be written): every rule id the code, the dbt project and the golden file cite is defined there, and
every rule defined there is cited by at least one of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES_PAGE = ROOT / "docs" / "rules.md"
_RULE = re.compile(r"^### ([A-Z])(\d+): \S", re.M)
_FAMILY = re.compile(r"^## [^(\n]*\(([A-Z])\)", re.M)


def _families() -> set[str]:
    return set(_FAMILY.findall(RULES_PAGE.read_text(encoding="utf-8")))


def _cite_pattern(families: set[str]) -> re.Pattern:
    """A rule id ("T3"), a range ("T1-T6", "D1\u2013D5") or a run ("E1/E2" reads as two ids); not a
    letter and digit inside a longer token ("OF-8", "UTF-8", "sha256")."""
    letters = "".join(sorted(families))
    return re.compile(rf"(?<![\w-])([{letters}])(\d{{1,2}})(?:\s*[-\u2013]\s*\1?(\d{{1,2}}))?"
                      rf"(?![\w-])")


def _citing_files() -> list[Path]:
    dbt = ROOT / "dbt_project"
    files = [*(ROOT / "orchestration").rglob("*.py"), *(dbt / "models").rglob("*.yml"),
             *(ROOT / "tests" / "golden").glob("*.yml")]
    for folder in ("models", "macros", "tests", "analyses", "snapshots"):
        files += (dbt / folder).rglob("*.sql")
    return sorted(files)


def defined() -> dict[str, str]:
    """Rule id -> its section of the page (heading to the next heading)."""
    text = RULES_PAGE.read_text(encoding="utf-8")
    heads = list(_RULE.finditer(text))
    out = {}
    for m, nxt in zip(heads, [*heads[1:], None], strict=True):
        end = nxt.start() if nxt else len(text)
        section = text[m.start():end].split("\n## ")[0]
        rule = f"{m[1]}{m[2]}"
        assert rule not in out, f"{rule} is defined twice"
        out[rule] = section
    return out


def cited() -> dict[str, set[str]]:
    """Rule id -> the files (relative to the project) that cite it."""
    pattern = _cite_pattern(_families())
    out: dict[str, set[str]] = {}
    for path in _citing_files():
        for m in pattern.finditer(path.read_text(encoding="utf-8")):
            first, last = int(m[2]), int(m[3] or m[2])
            for n in range(first, last + 1):
                out.setdefault(f"{m[1]}{n}", set()).add(str(path.relative_to(ROOT)))
    return out


def test_the_page_defines_the_rule_families() -> None:
    assert {"D", "T", "E", "C", "H", "V", "P"} <= _families()
    assert {r[0] for r in defined()} <= _families()


@pytest.mark.parametrize("rule", sorted(defined()))
def test_every_rule_has_a_statement_and_an_example(rule: str) -> None:
    section = defined()[rule]
    statement = section.split("\n", 1)[1].split("Example:")[0]
    assert statement.strip(), f"{rule} has no statement"
    assert "\nExample:" in section, f"{rule} has no example"


def test_every_cited_rule_is_on_the_page() -> None:
    missing = {rule: sorted(files) for rule, files in cited().items() if rule not in defined()}
    assert missing == {}, f"cited but not defined in docs/rules.md: {missing}"


def test_every_rule_on_the_page_is_cited() -> None:
    uncited = sorted(set(defined()) - set(cited()))
    assert uncited == [], f"defined in docs/rules.md but cited nowhere: {uncited}"


def test_the_golden_file_points_at_the_page_and_does_not_restate_it() -> None:
    golden = (ROOT / "tests" / "golden" / "nato-kosovo-2023-11-20.yml").read_text(encoding="utf-8")
    assert "docs/rules.md" in golden
    assert not re.search(r"^#\s+[A-Z]\d\s{2}", golden, re.M), "a rule is written out in the golden file"


def test_the_cite_pattern_reads_ranges_and_skips_other_tokens() -> None:
    pattern = _cite_pattern({"D", "T", "E", "C"})
    found = [(m[1], m[2], m[3]) for m in pattern.finditer(
        "D1-D5, T1\u2013T6, E1/E2; T3's; OF-8, UTF-8, sha256, KT3")]
    assert found == [("D", "1", "5"), ("T", "1", "6"), ("E", "1", None), ("E", "2", None),
                     ("T", "3", None)]
