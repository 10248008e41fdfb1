"""Follow-ups: a week after a deadline passed, "Was this target met?". A channel's follow-ups
of one slot are one message (as its deadline alerts are): each goal once with its Met /
Missed / Unclear buttons, the first MAX_FOLLOW_UPS shown, the rest named behind a button.
Exactly-once holds as for any message: every row is marked sent with the one post (the
message carries all their ledger ids), or handed back together when it fails.

Follow-ups are planned with the deadline alerts (scheduler/kinds/alerts_planner.py: one planner reads
the goals both need), keyed `followup:<team>:<channel>:<goal>:<deadline>`; the follow-ups of a rule's plan interval
are one row, a rule run (scheduler/kinds/alerts_runs.py), whose items are its goals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...data.models import Goal
from ...data.views import DeadlineView, brief_view, goal_view
from .. import ledger
from ..delivery import ClaimedItem, DeliveryKind, KindName, Outcome, Owner
from ..messages import FollowUp
from .zones import UTC_ZONE, rule_zones

FOLLOWUP = KindName.FOLLOWUP
# Whether a target was met is rarely known the morning after its deadline; ask a week later.
FOLLOW_UP_DELAY = timedelta(days=7)
FOLLOW_UP_WINDOW = timedelta(days=30)  # after longer downtime, old follow-ups are skipped
# Two blocks a goal (the goal, its buttons): ten stay well inside Slack's 50 blocks and its
# characters per message, with the headline, the note and "See the other N".
MAX_FOLLOW_UPS = 10


def deliver_followup(
    session: Session, team: str, channel: str, items: list[ClaimedItem], now: datetime
) -> Outcome:
    runs = [i for i in items if i.is_run]
    rows = [i for i in items if not i.is_run]
    # A rule run's follow-ups are its items (scheduler/kinds/alerts_runs.py), fixed before
    # its first post; a row per follow-up carries its goal.
    by_run = ledger.run_items(session, [r.id for r in runs]) if runs else {}
    asked = [(i.goal_id, i) for i in rows if i.goal_id is not None]
    # An item not shown is a follow-up another rule of the channel asks (alerts_runs.py).
    asked += [(i.goal_id, run) for run in runs for i in by_run.get(run.id, []) if i.shown]
    covered = tuple(
        run.id for run in runs if by_run.get(run.id) and not any(i.shown for i in by_run[run.id])
    )
    wanted = sorted({goal_id for goal_id, _ in asked})
    goals = {g.id: g for g in session.scalars(select(Goal).where(Goal.id.in_(wanted)))}
    live_ids = {row.id for goal_id, row in asked if goal_id in goals}
    # Deleted after planning (a row's goal, or every goal of a run).
    gone = tuple(i.id for i in items if i.id not in live_ids and i.id not in covered)
    # Each goal once (a moved deadline, or two rules, may bring a second row for it: all go
    # with it), the longest passed first; only the shown ones are read in full.
    first_row: dict[int, ClaimedItem] = {}
    for goal_id, row in asked:
        if goal_id in goals:
            first_row.setdefault(goal_id, row)
    order = sorted(first_row, key=lambda g: (goals[g].due_on or date.max, g))
    zones = rule_zones(session, items)
    shown = []
    for goal_id in order[:MAX_FOLLOW_UPS]:
        goal, item = goals[goal_id], first_row[goal_id]
        today = now.astimezone(zones.get(item.reminder_id, UTC_ZONE)).date()
        shown.append(DeadlineView(goal_view(goal, today), brief_view(goal.brief, today)))
    if not shown:
        return Outcome(folded=covered, gone=gone)
    more = tuple(goals[goal_id].ref for goal_id in order[MAX_FOLLOW_UPS:])
    ids = tuple(i.id for i in items if i.id in live_ids)
    return Outcome(FollowUp(tuple(shown), ids, more), ids, folded=covered, gone=gone)


def followup_key(team: str, channel: str, goal_id: int, due_on: date) -> str:
    return ledger.alert_key(team, channel, goal_id, "due", due_on, None, KindName.FOLLOWUP)


KIND = DeliveryKind(
    FOLLOWUP,
    Owner.REMINDER_RULE,
    batch_key=lambda item: (FOLLOWUP,),  # one message per channel per slot
    deliver=deliver_followup,
)
