"""Bad versions of the page, generated from the bundled 20 Nov 2023 snapshot (tests/support/pages.py
V1) the way a broken CMS, a bad edit or a wrong server would produce them. Every generator returns
(body, content type); each must be refused by a named check before anything is published.

    CASES: name -> (generator, description)
"""

from __future__ import annotations

import codecs
import random
import re
from collections.abc import Callable

from support.pages import V1

HTML = "text/html; charset=utf-8"
COMMANDERS_HEADING = '<h2 class="fs-large">KFOR commanders in chronological order</h2>'


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) >= count, f"fixture anchor not found: {old!r}"
    return text.replace(old, new, count)


def _commanders_block(text: str) -> tuple[int, int]:
    """Start and end offsets of the commanders heading and its name/date list."""
    start = text.index(COMMANDERS_HEADING)
    end = text.index("</section>", start)
    return start, end


def commanders_missing() -> tuple[bytes, str]:
    """The commanders heading and its whole list are gone (a CMS template dropped the block)."""
    start, end = _commanders_block(V1)
    return (V1[:start] + V1[end:]).encode(), HTML


def headings_renamed() -> tuple[bytes, str]:
    """Every h2/h3 heading renamed ("Part 1", "Part 2"...) and the list's nation codes dropped: no
    heading names the commanders, and no line has a commander's shape (rule C4 finds a list under
    any heading, so renamed headings alone are no longer a bad page)."""
    n = iter(range(1, 1000))
    text = re.sub(r"(<h[23][^>]*>)[^<]*(</h[23]>)", lambda m: f"{m[1]}Part {next(n)}{m[2]}", V1)
    text = re.sub(r", [A-Z]{2} A</strong>", "</strong>", text)
    return text.encode(), HTML


def empty_body() -> tuple[bytes, str]:
    """200 OK with nothing in it."""
    return b"", HTML


def binary_garbage() -> tuple[bytes, str]:
    """Random bytes (a misconfigured server answering with an image or an archive) as text/html."""
    return random.Random(4).randbytes(20_000), HTML


def wrong_charset() -> tuple[bytes, str]:
    """UTF-8 bytes (Ortuño, Özkan as characters) served as windows-1252: mojibake if trusted."""
    text = V1.replace("&ntilde;", "ñ").replace("&Ouml;", "Ö")
    return text.encode("utf-8"), "text/html; charset=windows-1252"


def impossible_date() -> tuple[bytes, str]:
    """A date that does not exist in the commanders list: 31 Feb 2020."""
    text = _replace(V1, "<p>19 Nov 2019 - 13 Nov 2020</p>", "<p>19 Nov 2019 - 31 Feb 2020</p>")
    text = _replace(text, "<p>13 Nov 2020 - 15 Oct 2021</p>", "<p>31 Feb 2020 - 15 Oct 2021</p>")
    return text.encode(), HTML




def two_current() -> tuple[bytes, str]:
    """Two commanders in office: the predecessor's end date was not filled in."""
    return _replace(V1, "<p>10 Oct 2022 - 10 Oct 2023</p>",
                    "<p>10 Oct 2022 - present</p>").encode(), HTML


def unknown_nation() -> tuple[bytes, str]:
    """A nation code that is no NATO code ("XX")."""
    return _replace(V1, "<p><strong>Maj. Gen. Michele Risi, IT A</strong></p>",
                    "<p><strong>Maj. Gen. Michele Risi, XX A</strong></p>").encode(), HTML



def zero_troops() -> tuple[bytes, str]:
    """Today's strength reported as "approximately 0 troops"."""
    return _replace(V1, "Today, KFOR consists of approximately 4,500 troops",
                    "Today, KFOR consists of approximately 0 troops").encode(), HTML


def troop_count_overflow() -> tuple[bytes, str]:
    """Today's strength with a typo of many digits: 4,500,000,000,000 troops (past a 32-bit
    integer)."""
    return _replace(V1, "Today, KFOR consists of approximately 4,500 troops",
                    "Today, KFOR consists of approximately 4,500,000,000,000 troops").encode(), HTML



def last_updated_missing() -> tuple[bytes, str]:
    """The "Last updated" stamp is gone: relative dates could not be resolved."""
    return _replace(V1, '<li class="date">Last updated: 20 Nov. 2023 17:24</li>',
                    '<li class="date"></li>').encode(), HTML


def commander_without_dates() -> tuple[bytes, str]:
    """A commander's name line lost its date line."""
    return _replace(V1, "<p>06 Apr 2001 - 03 Oct 2001</p>\n", "").encode(), HTML


def start_in_the_future() -> tuple[bytes, str]:
    """The newest commander starts after the page's own "Last updated" date."""
    text = _replace(V1, "<p>10 Oct 2022 - 10 Oct 2023</p>", "<p>10 Oct 2022 - 10 Oct 2024</p>")
    return _replace(text, "<p>10 Oct 2023 - present</p>",
                    "<p>10 Oct 2024 - present</p>").encode(), HTML


CASES: dict[str, Callable[[], tuple[bytes, str]]] = {
    "commanders_missing": commanders_missing,
    "headings_renamed": headings_renamed,
    "empty_body": empty_body,
    "binary_garbage": binary_garbage,
    "wrong_charset": wrong_charset,
    "impossible_date": impossible_date,
    "two_current": two_current,
    "unknown_nation": unknown_nation,
    "zero_troops": zero_troops,
    "troop_count_overflow": troop_count_overflow,
    "last_updated_missing": last_updated_missing,
    "commander_without_dates": commander_without_dates,
    "start_in_the_future": start_in_the_future,
}


# -- issue 10: pages that are subtly wrong (tests/reliability/test_subtle_pages.py) -------------
# Each used to publish wrong data, or to be refused under a misleading name.

TODAY = "Today, KFOR consists of approximately 4,500 troops"
STAMP = '<li class="date">Last updated: 20 Nov. 2023 17:24</li>'


def _with_characters() -> str:
    """The snapshot with its ñ and Ö as characters, not entities: UTF-8 multi-byte sequences."""
    return V1.replace("&ntilde;", "ñ").replace("&Ouml;", "Ö")


def figure_with_mixed_separators() -> tuple[bytes, str]:
    """Today's strength written "4,500 000": two separators, no readable number."""
    return _replace(V1, TODAY, TODAY.replace("4,500", "4,500 000")).encode(), HTML


def utf8_as_windows_1251() -> tuple[bytes, str]:
    """UTF-8 bytes served as windows-1251: "Ortuño" would read "OrtuГ±o"."""
    return _with_characters().encode(), "text/html; charset=windows-1251"


def utf8_as_mac_roman() -> tuple[bytes, str]:
    """UTF-8 bytes whose <meta> says mac-roman (no charset in the header)."""
    text = _replace(_with_characters(), '<meta charset="utf-8">', '<meta charset="macintosh">')
    return text.encode(), "text/html"


def two_last_updated() -> tuple[bytes, str]:
    """A second, different "Last updated" line (a template and an editor both stamp the page)."""
    return _replace(V1, STAMP, STAMP + '\n  <li class="date">Last updated: 2023-11-21</li>'
                    ).encode(), HTML


def truncated_body() -> tuple[bytes, str]:
    """The first 30% of the page: the connection closed early without a Content-Length."""
    body = V1.encode()
    return body[:len(body) * 3 // 10], HTML


SUBTLE_CASES: dict[str, Callable[[], tuple[bytes, str]]] = {
    "figure_with_mixed_separators": figure_with_mixed_separators,
    "utf8_as_windows_1251": utf8_as_windows_1251,
    "utf8_as_mac_roman": utf8_as_mac_roman,
    "two_last_updated": two_last_updated,
    "truncated_body": truncated_body,
}


def bidi_controls_in_a_name() -> tuple[bytes, str]:
    """U+202E (right-to-left override) and U+200F inside the current commander's name."""
    name = "<p><strong>Maj. Gen. &Ouml;zkan Ulutaş, TU A</strong></p>"
    return _replace(V1, name, "<p><strong>Maj. Gen. &Ouml;zkan\u202e Ulu\u200ftaş, TU A</strong></p>"
                    ).encode(), HTML


def utf16_with_bom() -> tuple[bytes, str]:
    """The page in UTF-16 (little-endian, with its byte-order mark), the header still saying
    UTF-8."""
    return codecs.BOM_UTF16_LE + V1.encode("utf-16-le"), HTML


def iso_last_updated() -> tuple[bytes, str]:
    """The stamp written as ISO 8601: "Last updated: 2023-11-20 17:24"."""
    return _replace(V1, STAMP, '<li class="date">Last updated: 2023-11-20 17:24</li>').encode(), HTML


# Pages that say what v1 says: each must read as v1's version (the refresh finds it unchanged).
SAME_AS_V1: dict[str, Callable[[], tuple[bytes, str]]] = {
    "bidi_controls_in_a_name": bidi_controls_in_a_name,
    "utf16_with_bom": utf16_with_bom,
    "iso_last_updated": iso_last_updated,
}


def figure_with_narrow_spaces() -> tuple[bytes, str]:
    """Today's strength revised to 4,700, written with a narrow no-break space: "4\u202f700"."""
    return _replace(V1, TODAY, TODAY.replace("4,500", "4\u202f700")).encode(), HTML
