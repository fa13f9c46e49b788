"""The version keys (content_sha256) of the bundled page and the fixture pages, pinned. A parser
change that moves one makes an archived version look new: change a value only on purpose, and say
why in the commit (issue 21 moved only natolive-2009-08's, whose menu and related link left its
article text, L4)."""

from __future__ import annotations

from pathlib import Path

from support import pages

from orchestration.core import layout as paths
from orchestration.core.reference import load_reference
from orchestration.parsing import HISTORICAL, LIVE, parse_page

REFERENCE = load_reference()
FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOT_KEY = "4d7556e21a20aa2f92e52c2ce7538945c2586fee014e00f5d661198ef49f4108"


def key(body: bytes, requirements=LIVE) -> str:
    return parse_page(body, None, REFERENCE, requirements).content_sha256


def test_the_bundled_page_keeps_its_version_key_under_either_requirements() -> None:
    bundled = sorted(paths.bundled_snapshot().parent.glob("*.html"))
    assert [p.name for p in bundled] == ["topics_48818-2023-11-20.html"]  # each one pinned here
    assert key(bundled[0].read_bytes()) == SNAPSHOT_KEY
    assert key(bundled[0].read_bytes(), HISTORICAL) == SNAPSHOT_KEY  # L2


def test_the_later_versions_keep_their_version_keys() -> None:
    assert {name: key(body()) for name, body in [
        ("v1", pages.v1), ("v2", pages.v2), ("v3", pages.v3),
        ("synthetic(1)", lambda: pages.synthetic(1)),
        ("synthetic(1000)", lambda: pages.synthetic(1000))]} == {
        "v1": SNAPSHOT_KEY,
        "v2": "9bbb84062fe6ec721432e865971cc1cbecbc9ded899bc9e6dad1a61a8985cc02",
        "v3": "3c0e5c62d46765473c5e9ac85b728c1c33c7a14936940479ae7bd1394a43c7a3",
        "synthetic(1)": "f376e539bc1e706c8065101921e6e99d8937b686b7e7bc53704967aa2678b320",
        "synthetic(1000)": "52483418ec1d99457244b92cf73f504db3a8443fa209082cd7cf5bc889e41a23",
    }


def test_the_older_layouts_keep_their_version_keys() -> None:
    assert {p.name: key(p.read_bytes(), HISTORICAL) for p in sorted(FIXTURES.glob("*.html"))} == {
        "natohq-2016-03.html": "420d4438b8f8a579b3b720f653c518e9f4751246d7d138c7277f24d52b500b23",
        "natohq-2019-10.html": "92733f852d8d808f053aeef89766875d89f895fc894cd1de12282ebf71b0188e",
        "natolive-2006-05.html": "cbfc48201aa9ac82f4f6297cc0e164ccf107e745a35a1f273301d50e879cacd7",
        "natolive-2008-03.html": "dc61cd93b2c942c1b4ddf030f87c272c3fb05d3cbe540b2e13335c9052d7297a",
        "natolive-2009-08.html": "209acf4139bab1ab0640bb6be965b7020166932282024113d4f0380d1679eebe",
        "natolive-2010-12.html": "8f8657822d0dd3dc6ac04b48c236588a4fced4b37a95528d85d4655fba9ffdea",
        "natolive-2012-10.html": "6d9ffbc48f2b19fc5fffdd6bb03334bf39832519c583caf83a86c7d4dc4cbbe3",
        "natolive-2013-11.html": "c68f75daeb13c4abe7c3a9925ce7cc6ab979f9639e3b12be0127ae3d34c01103",
    }
