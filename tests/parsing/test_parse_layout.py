"""Page layouts that move the page's metadata out of the article element."""

from orchestration.core.layout import bundled_snapshot
from orchestration.core.reference import load_reference
from orchestration.parsing import parse_page

REFERENCE = load_reference()

SNAPSHOT = bundled_snapshot().read_bytes()


def test_last_updated_in_a_header_outside_main_is_found_and_keeps_the_version_key():
    moved = SNAPSHOT.replace(
        b'<li class="date">Last updated: 20 Nov. 2023 17:24</li>', b"").replace(
        b'<div class="breadcrumb">',
        b'<p class="updated">Last updated: 20 Nov. 2023 17:24</p><div class="breadcrumb">')
    assert moved != SNAPSHOT
    original, page = parse_page(SNAPSHOT, None, REFERENCE), parse_page(moved, None, REFERENCE)
    assert page.last_updated_text == "20 Nov 2023 17:24"
    assert page.content_sha256 == original.content_sha256
    assert page.commanders == original.commanders
