"""`deadlines chart` and `scorecard chart`: the same answers as pictures (PNG), with alt text.

The reply carries the PNG as a file (Slack uploads it to the channel with its alt text, the
console saves it and says where) and a sentence that names what the picture shows. Many
bodies are drawn as the biggest few plus "others"; an empty answer is a sentence, no image.
A target issued jointly counts once for each of its bodies (as the scorecard counts it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from ..data.bodies import full_names, known_bodies, normalize_name
from ..data.briefs import BriefFilter
from ..data.deadlines import DueGoal
from ..data.models import GoalStatus
from ..data.query.compiler import build_filter
from ..data.query.language import parse_query
from ..data.scorecard import score_tally
from . import drawing
from .briefs import _no_results
from .export import select_deadlines
from .replies import FileAttachment, Reply
from .request import Request

MAX_ROWS = 8  # bodies drawn; the rest are one "others" row
MAX_LABELLED_POINTS = 30  # beyond this, goal refs beside the points would overlap
MAX_ALT_TEXT = 1000  # Slack's limit for a file's alt text
NO_BODY = "no body named"
OTHERS = "others"
STATUS_ORDER = ("met", "missed", "unclear", "awaiting answer")
_ANSWER_LABELS = {GoalStatus.MET: "met", GoalStatus.MISSED: "missed", GoalStatus.UNKNOWN: "unclear"}
TIMELINE_FILE = "policybot-deadlines-chart.png"
SCORECARD_FILE = "policybot-scorecard-chart.png"


@dataclass(frozen=True)
class _Body:
    name: str  # as the bot shows it (the abbreviation)
    english: str  # an English form for a picture without a CJK font


def _english_name(abbreviation: str, full_name: str) -> str:
    """A Latin-script name for a body: its own if it has one, else the known body's
    abbreviation (bodies.toml) for a Chinese alias, else its English full name."""
    if not drawing.has_cjk(abbreviation):
        return abbreviation
    key = normalize_name(abbreviation)
    for known in known_bodies():
        if key in {normalize_name(n) for n in known.names()}:
            return known.abbreviation
    return full_name if full_name and not drawing.has_cjk(full_name) else ""


def _long(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _alt(text: str) -> str:
    return text if len(text) <= MAX_ALT_TEXT else text[: MAX_ALT_TEXT - 1] + "\u2026"


def _top(counts: Counter[str], keep: int = MAX_ROWS) -> tuple[list[str], list[str]]:
    """The `keep` biggest names (ties by name) and the rest, when there are too many."""
    ranked = sorted(counts, key=lambda name: (-counts[name], name.casefold()))
    if len(ranked) <= keep:
        return ranked, []
    return ranked[: keep - 1], ranked[keep - 1 :]


# ---------------------------------------------------------------------------- timeline


def _bodies_of(item: DueGoal) -> list[_Body]:
    bodies = [
        _Body(b.abbreviation, _english_name(b.abbreviation, b.full_name)) for b in item.brief.bodies
    ]
    return bodies or [_Body(NO_BODY, NO_BODY)]


def deadlines_chart(request: Request) -> Reply:
    """`deadlines chart [within 18m] [words]`: upcoming targets on a timeline by body."""
    session, ctx, text = request.session, request.context, request.argument
    selection = select_deadlines(session, ctx, text)
    due = [item for item in selection.due if item.goal.due_on is not None]
    if not due:
        return _no_results(
            session,
            f"No deadlines{selection.period or ' ahead'}{selection.about} to chart.",
            text,
            selection.analysed,
            selection.notes,
            command="deadlines chart",
            hint="Try fewer words, or `/policy deadlines` to see what falls due.",
        )
    points: dict[str, list[tuple[date, date | None, str]]] = defaultdict(list)
    english: dict[str, str] = {}
    for item in due:
        goal = item.goal
        assert goal.due_on is not None
        opens = goal.window_start if goal.precision == "window" else None
        for body in _bodies_of(item):
            points[body.name].append((goal.due_on, opens, goal.ref))
            english[body.name] = body.english
    counts = Counter({name: len(found) for name, found in points.items()})
    shown, rest = _top(counts)
    cjk_font = drawing.cjk_family()
    rows = [drawing.TimelineRow(n, english[n], tuple(points[n])) for n in shown]
    if rest:
        merged = tuple(sorted({p for n in rest for p in points[n]}))
        label = f"{OTHERS} ({len(rest)} bodies)"
        rows.append(drawing.TimelineRow(label, label, merged))
    first = min(item.goal.due_on for item in due if item.goal.due_on)
    last = max(item.goal.due_on for item in due if item.goal.due_on)
    noun = "target" if len(due) == 1 else "targets"
    title = f"Upcoming targets by issuing body{selection.period}{selection.about}"
    png = drawing.timeline_png(
        rows, title, cjk_font, label_points=sum(len(r.points) for r in rows) <= MAX_LABELLED_POINTS
    )
    per_body = ", ".join(f"{row.label} {len(row.points)}" for row in rows)
    span = _long(first) if first == last else f"{_long(first)} to {_long(last)}"
    alt = _alt(
        f"Timeline of {len(due)} upcoming {noun}{selection.about}, due {span}, one row per "
        f"issuing body: {per_body}."
        + (" A target issued jointly counts for each of its bodies." if _joint(due) else "")
    )
    attachment = FileAttachment(TIMELINE_FILE, png, title, "image/png", alt_text=alt)
    return Reply(
        text=f"Timeline of {len(due)} upcoming {noun}{selection.period}{selection.about}, "
        f"due {span} ({TIMELINE_FILE})",
        notes=[*selection.notes, f"By issuing body: {per_body}."],
        attachment=attachment,
    )


def _joint(due: list[DueGoal]) -> bool:
    return any(len(item.brief.bodies) > 1 for item in due)


# ---------------------------------------------------------------------------- scorecard


def _status_label(status: str | None) -> str:
    if status is None:
        return "awaiting answer"
    return _ANSWER_LABELS.get(GoalStatus(status), "unclear")


def scorecard_chart(request: Request) -> Reply:
    """`scorecard chart [words]`: met / missed / unclear / awaiting answer per issuing body."""
    session, ctx, text = request.session, request.context, request.argument
    query = parse_query(text) if text.strip() else None
    where = build_filter(session, query)[0] if query is not None else BriefFilter()
    about = f" for {query.describe()}" if query is not None and query.describe() else ""
    tally = score_tally(session, ctx.team_id, ctx.today, where, first=0)
    per_body: dict[str, Counter[str]] = defaultdict(Counter)
    for body, counts in tally.per_body.items():
        for status, count in counts.items():
            per_body[body][_status_label(status)] += count
    totals: Counter[str] = Counter()
    for status, count in tally.totals.items():
        totals[_status_label(status)] += count
    if not per_body:
        return Reply(
            text=f"No targets{about} to chart yet: none has passed its deadline or been answered.",
            notes=[
                "Answer one with `/policy status g5 met`; upcoming ones: `/policy deadlines chart`."
            ],
        )
    sizes = Counter({body: sum(counts.values()) for body, counts in per_body.items()})
    shown, rest = _top(sizes)
    full = full_names(session, shown)
    rows = [
        drawing.ScoreRow(b, _english_name(b, full.get(b, "")), dict(per_body[b])) for b in shown
    ]
    if rest:
        merged: Counter[str] = Counter()
        for body in rest:
            merged.update(per_body[body])
        label = f"{OTHERS} ({len(rest)} bodies)"
        rows.append(drawing.ScoreRow(label, label, dict(merged)))
    title = f"Scorecard by issuing body{about}"
    png = drawing.scorecard_png(rows, title, drawing.cjk_family())

    def said(counts: dict[str, int]) -> str:
        return ", ".join(f"{counts[k]} {k}" for k in STATUS_ORDER if counts.get(k))

    scored = sum(totals.values())
    noun = "target" if scored == 1 else "targets"
    alt = _alt(
        f"Bar chart of {scored} scored {noun}{about} by issuing body, each bar split into "
        f"met, missed, unclear and awaiting answer: "
        + "; ".join(f"{row.label}: {said(row.counts)}" for row in rows)
        + "."
    )
    attachment = FileAttachment(SCORECARD_FILE, png, title, "image/png", alt_text=alt)
    return Reply(
        text=f"Scorecard chart{about}: {said(dict(totals))} ({SCORECARD_FILE})",
        notes=["A target issued jointly counts for each of its bodies."],
        attachment=attachment,
    )
