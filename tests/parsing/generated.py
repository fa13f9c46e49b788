"""Pages generated from seeds, and what the parser made of them, to compare a parser rewrite with
the parser it replaces (issue 11: the port from lxml.html to BeautifulSoup).

`pages()` yields (name, body, content type) for the variants of variants.py, the fixture versions
of tests/support/pages.py, a few odd bodies, and some hundreds of seeded random pages of the kinds
test_fuzz.py draws (token soup, the snapshot mutated, the snapshot with markup noise, random
bytes). The generator owns its vocabulary and uses only `random.Random(seed)`, so the same seeds
give the same pages on every run and whatever test_fuzz.py later draws.

`generated_article_texts.json` holds, for every page, the article text (as indices into a table
of distinct lines: most pages share most of the snapshot's lines) or the ParseError check, and a
digest of the records. test_generated_pages.py compares them with the parser of today. After a
deliberate change of the article text, rewrite the file:

    PYTHONPATH=. .venv/bin/python tests/parsing/generated.py --write
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from variants import CONTENT_TYPE, VARIANTS, snapshot_text

FIXTURE = Path(__file__).with_name("generated_article_texts.json")

SOUP_PAGES = 150
SKELETON_PAGES = 150
PAGE_PAGES = 150
MUTATED_PAGES = 200
EDITED_PAGES = 150
NOISE_PAGES = 40
BYTES_PAGES = 20

_TOKENS = [
    "<p>", "</p>", "<br>", "<li>", "</li>", "<ul>", "</ul>", "<table>", "<tr>", "<td>", "</td>",
    "<th>", "<h1>", "</h1>", "<h2>", "</h2>", "<h3>", "</h3>", '<div role="heading" aria-level="2">',
    '<div role="heading" aria-level="x">', "</div>", "<main>", "</main>", "<article>", "<aside>",
    "<script>", "</script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>", "<?xml version='1.0'?>",
    '<meta charset="windows-1252">', '<meta charset="bogus">', "<title>", "</title>", "<", ">",
    "&", "&nbsp;", "&ndash;", "&#0;", "&#xD800;", "&#1114112;", "&#99999999999;", "&bogus;", "\r\n",
    "\x00", "\ufeff", "\u2028", "KFOR commanders in chronological order", "Commanders",
    "Last updated: 20 Nov. 2023 17:24", "Last updated: 31 Feb 2023 99:99",
    "Lt. Gen. Sir Michael Jackson, UK A", "Maj. Gen. Özkan Ulutaş, TU A", ", UK A", "(GE A)",
    "09 Jun 1999 - 08 Oct 1999", "10 Oct 2023 - present", "09 Jun 1999", "- present", "present",
    "Today, KFOR consists of approximately 4,500 troops provided by 27 Allied and partner "
    "countries.",
    "on 12 June", "By 20 June,", "in 2008", "11-12 June 2009", "the end of 2003", "autumn 2023",
    " Lt. Gen.", "e.g.", ". ", "KFOR", "KSF", "NALT", "troops", "personnel", "reservists", "1,000",
    # markup the snapshot does not have
    "<span>", "</span>", "<strong>", "</strong>", "<dl>", "<dt>", "<dd>", "<section>",
    "</section>", '<p hidden>', '<div aria-hidden="true">', "<nav>", "</nav>", "<noscript>",
    "<template>", "</template>", "<hr>", "<pre>", "</pre>", "<!DOCTYPE html>", "<html>", "</html>",
    "<body>", "</body>", "<head>", "</head>", '<main id="content">', '<div role="main">',
    "<![endif]-->", "<!--[if IE]>", "<?php echo 1; ?>", "<svg><title>x</title></svg>",
    "<textarea>", "</textarea>", "<select><option>o</option></select>", "&amp;", "&lt;p&gt;",
    "&#8211;", "&#x2019;", "&rsquo;", "\u00a0", "\u200b", "\u00ad", "\t", "\n",
]
_COMMANDER_TOKENS = [
    "<p>Lt. Gen. Sir Michael Jackson, UK A</p><p>09 Jun 1999 - 08 Oct 1999</p>",
    "<tr><td>Maj. Gen. Erhard Drews, GE A</td><td>09 Sep 2011</td><td>07 Sep 2012</td></tr>",
    "<li>Maj. Gen. Özkan Ulutaş (TU A) 10 Oct 2023 &ndash; present</li>",
    "Lt. Gen. Klaus Reinhardt, GE A<br>", "8 Oct 1999 \u2013 18 Apr 2000<br>", "present", "<td>",
]
# Whole commander entries, and markup that may sit between them, for pages that parse.
_ENTRIES = _COMMANDER_TOKENS[:3] + [
    "<p><strong>Lt. Gen. Klaus Reinhardt, GE A</strong></p>\n<p>08 Oct 1999 - 18 Apr 2000</p>",
    "Lt. Gen. Juan Ortu&ntilde;o, SP A<br>18 Apr 2000 &ndash; 16 Oct 2000<br>",
    "<dt>Lt. Gen. Carlo Cabigiosu, IT A</dt><dd>16 Oct 2000 - 06 Apr 2001</dd>",
    "<div><span>Maj. Gen. Erhard Bühler, GE A</span></div><div>01 Sep 2011 \u2013 present</div>",
]
_BETWEEN = ["", "\n", "<br>", "</p>", "<div>", "</div>", "<!-- x -->", "<span>", "</span>",
            "<hr>", "&nbsp;", "<tbody>", "</tr>", "<ul>", "</ul>", "<script>x()</script>"]
_UNSAFE = {"\x00", '<meta charset="windows-1252">', '<meta charset="bogus">', "<script>",
           "<style>", "<!--", "<![CDATA[", "<textarea>", "<template>", "<noscript>",
           "<?xml version='1.0'?>", "<!--[if IE]>", "<main>", "<article>", "<aside>", "<nav>",
           '<main id="content">', '<div role="main">', "<title>", "<svg><title>x</title></svg>",
           "<select><option>o</option></select>", "<p hidden>", '<div aria-hidden="true">',
           "<html>", "<body>", "<head>", "</html>", "</body>", "<!DOCTYPE html>"}
_SAFE_TOKENS = [t for t in _TOKENS if t not in _UNSAFE]
_NOISE = ["<!-- note -->", "\n", "  \n\t", "<!---->", "\r\n"]
_ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-'\"<>/&#=!?()"
             "\u00e9\u00f6\u015f\u00c5\u2013\u2014\u2019\u201c\u00a0\u3000\u0301\ufffd\x0b\x0c\x1f")


def _text(rng: random.Random) -> str:
    """Up to 12 characters: mostly the alphabet above, sometimes any code point of the BMP
    (surrogates excluded) or the astral planes."""
    out = []
    for _ in range(rng.randint(0, 12)):
        roll = rng.random()
        if roll < 0.8:
            out.append(rng.choice(_ALPHABET))
        elif roll < 0.95:
            code = rng.randint(0x20, 0xFFFD)
            out.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd")
        else:
            out.append(chr(rng.randint(0x10000, 0x10FFFF)))
    return "".join(out)


def _token(rng: random.Random) -> str:
    return rng.choice(_TOKENS) if rng.random() < 0.75 else _text(rng)


def _soup(rng: random.Random, max_tokens: int = 40) -> str:
    return "".join(_token(rng) for _ in range(rng.randint(0, max_tokens)))


def _skeleton(rng: random.Random) -> str:
    commanders = "".join(rng.choice(_COMMANDER_TOKENS) if rng.random() < 0.5 else _token(rng)
                         for _ in range(rng.randint(0, 20)))
    return (f"<h1>NATO's role in Kosovo</h1>{_soup(rng)}<p>Last updated: 20 Nov. 2023 17:24</p>"
            f"{_soup(rng)}<h2>KFOR commanders in chronological order</h2>{commanders}")


def _page(rng: random.Random) -> str:
    """The skeleton with soup that reads to a page: no tokens that swallow the rest of the
    document or make it binary, and commander entries with markup between them."""
    def soup() -> str:
        return "".join(rng.choice(_SAFE_TOKENS) if rng.random() < 0.75 else _text(rng)
                       for _ in range(rng.randint(0, 60)))
    entries = "".join(rng.choice(_ENTRIES) + rng.choice(_BETWEEN)
                      for _ in range(rng.randint(1, 8)))
    return (f"<title>{_text(rng)}</title><h1>NATO's role in Kosovo</h1>{soup()}"
            f"<p>Last updated: 20 Nov. 2023 17:24</p>{soup()}<h2>{soup()}</h2>{soup()}"
            f"<h2>KFOR commanders in chronological order</h2>{entries}"
            + (f"<h2>{_text(rng)}</h2>{soup()}" if rng.random() < 0.5 else ""))


def _edited(rng: random.Random, page: str) -> bytes:
    """The snapshot after 1-4 edits before the commanders list: inserted tokens, deleted or
    duplicated slices."""
    head = page.find("KFOR commanders in chronological order")
    for _ in range(rng.randint(1, 4)):
        i = rng.randint(0, head)
        j = rng.randint(i, min(head, i + 400))
        op = rng.choice(["insert", "insert", "insert", "delete", "duplicate"])
        if op == "insert":
            page = page[:i] + "".join(_token(rng) for _ in range(rng.randint(1, 4))) + page[i:]
        elif op == "delete":
            page = page[:i] + page[j:]
        else:
            page = page[:j] + page[i:j] + page[j:]
        head = page.find("KFOR commanders in chronological order")
        if head < 0:
            break
    return page.encode("utf-8", "surrogatepass")


def _mutated(rng: random.Random, page: str) -> bytes:
    """The snapshot after 1-6 edits (delete, duplicate, swap, insert, truncate), half of them in
    the commanders list; one in ten with random bytes spliced in."""
    for _ in range(rng.randint(1, 6)):
        n = len(page)
        commanders = max(0, page.find("KFOR commanders in chronological order"))
        i = rng.randint(0, n) if rng.random() < 0.5 else rng.randint(commanders, n)
        j = rng.randint(i, min(n, i + 3000))
        op = rng.choice(["delete", "duplicate", "swap", "insert", "insert", "truncate"])
        if op == "delete":
            page = page[:i] + page[j:]
        elif op == "duplicate":
            page = page[:j] + page[i:j] + page[j:]
        elif op == "swap":
            k = rng.randint(j, n)
            m = rng.randint(k, min(n, k + 3000))
            page = page[:i] + page[k:m] + page[j:k] + page[i:j] + page[m:]
        elif op == "insert":
            page = page[:i] + _token(rng) + page[i:]
        else:
            page = page[:i]
    body = page.encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:
        at = rng.randint(0, len(body))
        body = body[:at] + rng.randbytes(rng.randint(1, 16)) + body[at:]
    return body


def _with_noise(rng: random.Random, page: str) -> str:
    cuts = sorted(rng.choice(_TAG_ENDS) for _ in range(rng.randint(1, 20)))
    pieces, last = [], 0
    for cut in cuts:
        pieces += [page[last:cut], rng.choice(_NOISE)]
        last = cut
    return "".join(pieces) + page[last:]


_SNAPSHOT = snapshot_text()
_TAG_ENDS = [m.end() for m in re.finditer(r">", _SNAPSHOT)]
_CONTENT_TYPES = [None, "text/html", CONTENT_TYPE, "text/html; charset=windows-1252",
                  "text/html; charset=ISO-8859-2", "text/html; charset=utf-16"]

ODD = {
    "a URL": (b"https://www.nato.int/cps/en/natohq/topics_48818.htm", CONTENT_TYPE),
    "a file name": (b"topics_48818.htm", None),
    "an XML document": (b"<?xml version='1.0'?><page><title>KFOR</title></page>", None),
    "an XML prolog before the page": (
        b"<?xml version='1.0' encoding='utf-8'?>\n" + _SNAPSHOT.encode(), CONTENT_TYPE),
    "XHTML": (_SNAPSHOT.replace("<html", '<html xmlns="http://www.w3.org/1999/xhtml"', 1)
              .encode(), CONTENT_TYPE),
    "a doctype only": (b"<!DOCTYPE html>", CONTENT_TYPE),
    "markup-like text": (b"<<>>", None),
    "a lone tag": (b"<p>", None),
    "a comment around the page": (b"<!--" + _SNAPSHOT.encode() + b"-->", CONTENT_TYPE),
    "text after </html>": (_SNAPSHOT.replace("</html>", "</html><p>After the end.</p>")
                           .encode(), CONTENT_TYPE),
    "text after </main>": (_SNAPSHOT.replace("</main>", "</main>Between main and footer.")
                           .encode(), CONTENT_TYPE),
    "CDATA in a paragraph": (_SNAPSHOT.replace("<p>NATO has", "<p><![CDATA[x]]>NATO has", 1)
                             .encode(), CONTENT_TYPE),
    "a processing instruction in a paragraph": (
        _SNAPSHOT.replace("<p>NATO has", "<p><?pi x?>NATO has", 1).encode(), CONTENT_TYPE),
}


def pages() -> Iterator[tuple[str, bytes, str | None]]:
    """(name, body, content type) of every generated page, always in the same order."""
    from support import pages as versions

    for variant in VARIANTS:
        yield f"variant {variant.name}", variant.body(), variant.content_type
    for name, fn in (("v1", versions.v1), ("v2", versions.v2), ("v3", versions.v3)):
        yield f"support {name}", fn(), CONTENT_TYPE
    for n in (1, 2, 28, 29, 500):
        yield f"support synthetic({n})", versions.synthetic(n), None
    for name, (body, content_type) in ODD.items():
        yield f"odd {name}", body, content_type
    for i in range(SOUP_PAGES):
        rng = random.Random(f"soup-{i}")
        yield f"soup {i}", _soup(rng).encode("utf-8", "surrogatepass"), rng.choice(
            [None, CONTENT_TYPE])
    for i in range(SKELETON_PAGES):
        rng = random.Random(f"skeleton-{i}")
        yield f"skeleton {i}", _skeleton(rng).encode("utf-8", "surrogatepass"), rng.choice(
            [None, CONTENT_TYPE])
    for i in range(PAGE_PAGES):
        rng = random.Random(f"page-{i}")
        yield f"page {i}", _page(rng).encode("utf-8", "surrogatepass"), rng.choice(
            [None, CONTENT_TYPE])
    for i in range(EDITED_PAGES):
        rng = random.Random(f"edited-{i}")
        yield f"edited {i}", _edited(rng, _SNAPSHOT), CONTENT_TYPE
    for i in range(MUTATED_PAGES):
        rng = random.Random(f"mutated-{i}")
        yield f"mutated {i}", _mutated(rng, _SNAPSHOT), rng.choice([CONTENT_TYPE, None])
    for i in range(NOISE_PAGES):
        rng = random.Random(f"noise-{i}")
        yield f"noise {i}", _with_noise(rng, _SNAPSHOT).encode(), CONTENT_TYPE
    for i in range(BYTES_PAGES):
        rng = random.Random(f"bytes-{i}")
        yield f"bytes {i}", rng.randbytes(rng.randint(0, 2048)), rng.choice(_CONTENT_TYPES)


def records_digest(page) -> str:
    """SHA-256 of everything the parser returns but the article text (which is compared as text)."""
    parts = (page.title, page.last_updated_text, page.sections, page.commanders,
             page.troop_figures, page.events)
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def outcome(parse, body: bytes, content_type: str | None) -> dict:
    """What `parse(body, content_type)` makes of a page: its ParseError check, or its article
    text, version key and records digest."""
    from orchestration.parsing import ParseError

    try:
        page = parse(body, content_type)
    except ParseError as error:
        return {"check": error.check}
    return {"text": page.article_text, "content_sha256": page.content_sha256,
            "records": records_digest(page)}


def load() -> dict[str, dict]:
    """The recorded outcomes, article texts rebuilt from the line table."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    lines = data["lines"]
    out = {}
    for name, recorded in data["pages"].items():
        recorded = dict(recorded)
        if "text" in recorded:
            recorded["text"] = "\n".join(lines[i] for i in recorded["text"])
        out[name] = recorded
    return out


def write(parse) -> None:
    lines: dict[str, int] = {}
    recorded = {}
    for name, body, content_type in pages():
        result = outcome(parse, body, content_type)
        if "text" in result:
            result["text"] = [lines.setdefault(line, len(lines))
                              for line in result["text"].split("\n")]
        recorded[name] = result
    # One line of JSON per text line and per page, so a change shows as a readable diff.
    dump = json.dumps
    out = ['{"about": ' + dump("tests/parsing/generated.py: article texts of generated pages")
           + ',\n"lines": [']
    out.append(",\n".join(dump(line) for line in lines) + "],")
    out.append('"pages": {')
    out.append(",\n".join(f"{dump(name)}: {dump(r)}" for name, r in recorded.items()) + "}}")
    FIXTURE.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: generated.py --write")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support
    from orchestration.core.reference import load_reference
    from orchestration.parsing import parse_page

    write(lambda body, content_type: parse_page(body, content_type, load_reference()))
