"""The version key (content_sha256) of every fixture page, pinned. A parser change that moves one
makes an archived version look new (issue 11: the BeautifulSoup port keeps every key). Change a
value only on purpose, and say why in the commit."""

from __future__ import annotations

import pytest
from support import pages
from variants import CONTENT_TYPE, VARIANTS

from orchestration import paths
from orchestration.parsing import parse_page
from orchestration.reference import load_reference

REFERENCE = load_reference()

SNAPSHOT_KEY = "4d7556e21a20aa2f92e52c2ce7538945c2586fee014e00f5d661198ef49f4108"

BUNDLED = {
    "topics_48818-2023-11-20.html": SNAPSHOT_KEY,
}
VERSIONS = {
    "v1": SNAPSHOT_KEY,
    "v2": "9bbb84062fe6ec721432e865971cc1cbecbc9ded899bc9e6dad1a61a8985cc02",
    "v3": "3c0e5c62d46765473c5e9ac85b728c1c33c7a14936940479ae7bd1394a43c7a3",
    "synthetic(1)": "f376e539bc1e706c8065101921e6e99d8937b686b7e7bc53704967aa2678b320",
    "synthetic(2)": "75ed93d375afc6ba927aa1fdd147681835ab90f0be205320ccf52f9d57527377",
    "synthetic(28)": "dbf7c9ca476339ead8116e3f42841b1a3d9aa159833f77cb22efdc88434dbc26",
    "synthetic(29)": "370db131f1223da92d30a241614c4fd479d5e6f13e81dfdc70f1b7723d52b7ee",
    "synthetic(336)": "602edede21d6b0f697015ec9f0167c269916a7d6d86f7f7993df985dbaa95c17",
    "synthetic(337)": "81c6728adbfcaaa8c631a8c8a995ba99e532b56edc8e2217ea2a487c46616d2d",
    "synthetic(1000)": "52483418ec1d99457244b92cf73f504db3a8443fa209082cd7cf5bc889e41a23",
}
VARIANT_KEYS = {
    "a-br-lines": SNAPSHOT_KEY,
    "a-br-in-list-items": SNAPSHOT_KEY,
    "b-table-rows": SNAPSHOT_KEY,
    "b-definition-list": SNAPSHOT_KEY,
    "g-entities": SNAPSHOT_KEY,
    "g-curly-apostrophes": SNAPSHOT_KEY,
    "h-div-headings": SNAPSHOT_KEY,
    "h-wrappers": SNAPSHOT_KEY,
    "h-article": SNAPSHOT_KEY,
    "i-uppercase-tags": SNAPSHOT_KEY,
    "i-unclosed-p-li": SNAPSHOT_KEY,
    "i-crlf": SNAPSHOT_KEY,
    "i-bom": SNAPSHOT_KEY,
    "i-bom-no-content-type": SNAPSHOT_KEY,
    "i-xml-declaration": SNAPSHOT_KEY,
    "i-windows-1252-meta": SNAPSHOT_KEY,
    "i-windows-1252-header": SNAPSHOT_KEY,
    "i-windows-1252-http-equiv": SNAPSHOT_KEY,
    "i-latin-1-label-windows-1252-bytes": SNAPSHOT_KEY,
    "i-everything": SNAPSHOT_KEY,
    "c-split-table": "534216540f7f0b7b065983a0a805ecbd629bb7eaab47f2eb313011b836fcc4c8",
    "d-list-items": "97d0c3cf89daec36d6f130ba5236c24e740ff94d2ab20cd12b3f1aa54e4424d0",
    "d-list-items-space": "225273620031dc00c321eda4a0606f7636f6019835767c7da158009656b07fbb",
    "d-list-items-colon": "ad33568d45512079db2927ad5d69d38003bd0e9f2d52a9b85c7efb8413298b6b",
    "d-list-items-em-dash": "c5c522397cc0e078f06034caed027bd3e8319da1a7c4e40cca1fb4157d576bdc",
    "d-list-items-bracketed-dates":
        "1c70f6dbf71593b702e425aaf627bc2f6033948f09f7f7ee3f3802e3b7538e5b",
    "e-hyphen": "e4cae5d611fc4d76ac2e515d38e237c8240b0db23a5f1aba18fbf73f8fac1b8e",
    "e-hyphen-tight": "5d2ec993a205fc64febc9eb21625b02bbf4a79300f284a1b7c53deec57412806",
    "e-hyphen-left": "275b374034cd38eddab1346a3bddfebde8b8adc1b36732dace087221e7d886f1",
    "e-hyphen-right": "a9b195021ca2bd550f1108016f49351dfe23986b5bc2cc9af48a571575e4ffec",
    "e-en-dash": "35ab09f75b3e292313337ce9c8579c2ba0a2dc4001f4b8a02f50b86d57f01c82",
    "e-en-dash-tight": "d1e678a8bd0f85dc08a282b024747bb038db2a6d7c5d725de4dc26c3f03ac8f7",
    "e-en-dash-right": "fb9064d37bd9e280ca666886468870f044e575f1e0e6825c47acec717b686303",
    "e-en-dash-entity": "fb9064d37bd9e280ca666886468870f044e575f1e0e6825c47acec717b686303",
    "e-em-dash": "992d53499e9f117a831dafb58fda7b5094843858a1c9e6eccb36474647716c11",
    "e-em-dash-tight": "cf816bdea9905464b73e643c6948d8cd00cc7e7066317b23dd850ee518984ac7",
    "e-em-dash-entity": "cf816bdea9905464b73e643c6948d8cd00cc7e7066317b23dd850ee518984ac7",
    "e-numeric-en-dash": "35ab09f75b3e292313337ce9c8579c2ba0a2dc4001f4b8a02f50b86d57f01c82",
    "e-hex-em-dash": "cf816bdea9905464b73e643c6948d8cd00cc7e7066317b23dd850ee518984ac7",
    "e-unicode-hyphen": "ec56ed5027210e626521d219b2099a492958ac4e9c2a31cb8600eb22ff219658",
    "e-minus-sign": "a48bfdfa997ae71b2377032f9130e1989569f00bdde254cd8c52b7ef1acfe20c",
    "e-nbsp-en-dash": "35ab09f75b3e292313337ce9c8579c2ba0a2dc4001f4b8a02f50b86d57f01c82",
    "e-to": "e87554924d480bb10cad319be3be97a64a86b030c0aa6fe53998530e7839d531",
    "f-one-digit-days": "712fb817b561e59d08a758ddfc3829a488c0165bac818b2c492eb73dd6b924a0",
    "f-full-month-names": "1d46997fe00903060eb593b47dd3a3ca7cc51f8a71f1a6f9a86dc0803c83fb2c",
    "h-no-main": SNAPSHOT_KEY,
    "j-Present": "1d54d1ec4a325960408ce04e6e6adfce8960d4b409f58765f0aac35f9b4dacf9",
    "j-PRESENT": "1ec30ac71c7178af7eb5275c834b6ce9699544a5f3b52bce41edfba8a3f6c449",
    "j-today": "ef1a2c33795d9469bc489d8ac1aea4017fb1c74ece63e222e69e1b21dff61b22",
    "j-Today": "99e6c1273f277aab8b6f48429f8e19d524773f400d2bf0edd03dd6b921d3dda4",
}

_VERSIONS = {"v1": (pages.v1, CONTENT_TYPE), "v2": (pages.v2, CONTENT_TYPE),
             "v3": (pages.v3, CONTENT_TYPE)}
_VERSIONS.update({f"synthetic({n})": (lambda n=n: pages.synthetic(n), None)
                  for n in (1, 2, 28, 29, 336, 337, 1000)})
_BUNDLED = sorted(paths.bundled_snapshot().parent.glob("*.html"))


def test_every_bundled_page_is_pinned() -> None:
    assert sorted(p.name for p in _BUNDLED) == sorted(BUNDLED)


@pytest.mark.parametrize("path", _BUNDLED, ids=lambda p: p.name)
def test_bundled_page_keeps_its_version_key(path) -> None:
    assert parse_page(path.read_bytes(), None, REFERENCE).content_sha256 == BUNDLED[path.name]


@pytest.mark.parametrize("name", VERSIONS)
def test_fixture_version_keeps_its_version_key(name: str) -> None:
    body, content_type = _VERSIONS[name]
    assert parse_page(body(), content_type, REFERENCE).content_sha256 == VERSIONS[name]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant_keeps_its_version_key(variant) -> None:
    assert variant.name in VARIANT_KEYS, "a new variant: pin its version key"
    page = parse_page(variant.body(), variant.content_type, REFERENCE)
    assert page.content_sha256 == VARIANT_KEYS[variant.name]
