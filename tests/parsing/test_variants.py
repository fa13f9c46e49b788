"""Other renderings of the same page must parse to the same facts.

A rendering that changes only markup (how lines are grouped into elements, entities, wrappers,
headings as ARIA roles, tag case, line endings, BOM, charset) must give the identical ParsedPage,
content_sha256 (the version key) included: NATO re-templating the page is not a new version.
A rendering that changes the text (other separators, "today" for "present", one line for two)
must give the same facts under another version key. See variants.py for the renderings."""

from __future__ import annotations

import dataclasses

import pytest
from variants import (
    MARKUP_ONLY,
    TEXT_CHANGES,
    VARIANTS,
    Variant,
    snapshot_bytes,
    snapshot_text,
    with_present_spelt,
)

from orchestration.core.reference import load_reference
from orchestration.parsing import ParsedPage, parse_page

REFERENCE = load_reference()


def facts(page: ParsedPage) -> dict:
    """What the page says, without the text it was read from: section headings in order,
    commanders (without their source lines), figures and dated mentions."""
    return {
        "title": page.title,
        "last_updated": page.last_updated_text,
        "sections": [(s.ordinal, s.level, s.heading, s.heading_path) for s in page.sections],
        "commanders": [dataclasses.replace(c, source_text="") for c in page.commanders],
        "troop_figures": list(page.troop_figures),
        "events": list(page.events),
    }


def _ids(variants: list[Variant]) -> list[str]:
    return [v.name for v in variants]


@pytest.mark.parametrize("variant", VARIANTS, ids=_ids(VARIANTS))
def test_variant_changes_the_bytes(variant: Variant) -> None:
    """Guards the guard: a transformation that no longer matches the snapshot would test nothing."""
    assert variant.body() != snapshot_bytes()


@pytest.mark.parametrize("variant", VARIANTS, ids=_ids(VARIANTS))
def test_variant_reads_to_the_same_facts(variant: Variant, parsed: ParsedPage) -> None:
    page = parse_page(variant.body(), variant.content_type, REFERENCE)
    actual, expected = facts(page), facts(parsed)
    for key in expected:  # one assertion per part, so a failure names the part
        assert actual[key] == expected[key], key


@pytest.mark.parametrize("variant", MARKUP_ONLY, ids=_ids(MARKUP_ONLY))
def test_markup_only_variant_is_the_same_page(variant: Variant, parsed: ParsedPage) -> None:
    """Same article text, same version key, same section texts and source lines."""
    page = parse_page(variant.body(), variant.content_type, REFERENCE)
    assert page.article_text == parsed.article_text
    assert page.content_sha256 == parsed.content_sha256
    assert page == parsed


@pytest.mark.parametrize("variant", TEXT_CHANGES, ids=_ids(TEXT_CHANGES))
def test_text_changing_variant_is_a_new_version(variant: Variant, parsed: ParsedPage) -> None:
    """The version key follows the text: other words (or other line breaks) are another version,
    even when the facts are the same."""
    page = parse_page(variant.body(), variant.content_type, REFERENCE)
    assert page.article_text != parsed.article_text
    assert page.content_sha256 != parsed.content_sha256


def test_every_listed_rendering_is_checked_for_its_version_key() -> None:
    """Each variant says whether it changes only markup; the two lists cover the catalogue."""
    assert all(v.same_text for v in MARKUP_ONLY)
    assert not any(v.same_text for v in TEXT_CHANGES)
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize("word", ["present", "Present", "PRESENT", "today", "Today"])
def test_current_commander_has_no_end_date(word: str) -> None:
    """(j) However "present" is spelt, the last tenure is open and the others are closed."""
    page = parse_page(with_present_spelt(snapshot_text(), word).encode(), None, REFERENCE)
    assert page.commanders[-1].full_name == "Özkan Ulutaş"
    assert page.commanders[-1].end_text is None
    assert all(c.end_text for c in page.commanders[:-1])
