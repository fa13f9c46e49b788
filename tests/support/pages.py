"""Later versions of the page, made from the bundled 20 Nov 2023 snapshot the way NATO edits it:

    v1  the snapshot itself (Ulutas in office)
    v2  18 Oct 2024: the next change of command. Ulutas's "present" becomes 11 Oct 2024 and
        Maj. Gen. Enrico Barduani (IT A) is appended as current; the prose names him.
    v3  12 Mar 2025: KFOR's figure for today revised to approximately 4,700 from 28 countries, and
        a new section "KFOR in 2024" with one dated event.

and `synthetic(n)`: the n-th of an endless series of distinct versions (for replays and benchmarks).
"""

from __future__ import annotations

from orchestration.core import layout as paths

V1 = paths.bundled_snapshot().read_bytes().decode("utf-8")


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) >= count, f"fixture anchor not found: {old!r}"
    return text.replace(old, new, count)


def v1() -> bytes:
    return V1.encode("utf-8")


def v2() -> bytes:
    t = _replace(V1, "Last updated: 20 Nov. 2023 17:24", "Last updated: 18 Oct. 2024 10:00")
    t = _replace(t, "<p>10 Oct 2023 - present</p>",
                 "<p>10 Oct 2023 - 11 Oct 2024</p>\n"
                 "<p><strong>Maj. Gen. Enrico Barduani, IT A</strong></p>\n"
                 "<p>11 Oct 2024 - present</p>")
    t = _replace(t, "The current COMKFOR is Maj. Gen. &Ouml;zkan Ulutaş (Turkish Army). He assumed "
                    "command of the Kosovo Force on 10 October 2023.",
                 "The current COMKFOR is Maj. Gen. Enrico Barduani (Italian Army). He assumed "
                 "command of the Kosovo Force on 11 October 2024.")
    return t.encode("utf-8")


def v3() -> bytes:
    t = v2().decode("utf-8")
    t = _replace(t, "Last updated: 18 Oct. 2024 10:00", "Last updated: 12 Mar. 2025 09:30")
    t = _replace(t, "Today, KFOR consists of approximately 4,500 troops provided by 27 Allied and "
                    "partner countries.",
                 "Today, KFOR consists of approximately 4,700 troops provided by 28 Allied and "
                 "partner countries.")
    t = _replace(t, '<h2 class="fs-large">KFOR commanders in chronological order</h2>',
                 "<h3>KFOR in 2024</h3>\n<p>In March 2024, NATO Allies decided to keep the "
                 "reinforcements deployed in 2023 in place through the year.</p>\n"
                 '<h2 class="fs-large">KFOR commanders in chronological order</h2>')
    return t.encode("utf-8")


def synthetic(n: int) -> bytes:
    """Version n (n >= 1) of a series: each has its own "Last updated" day and today's figure, so
    each is a new version with one troop level changed."""
    day = 1 + (n - 1) % 28
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][
        ((n - 1) // 28) % 12]
    year = 2024 + (n - 1) // (28 * 12)
    t = _replace(V1, "Last updated: 20 Nov. 2023 17:24", f"Last updated: {day} {month}. {year} 12:00")
    t = _replace(t, "<p>10 Oct 2023 - present</p>", "<p>10 Oct 2023 - present</p>")
    t = _replace(t, "approximately 4,500 troops provided by 27",
                 f"approximately {4000 + n:,} troops provided by 27")
    return t.encode("utf-8")
