"""Charts drawn as PNG bytes with matplotlib: a timeline of targets by issuing body and the
scorecard's met / missed / open bars per body.

matplotlib is imported inside the functions that draw (importing it costs a few hundred
milliseconds that start-up and every other command never pay). Figures are made with
`matplotlib.figure.Figure`, never pyplot: pyplot keeps global state and is not safe on the
command pool's threads, and a bare Figure renders with the off-screen Agg canvas.

Labels are drawn only in fonts that have their glyphs: Chinese names need a CJK font, which
many servers lack; without one a Chinese body name is drawn by its English short name (the
caller's `english` fallback), never as empty boxes.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Families that draw Chinese, most common first (Linux packages, then macOS and Windows).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "PingFang SC",
    "Heiti SC",
    "Microsoft YaHei",
    "SimHei",
)
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_DRAWN_LATIN = "DejaVu Sans"  # matplotlib's own font: always there
WIDTH_INCHES = 10.0
DPI = 100
MAX_LABEL = 34  # characters of a body's name on an axis
STATUS_COLOURS = {
    "met": "#2e7d32",
    "missed": "#c62828",
    "unclear": "#9e9e9e",
    "awaiting answer": "#f2b134",
}
TIMELINE_COLOUR = "#1f5fa8"


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@cache
def cjk_family() -> str | None:
    """The name of an installed font family that draws Chinese, else None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def drawable(text: str, english: str, cjk_font: str | None) -> str:
    """`text` if the font draws it, else its English form (or the text without CJK)."""
    if cjk_font is not None or not has_cjk(text):
        return text
    if english and not has_cjk(english):
        return english
    return " ".join(_CJK.sub(" ", text).split()) or "(name in Chinese)"


def _short(text: str, width: int = MAX_LABEL) -> str:
    return textwrap.shorten(text, width, placeholder="\u2026") if len(text) > width else text


@dataclass(frozen=True)
class TimelineRow:
    """One issuing body's targets: (deadline, window opening or None, goal ref)."""

    label: str
    english: str  # drawn instead of `label` when no CJK font is installed
    points: tuple[tuple[date, date | None, str], ...]


@dataclass(frozen=True)
class ScoreRow:
    label: str
    english: str
    counts: dict[str, int]  # "met", "missed", "unclear", "awaiting answer" -> goals


def _figure(rows: int) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    height = max(3.0, 1.6 + 0.5 * rows)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    return figure, figure.subplots()


def _families(cjk_font: str | None) -> list[str]:
    return [_DRAWN_LATIN, cjk_font] if cjk_font else [_DRAWN_LATIN]


def _day_number(day: date) -> float:
    """matplotlib's number for a date (days since its epoch)."""
    import matplotlib.dates as mdates

    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    # No "Software" text chunk: the same chart gives the same bytes whatever the version.
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def timeline_png(
    rows: Sequence[TimelineRow], title: str, cjk_font: str | None, label_points: bool
) -> bytes:
    """Deadlines on a time axis, one row per body (first row at the top); a window is a
    line from its opening to its deadline. `label_points`: write each goal's ref beside it."""
    import matplotlib.dates as mdates

    figure, axes = _figure(len(rows))
    families = _families(cjk_font)
    for position, row in enumerate(rows):
        y = len(rows) - 1 - position
        for opens, due in {(o, d) for d, o, _ in row.points if o is not None and o < d}:
            axes.plot(
                [_day_number(opens), _day_number(due)],
                [y, y],
                color=TIMELINE_COLOUR,
                alpha=0.35,
                linewidth=3,
            )
        same_day: dict[date, list[str]] = {}
        for due, _, ref in sorted(row.points, key=lambda p: (p[0], p[2])):
            same_day.setdefault(due, []).append(ref)
        for due, refs in same_day.items():
            # Targets due on one day are one dot, bigger for more, labelled once.
            x = _day_number(due)
            size = 6 + 2 * len(refs) ** 0.5
            axes.plot([x], [y], marker="o", color=TIMELINE_COLOUR, markersize=size)
            if label_points:
                label = ", ".join(refs) if len(refs) <= 3 else f"{refs[0]} +{len(refs) - 1}"
                axes.annotate(
                    label,
                    (x, y),
                    xytext=(0, 8),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                    color="#333333",
                )
    labels = [f"{_short(drawable(r.label, r.english, cjk_font))} ({len(r.points)})" for r in rows]
    axes.set_yticks(range(len(rows) - 1, -1, -1), labels, family=families)
    axes.set_ylim(-0.7, len(rows) - 0.3)
    axes.xaxis_date()
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.grid(axis="x", color="#dddddd")
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_title(drawable(title, "", cjk_font), loc="left", family=families)
    return _png(figure)


def scorecard_png(rows: Sequence[ScoreRow], title: str, cjk_font: str | None) -> bytes:
    """Horizontal stacked bars: each body's scored targets by the team's answer."""
    from matplotlib.ticker import MaxNLocator

    figure, axes = _figure(len(rows))
    families = _families(cjk_font)
    positions = list(range(len(rows) - 1, -1, -1))
    left = [0] * len(rows)
    for status, colour in STATUS_COLOURS.items():
        widths = [row.counts.get(status, 0) for row in rows]
        if not any(widths):
            continue
        bars = axes.barh(positions, widths, left=left, color=colour, label=status, height=0.6)
        axes.bar_label(
            bars,
            labels=[str(w) if w else "" for w in widths],
            label_type="center",
            color="white" if status in ("met", "missed") else "black",
            fontsize=8,
        )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    labels = [_short(drawable(r.label, r.english, cjk_font)) for r in rows]
    axes.set_yticks(positions, labels, family=families)
    axes.set_xlabel("targets")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="lower right", frameon=False, fontsize=8)
    axes.set_xlim(0, max(left) * 1.15 if max(left) else 1)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_title(drawable(title, "", cjk_font), loc="left", family=families)
    return _png(figure)
