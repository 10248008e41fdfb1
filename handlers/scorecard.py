"""status and scorecard: whether stated targets were met, as each team judges them."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy.orm import Session

from ..data.assessments import answer_history, answers_on_briefs, record_answer
from ..data.briefs import BriefFilter, brief_titles, parse_goal_ref
from ..data.errors import UserError
from ..data.models import Goal, GoalAssessmentChange, GoalStatus
from ..data.query.meaning import meaning_of
from ..data.scorecard import score_tally, scored_goal_candidates
from ..data.views import DeadlineView, brief_view, deadline_label, goal_view
from .context import Context
from .replies import Button, Line, Person, Reply, Section
from .request import Request

ANSWERS = {"met": GoalStatus.MET, "missed": GoalStatus.MISSED, "unclear": GoalStatus.UNKNOWN}
LABELS = {GoalStatus.MET: "met", GoalStatus.MISSED: "missed", GoalStatus.UNKNOWN: "unclear"}
MAX_NOTE = 500
MAX_SECTIONS = 15
CONFIRM = "confirm"  # `status g5 met confirm`: the answer was meant, however early
EARLY_DAYS = 365  # an answer this long before the deadline asks for confirmation first
SHOWN_HISTORY = 6


def _confirmation(goal: Goal, answer: GoalStatus, note: str, today: date) -> Reply:
    """An answer a year or more before the deadline is most likely a slip: ask first."""
    label = LABELS[answer]
    due = deadline_label(goal.due_on, goal.precision, goal.window_start)
    days = (goal.due_on - today).days if goal.due_on else 0
    confirm = f"status {goal.ref} {label} {CONFIRM}" + (f" {note}" if note else "")
    return Reply(
        text=f"{goal.ref} is not due until {days} days from now ({due}). Mark it {label} already?",
        notes=[f"{goal.ref}: {goal.text}", "Nothing is recorded until you confirm."],
        buttons=[
            Button(f"Yes, mark it {label}", confirm, primary=True, replaces=True),
            Button("Show the brief", f"show {goal.ref}", replaces=True),
        ],
    )


def _history(session: Session, team_id: str, goal: Goal) -> list[GoalAssessmentChange]:
    return answer_history(session, team_id, goal.id, limit=SHOWN_HISTORY + 1)


def _who(user_id: str, ctx: Context) -> Person:
    return Person(user_id, ctx.user_label if user_id == ctx.user_id else "")


def _change_line(change: GoalAssessmentChange, ctx: Context) -> Line:
    when = change.answered_at.astimezone(ctx.tz)
    note = f" ({change.note})" if change.note else ""
    return Line(
        (
            f"{LABELS[GoalStatus(change.status)]} \u2014 ",
            _who(change.answered_by, ctx),
            f", {when.day} {when:%b %Y %H:%M} {ctx.tz.key}{note}",
        )
    )


def answer_buttons(goal_ref: str, current: GoalStatus | None = None) -> list[Button]:
    """Met / Missed / Unclear: each replaces the message it is on, so an answer can be
    changed where it was given."""
    return [
        Button(label, f"status {goal_ref} {word}", primary=ANSWERS[word] == current, replaces=True)
        for label, word in (("Met", "met"), ("Missed", "missed"), ("Unclear", "unclear"))
    ]


def status(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    words = text.split(maxsplit=2)
    if len(words) < 2:
        raise UserError(
            "Write `/policy status g5 met` (or `missed`, `unclear`), optionally with a note."
        )
    goal_id = parse_goal_ref(words[0])
    answer = ANSWERS.get(words[1].lower())
    if goal_id is None:
        raise UserError(f"`{words[0][:20]}` is not a goal id; goal ids look like `g5`.")
    if answer is None:
        raise UserError("The answer is `met`, `missed` or `unclear`.")
    goal = session.get(Goal, goal_id) if goal_id < 2**62 else None
    if goal is None:
        raise UserError(f"There is no goal `g{goal_id}`.")
    note = words[2] if len(words) > 2 else ""
    confirmed = note.split(maxsplit=1)[:1] == [CONFIRM]
    if confirmed:
        note = note[len(CONFIRM) :].strip()
    note = note[:MAX_NOTE]
    today = ctx.now.astimezone(ctx.tz).date()
    early = goal.due_on is not None and (goal.due_on - today).days >= EARLY_DAYS
    if early and not confirmed:
        return _confirmation(goal, answer, note, today)
    record_answer(session, ctx.team_id, goal.id, answer, note, ctx.user_id, ctx.now)
    when = ctx.now.astimezone(ctx.tz).strftime("%-d %b %Y")
    history = _history(session, ctx.team_id, goal)
    earlier: tuple[str | Line, ...] = tuple(
        _change_line(change, ctx) for change in history[1:SHOWN_HISTORY]
    )
    if len(history) > SHOWN_HISTORY:
        earlier += ("\u2026and earlier answers",)
    return Reply(
        text=(
            # The goal's text is in the card below: the headline does not repeat it.
            f"{goal.ref} marked {LABELS[answer]} by {ctx.user_label} on {when}"
            + (f" \u2014 note: {note}" if note else "")
        ),
        deadlines=[DeadlineView(goal_view(goal, today), brief_view(goal.brief, today))],
        sections=[Section("Earlier answers", earlier)] if earlier else [],
        notes=[
            "Was this target met? Change the answer with the buttons below; "
            "`/policy scorecard` shows all answers."
        ],
        buttons=answer_buttons(goal.ref, answer),
    )


def _label(status: str | None) -> str:
    if status is None:
        return "awaiting answer"
    return LABELS.get(GoalStatus(status), "open")


def scorecard(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    where = meaning_of(session, text, ctx.today).where if text.strip() else BriefFilter()
    today = ctx.today
    # The database counts; only the briefs shown are loaded, with their scored goals.
    tally = score_tally(session, ctx.team_id, today, where, first=MAX_SECTIONS)
    if not tally.briefs:
        return Reply(
            text="No targets to score yet: none has passed its deadline or been answered.",
            notes=["Answer one with `/policy status g5 met`; upcoming ones: `/policy deadlines`."],
        )
    totals: Counter[str] = Counter()
    for status, count in tally.totals.items():
        totals[_label(status)] += count
    per_body: dict[str, Counter[str]] = defaultdict(Counter)
    for body, counts in tally.per_body.items():
        for status, count in counts.items():
            per_body[body][_label(status)] += count
    order = ("met", "missed", "unclear", "awaiting answer")
    summary = ", ".join(f"{totals[k]} {k}" for k in order if totals[k])
    sections = _brief_sections(session, ctx, today, [b for _, _, b in tally.first], where)
    body_lines = tuple(
        f"{body}: " + ", ".join(f"{counts[k]} {k}" for k in order if counts[k])
        for body, counts in sorted(per_body.items())
    )
    if body_lines:
        sections.append(Section("By issuing body", body_lines))
    reply = Reply(text=f"Scorecard: {summary}", sections=sections)
    if tally.briefs > MAX_SECTIONS:
        reply.notes.append(
            f"Showing {MAX_SECTIONS} of {tally.briefs} briefs; narrow it with words or filters."
        )
    return reply


def _brief_sections(
    session: Session, ctx: Context, today: date, brief_ids: list[int], where: BriefFilter
) -> list[Section]:
    """One section per brief shown: each scored goal with the team's answer."""
    if not brief_ids:
        return []
    answers = answers_on_briefs(session, ctx.team_id, brief_ids)
    goals = scored_goal_candidates(session, brief_ids, where.goal_kinds)
    lines: dict[int, list[str]] = {b: [] for b in brief_ids}
    for goal in goals:
        answer = answers.get(goal.id)
        if answer is None and not (goal.due_on is not None and goal.due_on < today):
            continue
        label = _label(answer.status) if answer else "awaiting answer"
        line = f"{goal.ref} [{label}] {deadline_label(goal.due_on, goal.precision, goal.window_start)}: {goal.text}"
        if answer and answer.note:
            line += f" ({answer.note})"
        lines[goal.brief_id].append(line)
    titles = {
        brief_id: f"b{brief_id} {title}"
        for brief_id, title in brief_titles(session, brief_ids).items()
    }
    return [Section(titles[b], tuple(lines[b])) for b in brief_ids if b in titles]
