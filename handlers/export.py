"""Deadlines as files: an iCalendar feed (RFC 5545) and a CSV sheet, from one selection.

The selection uses the search grammar (words and filters) with an optional `within 24m`;
without it every future deadline is exported. Each goal is one all-day event whose UID
depends only on the goal's id (ingestion keeps goal ids when a brief is edited) and on this
installation's id (`goal-5-due@<id>.policybot`: two installations never collide), and whose
DTSTAMP comes from the brief's `updated_at`: exporting again gives the same bytes until a
brief changes, and a calendar that re-imports the file updates its events, never duplicates.
"""

from __future__ import annotations

import csv
import io
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from ..data.assessments import team_answers
from ..data.calendar_feeds import uid_domain
from ..data.deadlines import DueGoal, due_goals
from ..data.errors import UserError
from ..data.models import Brief, Goal, GoalStatus
from ..data.query.compiler import TextQueries
from ..data.query.meaning import meaning_of
from ..data.query.understanding import Intent
from ..data.views import deadline_label
from .briefs import (
    _ignored_note,
    _no_results,
    add_months,
    parse_window,
)
from .context import Context
from .replies import FileAttachment, Reply
from .request import Request

FORMATS = ("ics", "csv")
FILENAME = "policybot-deadlines"
CALENDAR_NAME = "policybot deadlines"
PRODID = "-//policybot//deadlines//EN"
MAX_SUMMARY_GOAL = 80  # characters of goal text in an event's title
CSV_COLUMNS = (
    "goal_id",
    "brief_id",
    "deadline",
    "precision",
    "window_start",
    "days_left",
    "goal",
    "brief_title",
    "bodies",
    "status",
)
# What the scorecard calls a team's answer; a goal nobody answered keeps its stored status.
STATUS_LABELS = {GoalStatus.MET: "met", GoalStatus.MISSED: "missed", GoalStatus.UNKNOWN: "unclear"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LAST_DAY = date(9999, 12, 31)  # "no end": every engine stores it


@dataclass
class Selection:
    """The deadlines a query selects, and how to describe them."""

    due: list[DueGoal]
    period: str  # "" (every future deadline) or " in the next 24 months"
    about: str  # "" or " for storage body:MIIT"
    notes: list[str] = field(default_factory=list)
    analysed: TextQueries = field(default_factory=TextQueries)


@dataclass(frozen=True)
class Export:
    attachment: FileAttachment
    selection: Selection

    @property
    def count(self) -> int:
        return len(self.selection.due)


def uid(goal_id: int, domain: str) -> str:
    """The event's UID: the goal's id at this installation's domain (data.calendar_feeds)."""
    return f"goal-{goal_id}-due@{domain}"


def select_deadlines(session: Session, ctx: Context, text: str) -> Selection:
    """`[within 18m] [words and filters]` -> the matching goals due from today on."""
    words = text.split()
    today = ctx.today
    end, period = _LAST_DAY, ""
    if words and words[0].lower() == "within":
        window, words, label = parse_window(words)
        end = today + window if isinstance(window, timedelta) else add_months(today, window)
        period = f" in the next {label}"
    rest = " ".join(words)
    if not rest:
        return Selection(due_goals(session, today, end), period, "")
    meaning = meaning_of(session, rest, today, Intent.DEADLINES)  # as `deadlines` reads it
    query, where, analysed = meaning.query, meaning.where, meaning.analysed
    described = query.describe()
    # `due:2027` (or `due:..2030`) picks the goals due then, not every goal of a brief that
    # has one: the file holds only deadlines inside the year asked for.
    start = today
    if where.due_year is not None:
        start = max(start, date(where.due_year, 1, 1))
        end = min(end, date(where.due_year, 12, 31))
    if where.due_by is not None:
        end = min(end, where.due_by)
    if where.due_from is not None:
        start = max(start, where.due_from)
    due = due_goals(session, start, end, where) if start <= end else []
    return Selection(
        due,
        period,
        f" for {described}" if described else "",
        [*query.notes, *_ignored_note(analysed, where)],
        analysed,
    )


def export_deadlines(session: Session, ctx: Context, fmt: str, text: str) -> Export:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UserError(f"I can export `ics` (calendar) or `csv` (spreadsheet), not `{fmt[:20]}`.")
    selection = select_deadlines(session, ctx, text)
    if fmt == "ics":
        name = CALENDAR_NAME + selection.about.replace(" for ", ": ", 1)
        content = calendar_bytes(selection.due, uid_domain(session), name=name)
        mime = "text/calendar"
    else:
        content = csv_bytes(selection.due, ctx.today, _team_answers(session, ctx, selection.due))
        mime = "text/csv"
    title = f"policybot deadlines{selection.period}{selection.about}"
    attachment = FileAttachment(f"{FILENAME}.{fmt}", content, title, mime)
    return Export(attachment, selection)


def export_reply(request: Request, fmt: str) -> Reply:
    """`deadlines ics|csv [within 18m] [words]`: the file and a sentence about it."""
    session, ctx, text = request.session, request.context, request.argument
    export = export_deadlines(session, ctx, fmt, text)
    selection = export.selection
    if not export.count:
        return _no_results(
            session,
            f"No deadlines{selection.period or ' ahead'}{selection.about} to export.",
            text,
            selection.analysed,
            selection.notes,
            command=f"deadlines {fmt.lower()}",
            hint="Try fewer words, or `/policy deadlines` to see what falls due.",
        )
    kind = "Calendar" if export.attachment.mime == "text/calendar" else "Spreadsheet"
    noun = "deadline" if export.count == 1 else "deadlines"
    notes = list(selection.notes)
    if kind == "Calendar":
        notes.append("Import it into your calendar; importing a newer export updates the events.")
    return Reply(
        text=f"{kind} of {export.count} {noun}{selection.period}{selection.about}"
        f" ({export.attachment.filename})",
        notes=notes,
        attachment=export.attachment,
    )


# ---------------------------------------------------------------------------- iCalendar


def _stamp(brief: Brief) -> datetime:
    return brief.updated_at.astimezone(UTC).replace(microsecond=0)


def _summary(goal: Goal, brief: Brief) -> str:
    text = " ".join(goal.text.split())
    short = textwrap.shorten(text, MAX_SUMMARY_GOAL, placeholder=" \u2026")
    return f"{short} [{brief.ref}]"


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _description(goal: Goal, brief: Brief) -> str:
    label = deadline_label(goal.due_on, goal.precision, goal.window_start)
    lines = [brief.title]
    if brief.title_original:
        lines.append(brief.title_original)
    bodies = ", ".join(b.abbreviation for b in brief.bodies)
    if bodies:
        lines.append(f"Issued by: {bodies}{' et al.' if brief.bodies_more else ''}")
    lines.append(f"Deadline: {label}")
    if goal.precision == "window" and goal.due_on:
        opens = _long_date(goal.window_start) if goal.window_start else "now"
        lines.append(f"The window opens {opens} and closes {_long_date(goal.due_on)}.")
    lines += ["", f"Goal {goal.ref}: {goal.text}", ""]
    published = _long_date(brief.published_on) if brief.published_on else "undated"
    lines.append(f"Brief {brief.ref} ({brief.kind}, {published})")
    lines += list(brief.links)
    return "\n".join(lines)


def calendar_bytes(due: list[DueGoal], domain: str, name: str = CALENDAR_NAME) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for item in due:
        goal, brief = item.goal, item.brief
        if goal.due_on is None:
            continue
        event = Event()
        event.add("uid", uid(goal.id, domain))
        event.add("dtstamp", _stamp(brief))
        event.add("last-modified", _stamp(brief))
        event.add("dtstart", goal.due_on)
        event.add("dtend", goal.due_on + timedelta(days=1))
        event.add("summary", _summary(goal, brief))
        event.add("description", _description(goal, brief))
        if brief.links:
            event.add("url", brief.links[0])
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        calendar.add_component(event)
    return bytes(calendar.to_ical())


# ---------------------------------------------------------------------------- CSV


def _team_answers(session: Session, ctx: Context, due: list[DueGoal]) -> dict[int, GoalStatus]:
    answers = team_answers(session, ctx.team_id, [item.goal.id for item in due])
    return {goal_id: GoalStatus(status) for goal_id, status in answers.items()}


def _cell(text: str) -> str:
    """Text a spreadsheet would read as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_bytes(due: list[DueGoal], today: date, answers: dict[int, GoalStatus]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: quoted as needed, CRLF line ends
    writer.writerow(CSV_COLUMNS)
    for item in due:
        goal, brief = item.goal, item.brief
        answer = answers.get(goal.id)
        status = STATUS_LABELS.get(answer, str(answer)) if answer else str(goal.status)
        bodies = ", ".join(b.abbreviation for b in brief.bodies)
        writer.writerow(
            (
                goal.ref,
                brief.ref,
                goal.due_on.isoformat() if goal.due_on else "",
                goal.precision or "",
                goal.window_start.isoformat() if goal.window_start else "",
                (goal.due_on - today).days if goal.due_on else "",
                _cell(goal.text),
                _cell(brief.title),
                _cell(bodies + (" et al." if brief.bodies_more and bodies else "")),
                status,
            )
        )
    return out.getvalue().encode("utf-8")
