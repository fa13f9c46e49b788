"""The representative pages (families.py), each parsed once: a rendering of the 20 Nov 2023 page
gives its facts (and, when only markup changed, its article text and version key); an older layout
gives the facts it states, whole (C4, L1), with no menu, sidebar or footer text in its article
(L4)."""

from __future__ import annotations

import dataclasses

import pytest
from families import LAYOUTS, RENDERINGS, Layout, figure_facts, parsed, today_figures
from variants import CONTENT_TYPE, Variant

from orchestration.parsing import HISTORICAL, LIVE, ParsedPage
from orchestration.parsing.records import figure_text


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


@pytest.mark.parametrize("variant", RENDERINGS, ids=[v.name for v in RENDERINGS])
def test_a_rendering_of_the_page_gives_its_facts(variant: Variant, parsed: ParsedPage) -> None:
    snapshot = parsed
    page = _parse(variant.body(), variant.content_type)
    actual, expected = facts(page), facts(snapshot)
    for key in expected:  # one assertion per part, so a failure names the part
        assert actual[key] == expected[key], key
    if variant.same_text:  # only markup changed: the same version (SPEC: version identity)
        assert page.article_text == snapshot.article_text
        assert page == snapshot
    else:  # other words, or other line breaks: another version with the same facts
        assert page.content_sha256 != snapshot.content_sha256


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.id for layout in LAYOUTS])
def test_a_layout_gives_the_facts_it_states(layout: Layout, parsed: ParsedPage) -> None:
    page = _parse(layout.body(), layout.content_type, layout.requirements)
    assert page.title == layout.title
    assert page.last_updated_text == layout.stamp
    assert (f"\nLast updated: {layout.stamp}\n" in page.article_text) == (layout.stamp is not None)
    # the commanders, whole and numbered as one list (C4)
    assert len(page.commanders) == layout.commanders
    assert [c.ordinal for c in page.commanders] == list(range(1, layout.commanders + 1))
    if layout.last:
        last = page.commanders[-1]
        assert (last.full_name, last.start_text, last.end_text) == layout.last
        assert all(c.end_text for c in page.commanders[:-1])
        assert {c.section for c in page.commanders} == {layout.commanders_section}
        first = page.commanders[0]
        assert (first.rank, first.honorific, first.full_name, first.nation_code,
                first.service_code, first.start_text) == (
            "Lt. Gen.", "Sir", "Michael Jackson", "UK", "A", "09 Jun 1999")
    # KFOR's figure for today, once (T6, L1), and the other figures and events it states
    [today] = today_figures(page)
    assert (figure_text(today), today.approximation, today.contributing_nations_text) == \
        layout.today
    assert set(layout.figures) <= figure_facts(page)
    assert set(layout.events) <= {(e.event_type, e.period_text) for e in page.events}
    headings = [s.heading_path for s in page.sections]
    assert headings[:len(layout.sections)] == list(layout.sections)
    # no text of the site's menus, sidebars or footers (L4)
    assert [word for word in layout.absent if word in page.article_text] == []
    if layout.snapshot_key:  # only markup changed
        assert page.content_sha256 == parsed.content_sha256
    if layout.same_records:
        assert page == parsed
    # L2: a version that passes live reads the same as a historical capture
    if layout.requirements is HISTORICAL and layout.stamp and layout.commanders:
        assert _parse(layout.body(), layout.content_type, LIVE) == page


def test_the_snapshot_as_bold_headings_keeps_its_figures_under_flat_headings(
        parsed: ParsedPage) -> None:
    """L5: bold paragraphs are headings one level below the title; the figures keep their
    force, date and type, only their section paths flatten."""
    [layout] = [x for x in LAYOUTS if x.name.startswith("snapshot, headings as bold")]
    page = _parse(layout.body(), None)
    assert [s.heading for s in page.sections] == [s.heading for s in parsed.sections]
    assert {s.level for s in page.sections[1:]} == {2}
    strip = [dataclasses.replace(f, section="") for f in parsed.troop_figures]
    assert [dataclasses.replace(f, section="") for f in page.troop_figures] == strip
    assert page.troop_figures[0].section == "KFOR's objectives"


def test_a_capture_whose_text_holds_commander_lines_never_has_an_empty_list() -> None:
    """L1, C4: under the historical requirements too, a list that is there is read or refused."""
    for layout in LAYOUTS:
        page = _parse(layout.body(), layout.content_type, HISTORICAL)
        assert bool(page.commanders) == (", UK A" in page.article_text
                                         or "(UK A)" in page.article_text
                                         or "\nUK A\n" in page.article_text), layout.name


def _parse(body: bytes, content_type: str | None = CONTENT_TYPE, requirements=LIVE) -> ParsedPage:
    return parsed(body, content_type, requirements)
