"""What deadline-alert planning reads, as plain values (no ORM graph): goals and reminder
rules, the groups of rules that share a schedule, the alert times of a day, and a group's
goals by brief and kind. The planner itself: scheduler/kinds/alerts_planner.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from ...data.models import Brief, Goal, GoalKind, ReminderRule, SearchState
from ...data.schedules import local_instant
from .alerts import Edge
from .followup import FOLLOW_UP_DELAY, FOLLOW_UP_WINDOW


@dataclass(frozen=True)
class GoalFacts:
    """What planning reads of a goal (plain columns, no ORM graph)."""

    id: int
    brief_id: int
    due_on: date | None
    precision: str | None
    window_start: date | None
    ingested_at: datetime  # of its brief
    kind: str = GoalKind.POLICY  # a government target, or a company's own plan
    new_since: datetime | None = None  # of its brief: None for archive (data/novelty.py)


# The columns a GoalFacts is read from, in its fields' order (goals joined to their briefs).
GOAL_FACT_COLUMNS = (
    Goal.id,
    Goal.brief_id,
    Goal.due_on,
    Goal.precision,
    Goal.window_start,
    Brief.ingested_at,
    Goal.kind,
    Brief.new_since,
)


@dataclass(frozen=True)
class Rule:
    """What planning reads of a reminder rule."""

    id: int
    team_id: str
    channel_id: str
    query_text: str
    leads: tuple[int, ...]  # descending
    at_minute: int
    timezone: str
    created_at: datetime
    checked_until: datetime | None
    checked_revision: int | None

    @property
    def group(self) -> GroupKey:
        return (self.timezone, self.at_minute, self.checked_until, self.checked_revision)

    @property
    def start(self) -> datetime:
        """Alerts due after this instant are this tick's to plan (an updated rule watches
        from its update on)."""
        if self.checked_until is None:
            return self.created_at
        return max(self.checked_until, self.created_at)


GroupKey = tuple[str, int, datetime | None, int | None]


def edges(goal: GoalFacts) -> list[Edge]:
    found = [Edge("due", goal.due_on)] if goal.due_on else []
    if goal.precision == "window" and goal.window_start:
        found.append(Edge("opens", goal.window_start))
    return found


def search_revision(session: Session) -> int:
    """The newest search revision: every brief written up to it is visible (base.py)."""
    return int(session.scalar(select(SearchState.revision).where(SearchState.id == 1)) or 0)


class AlertTimes:
    """The UTC instant of a schedule's alert time on a local day, computed once per day."""

    def __init__(self, zone: ZoneInfo, at_minute: int) -> None:
        self.zone = zone
        self.at_minute = at_minute
        self._instants: dict[date, datetime] = {}

    def on(self, day: date) -> datetime:
        instant = self._instants.get(day)
        if instant is None:
            instant = self._instants[day] = local_instant(day, self.at_minute, self.zone)
        return instant

    def days_between(self, after: datetime, until: datetime) -> list[date]:
        """Local days whose alert time falls in (after, until], in order (a contiguous run:
        the alert time moves forward with the day)."""
        day = after.astimezone(self.zone).date() - timedelta(days=1)
        last = until.astimezone(self.zone).date()
        found = []
        while day <= last:
            if after < self.on(day) <= until:
                found.append(day)
            day += timedelta(days=1)
        return found


@dataclass
class RuleGroup:
    """Rules sharing a time zone, alert time and marks: their candidates are found once."""

    key: GroupKey
    rules: list[Rule]
    times: AlertTimes
    today: date
    timed: dict[int, GoalFacts]  # goals with an alert time in the interval
    changed: dict[int, GoalFacts]  # goals of briefs written since the group's revision


def in_group(key: GroupKey) -> ColumnElement[bool]:
    zone, minute, until, revision = key
    return and_(
        ReminderRule.timezone == zone,
        ReminderRule.at_minute == minute,
        ReminderRule.checked_until.is_(None)
        if until is None
        else ReminderRule.checked_until == until,
        ReminderRule.checked_revision.is_(None)
        if revision is None
        else ReminderRule.checked_revision == revision,
    )


def follow_up_floor(today: date) -> date:
    """The oldest deadline still followed up (FOLLOW_UP_WINDOW after its follow-up)."""
    return today - FOLLOW_UP_WINDOW - FOLLOW_UP_DELAY - timedelta(days=1)


def _by_brief(goals: dict[int, GoalFacts]) -> dict[int, list[GoalFacts]]:
    found: dict[int, list[GoalFacts]] = defaultdict(list)
    for goal in goals.values():
        found[goal.brief_id].append(goal)
    return found


class KindsOf:
    """A group's goals by brief, only of the kinds a rule follows (government targets unless
    it says `kind:company`); computed once per set of kinds, not once per rule."""

    def __init__(self, goals: dict[int, GoalFacts]) -> None:
        self.by_brief = _by_brief(goals)
        self._of: dict[frozenset[str], dict[int, list[GoalFacts]]] = {}

    def of(self, kinds: frozenset[str]) -> dict[int, list[GoalFacts]]:
        found = self._of.get(kinds)
        if found is None:
            found = self._of[kinds] = {
                brief: [goal for goal in goals if goal.kind in kinds]
                for brief, goals in self.by_brief.items()
            }
        return found
