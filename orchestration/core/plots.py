"""Three PNGs of the published warehouse, read read-only:

    troop_levels.png   each strength figure the page reports, drawn as the period it carries (a box
                       from period_start to period_end, hollow when approximate; a marker where the
                       date is a single day), each labelled with its words, period and precision;
                       never a line joining figures: the page says nothing about the years between.
    commanders.png     the tenures of every COMKFOR as a timeline, coloured by nation.
    page_strength.png  the page's own series: each version's figure for "today" as a step on valid
                       time (marts.fct_page_strength), from when the page said it to the next version.

matplotlib is imported inside render_plots (the refresh's light path imports none of it), through
its object API and the Agg canvas: no pyplot global state, safe in any thread. Each file is written
to a temporary name and renamed into place, so a reader never sees half a PNG.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

TROOPS_PNG = "troop_levels.png"
COMMANDERS_PNG = "commanders.png"
STRENGTH_PNG = "page_strength.png"

FORCE_STYLE = {  # colour per force; forces not listed get the fallback colours in order
    "KFOR": ("#1f4e8c", "KFOR (Kosovo Force)"),
    "KSF": ("#c0392b", "KSF (Kosovo Security Force)"),
    "NALT": ("#2e8b57", "NALT (NATO Advisory and Liaison Team)"),
    "NAT": ("#8e44ad", "NAT (NATO Advisory Team)"),
    "NLAT": ("#8e44ad", "NLAT (NATO Liaison and Advisory Team)"),
}
FALLBACK_COLOURS = ["#d35400", "#7f8c8d", "#16a085", "#b7950b"]
FIGURE_MARKER = {"reported": "o", "authorised": "s", "mandated_maximum": "v"}
FIGURE_LINESTYLE = {"reported": "-", "authorised": "--", "mandated_maximum": ":"}
BAR_HALF_HEIGHT = 1.09
NATION_COLOURS = ["#2f6db3", "#e07b24", "#3a9d5d", "#c8413b", "#8a63b8", "#8c564b", "#d36ba6",
                  "#b5a31f", "#1fa5b8", "#393b79", "#637939", "#6b6b6b"]


def render_plots(db_path: Path, out_dir: Path) -> list[Path]:
    """Render the three PNGs from the warehouse at db_path (opened read-only) into out_dir
    (created if missing). Returns their paths."""
    data = _read(Path(db_path))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_save(_troop_figure(data), out_dir / TROOPS_PNG),
            _save(_commander_figure(data), out_dir / COMMANDERS_PNG),
            _save(_strength_figure(data), out_dir / STRENGTH_PNG)]


# --- data ----------------------------------------------------------------------------------------

def _read(db_path: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    # the warehouse's times are instants (rule V6): read them in UTC, so a plot's days do not
    # depend on the TZ of whoever draws it
    con.execute("SET TimeZone = 'UTC'")
    try:
        def rows(sql: str) -> list[dict]:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        meta = rows("SELECT content_sha256, page_last_updated FROM marts.meta")
        if not meta:
            raise ValueError(f"{db_path}: marts.meta is empty")
        return {
            "meta": meta[0],
            "troops": rows("""
                SELECT force, figure_type, personnel, period_start, period_end, date_precision,
                       troops, approximation, contributing_nations, is_current, period_text
                FROM marts.fct_troop_level ORDER BY period_start, force, troops DESC"""),
            "tenures": rows("""
                SELECT t.command_sequence, t.start_date, t.end_date, t.is_current, t.tenure_days,
                       t.rank_abbreviation, c.full_name, c.honorific, t.nation_key,
                       coalesce(n.nation_name, t.nation_key) AS nation_name
                FROM marts.fct_command_tenure AS t
                LEFT JOIN marts.dim_commander AS c USING (commander_key)
                LEFT JOIN marts.dim_nation AS n ON n.nation_key = t.nation_key
                ORDER BY t.command_sequence"""),
            "strength": rows("""
                SELECT valid_from, valid_to, page_date, troops, approximation, contributing_nations
                FROM marts.fct_page_strength ORDER BY valid_from"""),
        }
    finally:
        con.close()


def _subtitle(meta: dict) -> str:
    updated = meta["page_last_updated"]
    when = updated.strftime("%-d %b %Y") if isinstance(updated, datetime | date) else str(updated)
    return (f"NATO, \u201cNATO's role in Kosovo\u201d, last updated {when} "
            f"\u00b7 page version {meta['content_sha256'][:12]}")


def _page_date(meta: dict) -> date:
    updated = meta["page_last_updated"]
    return updated.date() if isinstance(updated, datetime) else updated


def _fmt(n: int) -> str:
    return f"{n:,}"


# --- troop levels --------------------------------------------------------------------------------

def _troop_figure(data: dict):
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    rows = data["troops"]
    page_day = _page_date(data["meta"])
    fig = Figure(figsize=(12, 6.8), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    colours = _force_colours([r["force"] for r in rows])

    labels = []  # (row, x of its left edge, x of its right edge, y, colour) in data units
    for r in rows:
        colour = colours[r["force"]]
        exact = r["approximation"] == "exact"
        start = mdates.date2num(r["period_start"])
        end = mdates.date2num(r["period_end"] + timedelta(days=1))  # a period covers its last day
        y = r["troops"]
        if r["date_precision"] == "day" and (r["period_end"] - r["period_start"]).days < 7:
            ax.plot([(start + end) / 2], [y], marker=FIGURE_MARKER.get(r["figure_type"], "o"),
                    markersize=9, markeredgewidth=1.8, color=colour,
                    markerfacecolor=colour if exact else "white", linestyle="none", zorder=4)
        else:  # a box from the first to the last day of the period (log axis: +-9 % tall)
            ax.add_patch(Rectangle((start, y / BAR_HALF_HEIGHT), end - start,
                                   y * BAR_HALF_HEIGHT - y / BAR_HALF_HEIGHT,
                                   facecolor=colour if exact else "white", edgecolor=colour,
                                   linewidth=1.6, zorder=3,
                                   linestyle=FIGURE_LINESTYLE.get(r["figure_type"], "-")))
        labels.append((r, start, end, y, colour))

    ax.set_yscale("log")
    ax.set_ylim(min(r["troops"] for r in rows) / 2.2, max(r["troops"] for r in rows) * 2.4)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt(int(v))))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("people (log scale)")
    _year_axis(ax, min(r["period_start"] for r in rows), page_day, years_after=3)
    ax.text(mdates.date2num(page_day), 100_000, f" page date\n {page_day:%-d %b %Y}", fontsize=8,
            color="#666666", va="top", ha="left")
    ax.grid(axis="y", which="major", color="#e3e3e3", linewidth=0.8)
    ax.grid(axis="x", which="major", color="#f0f0f0", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    forces = [Patch(color=c, label=FORCE_STYLE.get(f, (c, f))[1]) for f, c in colours.items()]
    kinds = [
        Patch(facecolor="#444444", edgecolor="#444444",
              label="a figure for a period (month, part of year, season, year): "
                    "a box from its first to its last day"),
        Line2D([], [], color="#444444", marker="o", linestyle="none", markersize=8,
               label="a figure for a day (date precision: day): a marker"),
        Patch(facecolor="white", edgecolor="#444444", linewidth=1.6,
              label="approximate ('some', 'around', 'well over' ...): hollow box or marker; "
                    "exact: filled"),
        Line2D([], [], color="#444444", marker="s", linestyle="none", markersize=7,
               markerfacecolor="white", label="authorised level (square)"),
        Line2D([], [], color="#444444", marker="v", linestyle="none", markersize=8,
               label="mandated maximum (triangle)"),
    ]
    kinds = [k for k in kinds if _kind_present(k.get_label(), rows)]
    leg = ax.legend(handles=forces, loc="upper right", fontsize=8.5, title="force",
                    title_fontsize=9, frameon=False, bbox_to_anchor=(1.0, 0.93))
    ax.add_artist(leg)
    ax.legend(handles=kinds, loc="lower left", fontsize=8.5, frameon=False)
    fig.suptitle("KFOR strength as the page reports it: each figure over the period it states",
                 fontsize=14, fontweight="bold")
    ax.set_title(_subtitle(data["meta"]) + "  \u00b7  no line joins the figures: the page gives "
                 "none for the years between", fontsize=9, color="#555555")
    _label_troops(fig, ax, labels)
    return fig


def _kind_present(label: str, rows: list[dict]) -> bool:
    if label.startswith("authorised"):
        return any(r["figure_type"] == "authorised" for r in rows)
    if label.startswith("mandated"):
        return any(r["figure_type"] == "mandated_maximum" for r in rows)
    return True


def _force_colours(forces: list[str]) -> dict[str, str]:
    out, spare = {}, iter(FALLBACK_COLOURS * 4)
    for f in forces:
        if f not in out:
            out[f] = FORCE_STYLE[f][0] if f in FORCE_STYLE else next(spare)
    return out


def _figure_label(r: dict) -> str:
    word = "" if r["approximation"] == "exact" else r["approximation"] + " "
    what = {"authorised": "authorised ", "mandated_maximum": "max. "}.get(r["figure_type"], "")
    who = {"active": " active", "reserve": " reserve", "staff": " staff"}.get(r["personnel"], "")
    when = r["period_text"]
    if when == "today":
        when = f"today, {r['period_start']:%-d %b %Y}"
    nations = f", {r['contributing_nations']} nations" if r.get("contributing_nations") else ""
    force = "" if r["force"] == "KFOR" else f"{r['force']} "
    precision = r["date_precision"].replace("_", " ")
    return f"{force}{what}{word}{_fmt(r['troops'])}{who}  \u00b7  {when} ({precision}{nations})"


def _label_troops(fig, ax, labels: list) -> None:
    """Label every figure on one line beside its box or marker, never over another label, a box,
    a marker or a legend. The layout is computed first and then frozen, so positions measured in
    pixels stay true. Each label tries the right side, then the left, at its own height, then
    stepping up and down; a label moved off its height gets a thin leader line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    FigureCanvasAgg(fig)
    fig.canvas.draw()  # runs the constrained layout
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer).padded(-2)
    to_px = ax.transData.transform
    obstacles = [leg.get_window_extent(renderer).padded(3)
                 for leg in [*ax.artists, ax.get_legend()] if leg is not None]
    obstacles += [t.get_window_extent(renderer).padded(2) for t in ax.texts]  # "page date"
    items = []
    for r, start, end, y, colour in labels:
        (x0, y0), (x1, y1) = to_px((start, y / BAR_HALF_HEIGHT)), to_px((end, y * BAR_HALF_HEIGHT))
        if x1 - x0 < 12:  # a marker (or a very short box): about 12 px wide
            mid = (x0 + x1) / 2
            x0, x1 = mid - 7, mid + 7
            y0, y1 = min(y0, to_px((start, y))[1] - 7), max(y1, to_px((start, y))[1] + 7)
        items.append((r, start, end, y, colour, (x0, y0, x1, y1)))
    marks = [Bbox.from_extents(*b).padded(2) for *_, b in items]
    placed: list = []
    steps = [0] + [k * sign for k in range(1, 12) for sign in (1, -1)]

    def annotate(text, colour, anchor, side, dy, leader=False):
        return ax.annotate(
            text, anchor, xytext=(9 if side == "right" else -9, 13 * dy),
            textcoords="offset points", fontsize=8.5, color=colour, va="center",
            ha="left" if side == "right" else "right", annotation_clip=False,
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.7, "shrinkA": 1,
                        "shrinkB": 5, "relpos": (0.0, 0.5) if side == "right" else (1.0, 0.5)}
            if leader else None)

    for r, start, end, y, colour, _ in sorted(items, key=lambda i: (i[1], -i[3])):
        text = _figure_label(r)
        chosen = None
        for dy in steps:
            for side in ("right", "left"):
                anchor = (end, y) if side == "right" else (start, y)
                ann = annotate(text, colour, anchor, side, dy)
                box = ann.get_window_extent(renderer).padded(2)
                ann.remove()
                inside = (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
                          and box.y1 <= frame.y1)
                if inside and not any(box.overlaps(o) for o in (*placed, *obstacles, *marks)):
                    chosen = (anchor, side, dy, box)
                    break
            if chosen:
                break
        if chosen is None:  # nowhere free: right of the figure, at its height
            chosen = ((end, y), "right", 0, None)
        anchor, side, dy, box = chosen
        ann = annotate(text, colour, anchor, side, dy, leader=dy != 0)
        placed.append(box if box is not None else ann.get_window_extent(renderer))


# --- commanders ----------------------------------------------------------------------------------

def _commander_figure(data: dict):
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    tenures = data["tenures"]
    page_day = _page_date(data["meta"])
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for t in tenures:
        counts[t["nation_key"]] = counts.get(t["nation_key"], 0) + 1
        names[t["nation_key"]] = t["nation_name"]
    order = sorted(counts, key=lambda k: (-counts[k], names[k]))
    colour = {k: NATION_COLOURS[i % len(NATION_COLOURS)] for i, k in enumerate(order)}

    height = max(5.5, 0.27 * len(tenures) + 1.8)
    fig = Figure(figsize=(12, height), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    for t in tenures:
        start = mdates.date2num(t["start_date"])
        end = mdates.date2num(t["end_date"] or page_day)
        y = t["command_sequence"]
        current = t["is_current"] or t["end_date"] is None
        ax.barh(y, max(end - start, 1), left=start, height=0.72, color=colour[t["nation_key"]],
                edgecolor=colour[t["nation_key"]] if current else "white",
                linewidth=1.2 if current else 0.4,
                hatch="////" if t["is_current"] else None, zorder=3)
        honorific = f"{t['honorific']} " if t["honorific"] else ""
        label = f"{t['rank_abbreviation']} {honorific}{t['full_name']} ({t['nation_key']})"
        span = (f"{t['start_date']:%b %Y} \u2013 "
                + (f"in office ({t['tenure_days']} days to {page_day:%-d %b %Y})"
                   if t["is_current"] or t["end_date"] is None else f"{t['end_date']:%b %Y}"))
        ax.text(end + 25, y, f"{label}  \u00b7  {span}", va="center", ha="left", fontsize=7.6,
                color="#333333")
    ax.set_ylim(len(tenures) + 0.8, 0.2)
    ax.set_yticks([t["command_sequence"] for t in tenures])
    ax.set_yticklabels([str(t["command_sequence"]) for t in tenures], fontsize=7.5)
    ax.set_ylabel("COMKFOR, in order of command")
    _year_axis(ax, min(t["start_date"] for t in tenures), page_day, years_after=6)
    ax.grid(axis="x", which="both", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [Patch(color=colour[k], label=f"{names[k]} ({k}): {counts[k]}") for k in order]
    handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="////",
                         label=f"in office on the page date ({page_day:%-d %b %Y})"))
    ax.legend(handles=handles, loc="lower left", fontsize=8.5, title="nation: tenures",
              title_fontsize=9, frameon=True, framealpha=0.95, edgecolor="#dddddd")
    fig.suptitle(f"Commanders of KFOR: {len(tenures)} tenures since June 1999, by nation",
                 fontsize=14, fontweight="bold")
    ax.set_title(_subtitle(data["meta"]), fontsize=9, color="#555555")
    return fig


# --- the page's own strength series --------------------------------------------------------------

def _strength_figure(data: dict):
    """Each version's figure for today, held from the version's valid time to the next version's
    (the newest to the page's date); versions that state no figure leave a gap, never a guess."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    series = data["strength"]
    page_day = _page_date(data["meta"])
    fig = Figure(figsize=(12, 5.5), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    colour = FORCE_STYLE["KFOR"][0]
    stated = [r for r in series if r["troops"] is not None]
    first = min((r["valid_from"].date() for r in series), default=page_day)
    _year_axis(ax, min(first, page_day), page_day, years_after=2)
    right = ax.get_xlim()[1]
    previous = None
    for r in stated:
        start = mdates.date2num(r["valid_from"])
        newest = r["valid_to"] is None  # still what the page says: drawn on to the axis' end
        end = right if newest else mdates.date2num(r["valid_to"])
        ax.plot([start, end], [r["troops"]] * 2, color=colour, linewidth=2.2,
                linestyle=(0, (4, 2)) if newest else "-", solid_capstyle="butt", zorder=3)
        ax.plot([start], [r["troops"]], "o", color=colour, markersize=6, zorder=4)
        if (r["troops"], r["contributing_nations"]) != previous:  # label only what changed
            word = "" if r["approximation"] in (None, "exact") else f"{r['approximation']} "
            nations = f", {r['contributing_nations']} nations" if r["contributing_nations"] else ""
            ax.annotate(f"{word}{_fmt(r['troops'])}{nations}\nsaid from "
                        f"{r['valid_from']:%-d %b %Y}", (start, r["troops"]), xytext=(6, 8),
                        textcoords="offset points", fontsize=8.5, color="#333333")
        previous = (r["troops"], r["contributing_nations"])
    top = max((r["troops"] for r in stated), default=1)
    ax.set_ylim(0, top * 1.35)
    ax.yaxis.set_major_formatter(lambda v, _: _fmt(int(v)))
    ax.set_ylabel("KFOR troops, as the page states them for \u201ctoday\u201d")
    ax.grid(axis="y", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    versions = len(series)
    fig.suptitle(f"KFOR's strength as the page itself has stated it: {versions} "
                 f"version{'s' if versions != 1 else ''} on valid time", fontsize=14,
                 fontweight="bold")
    ax.set_title(_subtitle(data["meta"]), fontsize=9, color="#555555")
    return fig


# --- output --------------------------------------------------------------------------------------

def _year_axis(ax, first: date, page_day: date, years_after: int) -> None:
    """The time axis both plots share: whole years from the first date's year to a few years past
    the page's date (room for labels), a tick every year, a label every two, and the page's date
    as a dashed line."""
    import matplotlib.dates as mdates

    ax.set_xlim(mdates.date2num(date(first.year, 1, 1)),
                mdates.date2num(date(page_day.year + years_after, 1, 1)))
    ax.xaxis.set_major_locator(mdates.YearLocator(2))
    ax.xaxis.set_minor_locator(mdates.YearLocator(1))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.axvline(mdates.date2num(page_day), color="#888888", linewidth=0.9, linestyle="--", zorder=1)


def _save(fig, path: Path) -> Path:
    """Render to a temporary file beside the target, fsync, rename into place."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            fig.savefig(f, format="png", metadata={"Software": None}, facecolor="white")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
