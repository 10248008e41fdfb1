"""Plan deadline alerts and follow-ups into the delivery ledger.

For each reminder rule and each matching goal, an alert is due `lead` days before the
deadline at the rule's local time. Rules, applied per (channel, goal):
- each (channel, goal, edge, lead) is alerted at most once (the ledger's unique key);
- after downtime, of the leads that came due and were not sent, only the latest one is sent
  (the earlier ones are folded into it) and only while the deadline has not passed;
- leads that fell due before the goal was known (ingested later than the rule) are not sent;
  the channel gets one "newly tracked" alert instead;
- a window deadline ("over the next five to ten years") alerts before it opens and before
  it closes;
- a week after a deadline has passed, one follow-up asks whether the target was met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from policybot.data.backends import backend_for
from policybot.data.errors import UserError
from policybot.data.leads import DEFAULT_LEADS
from policybot.data.models import Brief, Delivery, DeliveryStatus, Goal, ReminderRule
from policybot.data.query.compiler import build_filter
from policybot.data.query.language import parse_query
from policybot.data.schedules import local_instant
from policybot.data.store import matching_ids
from policybot.scheduler.kinds.alerts import NEWLY, REMINDER
from policybot.scheduler.kinds.followup import FOLLOWUP

FOLDED = DeliveryStatus.FOLDED
FOLLOW_UP_WINDOW = timedelta(days=30)  # after longer downtime, old follow-ups are skipped
# Whether a target was met is rarely known the morning after its deadline; ask a week later.
FOLLOW_UP_DELAY = timedelta(days=7)


@dataclass(frozen=True)
class Edge:
    name: str  # "due", or "opens" for the start of a window
    on: date


def edges(goal: Goal) -> list[Edge]:
    found = [Edge("due", goal.due_on)] if goal.due_on else []
    if goal.precision == "window" and goal.window_start:
        found.append(Edge("opens", goal.window_start))
    return found


def reminder_key(team: str, channel: str, goal_id: int, edge: Edge, lead: int) -> str:
    # The date is part of the key: a deadline moved by a revised brief is alerted anew.
    return f"remind:{team}:{channel}:{goal_id}:{edge.name}:{edge.on.isoformat()}:{lead}"


def newly_key(team: str, channel: str, goal_id: int) -> str:
    return f"newly:{team}:{channel}:{goal_id}"


def followup_key(team: str, channel: str, goal_id: int, due_on: date) -> str:
    return f"followup:{team}:{channel}:{goal_id}:{due_on.isoformat()}"


def _insert(session: Session, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    session.execute(backend_for(session).insert_ignoring_duplicates(Delivery, ["dedupe_key"]), rows)


class ReminderPlanner:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.rows: list[dict[str, object]] = []

    def plan(self) -> int:
        statement = (
            select(ReminderRule)
            .where(ReminderRule.paused_reason.is_(None))
            .order_by(ReminderRule.id)
        )
        statement = backend_for(self.session).lock_for_claim(statement)
        for rule in self.session.scalars(statement).all():
            self._plan_rule(rule)
        _insert(self.session, self.rows)
        return sum(1 for r in self.rows if r["status"] == DeliveryStatus.PENDING)

    def _plan_rule(self, rule: ReminderRule) -> None:
        try:
            where, _ = build_filter(self.session, parse_query(rule.query_text))
        except UserError as error:
            rule.paused_reason = f"its query no longer works: {error}"[:200]
            rule.paused_at = self.now
            return
        zone = ZoneInfo(rule.timezone)
        today = self.now.astimezone(zone).date()
        leads = sorted(set(rule.leads or DEFAULT_LEADS), reverse=True)
        horizon = today + timedelta(days=max(leads) + 1)
        created = rule.created_at.astimezone(zone).date()
        since = max(created, today - FOLLOW_UP_WINDOW - FOLLOW_UP_DELAY) - timedelta(days=1)
        goals = self._goals(where, since, horizon)
        sent = self._existing_keys(rule, [g.id for g, _ in goals])
        for goal, brief in goals:
            self._plan_goal(rule, goal, brief, leads, zone, today, sent)

    def _goals(self, where: object, since: date, horizon: date) -> list[tuple[Goal, Brief]]:
        """Matching goals with an edge between `since` and `horizon` (few, whatever the history)."""
        in_range = or_(
            Goal.due_on.between(since, horizon), Goal.window_start.between(since, horizon)
        )
        candidates = select(Goal.brief_id).where(in_range).distinct()
        brief_ids = set(self.session.scalars(candidates))
        if not brief_ids:
            return []
        allowed = set(
            matching_ids(
                self.session,
                where,  # type: ignore[arg-type]
                ingested_until=self.now,
                only_ids=brief_ids,
            )
        )
        rows = self.session.execute(
            select(Goal, Brief)
            .join(Brief, Goal.brief_id == Brief.id)
            .where(Goal.brief_id.in_(allowed), in_range)
            .order_by(Goal.id)
        )
        return [(goal, brief) for goal, brief in rows]

    def _existing_keys(self, rule: ReminderRule, goal_ids: list[int]) -> set[str]:
        if not goal_ids:
            return set()
        return set(
            self.session.scalars(
                select(Delivery.dedupe_key).where(
                    Delivery.team_id == rule.team_id,
                    Delivery.channel_id == rule.channel_id,
                    Delivery.goal_id.in_(goal_ids),
                )
            )
        )

    def _row(
        self, rule: ReminderRule, goal: Goal, key: str, kind: str, **extra: object
    ) -> dict[str, object]:
        row: dict[str, object] = {
            "dedupe_key": key,
            "kind": kind,
            "team_id": rule.team_id,
            "channel_id": rule.channel_id,
            "reminder_id": rule.id,
            "goal_id": goal.id,
            "brief_id": goal.brief_id,
            "status": DeliveryStatus.PENDING,
            "created_at": self.now,
            "next_attempt_at": self.now,
            "attempts": 0,
            "lead_days": None,
            "edge": None,
        }
        row.update(extra)
        return row

    def _alert(self, rule: ReminderRule, goal: Goal, edge: Edge, lead: int, status: str) -> None:
        key = reminder_key(rule.team_id, rule.channel_id, goal.id, edge, lead)
        self.rows.append(
            self._row(rule, goal, key, REMINDER, status=status, lead_days=lead, edge=edge.name)
        )

    def _plan_goal(
        self,
        rule: ReminderRule,
        goal: Goal,
        brief: Brief,
        leads: list[int],
        zone: ZoneInfo,
        today: date,
        sent: set[str],
    ) -> None:
        known_since = max(rule.created_at, brief.ingested_at)
        newly = False
        for edge in edges(goal):
            if edge.on < today:
                continue  # passed: a follow-up asks about it instead (for the deadline)
            due: list[tuple[int, datetime]] = []
            for lead in leads:
                key = reminder_key(rule.team_id, rule.channel_id, goal.id, edge, lead)
                fire = local_instant(edge.on - timedelta(days=lead), rule.at_minute, zone)
                if key in sent or fire > self.now:
                    continue
                if fire < known_since:
                    # Came due before this rule knew the goal: never sent; remembered as folded.
                    self._alert(rule, goal, edge, lead, FOLDED)
                    newly = newly or brief.ingested_at > rule.created_at
                    continue
                due.append((lead, fire))
            if due:
                latest = min(lead for lead, _ in due)
                for lead, _ in due:
                    self._alert(
                        rule, goal, edge, lead, DeliveryStatus.PENDING if lead == latest else FOLDED
                    )
        key = newly_key(rule.team_id, rule.channel_id, goal.id)
        if newly and key not in sent:
            self.rows.append(self._row(rule, goal, key, NEWLY))
        self._plan_followup(rule, goal, zone, today, sent)

    def _plan_followup(
        self, rule: ReminderRule, goal: Goal, zone: ZoneInfo, today: date, sent: set[str]
    ) -> None:
        if goal.due_on is None or goal.due_on >= today:
            return
        if goal.due_on < rule.created_at.astimezone(zone).date():
            return  # it passed before this channel was watching it
        key = followup_key(rule.team_id, rule.channel_id, goal.id, goal.due_on)
        ask_at = local_instant(goal.due_on + FOLLOW_UP_DELAY, rule.at_minute, zone)
        if key not in sent and ask_at <= self.now:
            self.rows.append(self._row(rule, goal, key, FOLLOWUP))


def plan_reminders(session: Session, now: datetime) -> int:
    return ReminderPlanner(session, now).plan()
