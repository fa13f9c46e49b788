"""A realistic replay of a page as the Wayback Machine serves it without `id_` (and as waybackpack
saves it without `--raw`): the archive's scripts at the top of <head>, its toolbar after <body>,
its comments after </html>, and every href and src rewritten to a replay URL, with the flag the
archive gives each kind of link and the prefix in one of its three forms."""

from __future__ import annotations

import random
import re
from urllib.parse import urljoin

PREFIXES = {"absolute": "https://web.archive.org", "scheme": "//web.archive.org", "root": ""}
_TAG = re.compile(r"<([A-Za-z][\w-]*)\b[^>]*>")
_LINK = re.compile(r"""\b(href|src)\s*=\s*(["'])(.*?)\2""", re.I)
_UNTOUCHED = ("#", "mailto:", "javascript:", "data:", "tel:")


def head_include(ts: str, page_url: str) -> str:
    return (
        '<script type="text/javascript" src="/_static/js/bundle-playback.js?v=HxkREWBo" '
        'charset="utf-8"></script>\n'
        '<script type="text/javascript" src="/_static/js/wombat.js?v=txqj7nKC" charset="utf-8">'
        "</script>\n"
        "<script>window.RufflePlayer=window.RufflePlayer||{};window.RufflePlayer.config="
        '{"autoplay":"on","unmuteOverlay":"hidden"};</script>\n'
        '<script type="text/javascript" src="/_static/js/ruffle/ruffle.js"></script>\n'
        '<script type="text/javascript">\n    __wm.init("https://web.archive.org/web");\n'
        f'  __wm.wombat("{page_url}","{ts}","https://web.archive.org/","web",'
        '"https://web-static.archive.org/_static/",\n\t      "1569888000");\n</script>\n'
        '<link rel="stylesheet" type="text/css" href="/_static/css/banner-styles.css?v=S1zqJCYt" />\n'
        '<link rel="stylesheet" type="text/css" href="/_static/css/iconochive.css?v=3PDvdIFv" />\n'
        "<!-- End Wayback Rewrite JS Include -->\n")


def toolbar(ts: str, page_url: str) -> str:
    return (
        "<!-- BEGIN WAYBACK TOOLBAR INSERT -->\n<script>__wm.rw(0);</script>\n"
        '<div id="wm-ipp-base" lang="en" style="display:none;direction:ltr;">\n'
        '<div id="wm-ipp" style="position:fixed;left:0;top:0;right:0;">\n'
        '<div id="wm-ipp-inside"><div id="wm-logo"><a href="/web/">Wayback Machine</a></div>\n'
        f'<form target="_top" method="get" action="/web/submit"><input type="text" name="url" '
        f'value="{page_url}"/></form>\n'
        '<table><tr><td class="c"><a href="/web/*/' + page_url + '">1,234 captures</a></td>'
        "<td>18 Jun 2009 - 20 Nov 2023</td></tr></table>\n"
        "<p>Last updated: 01 Jan. 2001</p>\n"
        f'</div></div></div><div id="wm-ipp-print">The Wayback Machine - '
        f"https://web.archive.org/web/{ts}/{page_url}</div>\n"
        '<script type="text/javascript">//<![CDATA[\n'
        f'__wm.bt(700,27,25,2,"web","{page_url}","{ts}",1996,"/_static/",'
        '["/_static/css/banner-styles.css?v=S1zqJCYt"], false);\n  __wm.rw(1);\n//]]></script>\n'
        "<!-- END WAYBACK TOOLBAR INSERT -->\n")


def trailer(ts: str) -> str:
    return ("\n<!--\n     FILE ARCHIVED ON 00:00:00 Oct 01, 2019 AND RETRIEVED FROM THE\n"
            "     INTERNET ARCHIVE ON 12:00:00 Jan 01, 2025.\n"
            "     JAVASCRIPT APPENDED BY WAYBACK MACHINE, COPYRIGHT INTERNET ARCHIVE.\n-->\n"
            "<!--\nplayback timings (ms):\n  captures_list: 0.612\n  load_resource: 81.2\n-->")


def _flag(tag: str, attr: str) -> str:
    tag = tag.lower()
    if tag == "img":
        return "im_"
    if tag == "script":
        return "js_"
    if tag == "link":
        return "cs_"
    if tag in ("iframe", "frame"):
        return "if_"
    return ""


def absolute_links(raw: bytes, page_url: str) -> bytes:
    """`raw` with every href/src the archive rewrites made absolute: what a cleaned replay is."""
    def tag(m: re.Match) -> str:
        def link(a: re.Match) -> str:
            attr, quote, value = a.groups()
            if value.startswith(_UNTOUCHED) or not value:
                return a.group(0)
            return f"{attr}={quote}{urljoin(page_url, value)}{quote}"
        return _LINK.sub(link, m.group(0))
    return _TAG.sub(tag, raw.decode("utf-8")).encode("utf-8")


def rewrite_links(html: str, ts: str, page_url: str, rng: random.Random) -> tuple[str, list[str]]:
    """Every href/src as a replay URL (a random prefix form each); and the values each href/src
    should have once cleaned, in document order: the absolute URL it was rewritten from."""
    expected: list[str] = []

    def tag(m: re.Match) -> str:
        name = m.group(1)

        def link(a: re.Match) -> str:
            attr, quote, value = a.groups()
            if value.startswith(_UNTOUCHED) or not value:
                expected.append(value)
                return a.group(0)
            absolute = urljoin(page_url, value)
            expected.append(absolute)
            prefix = PREFIXES[rng.choice(sorted(PREFIXES))]
            return f"{attr}={quote}{prefix}/web/{ts}{_flag(name, attr)}/{absolute}{quote}"

        return _LINK.sub(link, m.group(0))

    return _TAG.sub(tag, html), expected


def as_playback(raw: bytes, ts: str, page_url: str, seed: int = 0,
                by_waybackpack: bool = False) -> tuple[bytes, list[str]]:
    """The replay of `raw` (UTF-8 markup) captured at `ts`, and the href/src values it should have
    once cleaned. `by_waybackpack`: as waybackpack saves it without --raw (it takes the toolbar
    off and makes root-relative replay links absolute, and leaves the rest)."""
    html = raw.decode("utf-8")
    html, expected = rewrite_links(html, ts, page_url, random.Random(seed))
    html = re.sub(r"(<head\b[^>]*>)", lambda m: m.group(1) + head_include(ts, page_url), html,
                  count=1)
    if not by_waybackpack:
        html = re.sub(r"(<body\b[^>]*>\n?)", lambda m: m.group(1) + toolbar(ts, page_url), html,
                      count=1)
    else:  # waybackpack's own root prefixing: '"/web/<ts>' -> '"https://web.archive.org/web/<ts>'
        html = re.sub(r"""(["'])(/web/""" + ts + ")", r"\1https://web.archive.org\2", html)
    html = html.rstrip("\n") + trailer(ts) + "\n"
    return html.encode("utf-8"), expected


def links(body: bytes) -> list[str]:
    """Every href/src value in a body, in document order."""
    html = body.decode("utf-8")
    return [a.group(3) for m in _TAG.finditer(html) for a in _LINK.finditer(m.group(0))]


def without_main(raw: bytes) -> bytes:
    """The snapshot with its article in <body> (no <main>): an older layout, where the toolbar's
    text would land in the article if it were left in."""
    html = raw.decode("utf-8")
    assert '<main id="content" role="main">' in html and "</main>" in html
    return html.replace('<main id="content" role="main">', '<div class="main">').replace(
        "</main>", "</div>").encode("utf-8")
