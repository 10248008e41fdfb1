"""Rule runs: the alerts (or follow-ups) of one reminder rule over one plan interval, one
ledger row for all of them (docs/ledger-unit.md, section 8). Planning writes the row; its
items are worked out here, once, before its first post, into `alert_items`, and from then
on are what the row delivers: a retry, an uncertain post's recovery or a crash posts or
records the same items whatever was edited since.

The items of a run are exactly what `ReminderPlanner._plan_interval` plans PENDING (or the
follow-ups it plans) for a rule with the run's query, leads, zone and alert minute, with
`start = covers_after`, `now = covers_until`, `today` = covers_until's local day, over the
goals whose brief's search revision is <= `revision_floor` (goals written later are the
changed-goal path's, per-alert rows checked against the ledger). A brief without a search
document is searched by no query (scheduler/matching.py reads the documents), so it has
no items in any run.

Follow-up runs are the exception to "at posting": the planner fixes their items as it plans
them (`fix_items`), since which deadlines they ask about depends on the day their rule
started watching, which an update of the rule before the claim would move.

This module also declares the alert and follow-up kinds with that step (`prepare`), which
the ticker runs in a write transaction before delivering a claim.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, or_, select
from sqlalchemy.orm import Session

from ...data.backends import backend_for
from ...data.errors import UserError
from ...data.leads import DEFAULT_LEADS
from ...data.models import AlertItem, Brief, Delivery, Goal, ReminderRule, SearchDocument
from .. import ledger
from ..delivery import ClaimedItem, DeliveryKind, KindName
from ..matching import CandidateMatcher, QueryFilters
from . import alerts, followup
from .alerts_facts import (
    GOAL_FACT_COLUMNS,
    AlertTimes,
    GoalFacts,
    KindsOf,
    edges,
    follow_up_floor,
)
from .followup import FOLLOW_UP_DELAY
from .slot import ALERT_KINDS, SAME_GOAL_QUIET

log = logging.getLogger(__name__)

_CHUNK = 500
ALERT_ITEMS = cast(Table, AlertItem.__table__)


@dataclass(frozen=True)
class RunPlan:
    """What a run row says about its plan (plain values)."""

    id: int
    kind: KindName  # reminder (alerts) or followup
    team_id: str
    channel_id: str
    rule_id: int | None
    covers_after: datetime
    covers_until: datetime
    revision_floor: int
    query: str
    leads: tuple[int, ...]  # descending
    times: AlertTimes
    today: date  # covers_until's local day
    watch_from: date  # follow-ups: deadlines passed before the rule watched are not asked
    days: tuple[date, ...]  # whose alert time falls in (covers_after, covers_until]


@dataclass(frozen=True)
class Item:
    """An alert (or follow-up) of a run, as `alert_items` keeps it."""

    run_id: int
    goal_id: int
    edge: str
    edge_on: date
    lead: int | None  # None for a follow-up


def parse_leads(text: str | None) -> tuple[int, ...]:
    """`plan_leads` ("90,30,7") as the planner's leads: distinct, descending."""
    leads = {int(part) for part in (text or "").split(",") if part.strip()}
    return tuple(sorted(leads or set(DEFAULT_LEADS), reverse=True))


def read_plans(session: Session, run_ids: list[int]) -> list[RunPlan]:
    """The plans of these run rows (plain columns). A follow-up run watches from its rule's
    creation day, as planning did; a rule edited since (created_at moved past the plan)
    watched at the latest from the plan's start. Runs sharing a zone and alert minute share
    their alert times (computed once a day)."""
    plans = []
    times: dict[tuple[str, int], AlertTimes] = {}
    days: dict[tuple[str, int, datetime, datetime], tuple[date, ...]] = {}
    for start in range(0, len(run_ids), _CHUNK):
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.kind,
                Delivery.team_id,
                Delivery.channel_id,
                Delivery.reminder_id,
                Delivery.covers_after,
                Delivery.covers_until,
                Delivery.revision_floor,
                Delivery.plan_query,
                Delivery.plan_leads,
                Delivery.plan_zone,
                Delivery.plan_minute,
                ReminderRule.created_at,
            )
            .outerjoin(ReminderRule, ReminderRule.id == Delivery.reminder_id)
            .where(Delivery.id.in_(run_ids[start : start + _CHUNK]))
            .order_by(Delivery.id)
        )
        for row in rows:
            after, until, created_at = row.covers_after, row.covers_until, row.created_at
            if after is None or until is None:
                continue
            schedule = (row.plan_zone or "UTC", row.plan_minute or 0)
            if schedule not in times:
                times[schedule] = AlertTimes(ZoneInfo(schedule[0]), schedule[1])
            zone = times[schedule].zone
            if (*schedule, after, until) not in days:  # the runs of one plan share them
                days[(*schedule, after, until)] = tuple(times[schedule].days_between(after, until))
            watched = after if created_at is None else min(created_at, after)
            plans.append(
                RunPlan(
                    row.id,
                    KindName(row.kind),
                    row.team_id,
                    row.channel_id,
                    row.reminder_id,
                    after,
                    until,
                    row.revision_floor or 0,
                    row.plan_query or "",
                    parse_leads(row.plan_leads),
                    times[schedule],
                    until.astimezone(zone).date(),
                    watched.astimezone(zone).date(),
                    days[(*schedule, after, until)],
                )
            )
    return plans


def _ranges(plans: Iterable[RunPlan]) -> tuple[list[tuple[date, date]], list[tuple[date, date]]]:
    """Edge-day ranges the runs' alerts can fall on, and deadline ranges of their
    follow-ups (what `ReminderPlanner._timed_goals` reads for a rule), merged."""
    edge_days: list[tuple[date, date]] = []
    deadlines: list[tuple[date, date]] = []
    for plan in plans:
        days = plan.days
        if not days:
            continue
        first, last = days[0], days[-1]
        if plan.kind is KindName.FOLLOWUP:
            low = max(first - FOLLOW_UP_DELAY, follow_up_floor(plan.today), plan.watch_from)
            high = min(last - FOLLOW_UP_DELAY, plan.today - timedelta(days=1))
            if low <= high:
                deadlines.append((low, high))
            continue
        for lead in plan.leads:
            low = max(first + timedelta(days=lead), plan.today)  # a passed edge alerts no more
            high = last + timedelta(days=lead)
            if low <= high:
                edge_days.append((low, high))
    return _merged(edge_days), _merged(deadlines)


def _merged(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    merged: list[tuple[date, date]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


def _candidates(
    session: Session, plans: list[RunPlan]
) -> tuple[dict[int, GoalFacts], dict[int, int]]:
    """The goals any of the runs can carry (one ranged read), and their briefs' search
    revisions."""
    edge_days, deadlines = _ranges(plans)
    ranges: list[ColumnElement[bool]] = []
    for low, high in edge_days:
        ranges += [Goal.due_on.between(low, high), Goal.window_start.between(low, high)]
    ranges += [Goal.due_on.between(low, high) for low, high in deadlines]
    if not ranges:
        return {}, {}
    rows = session.execute(
        select(*GOAL_FACT_COLUMNS, SearchDocument.revision)
        .join(Brief, Goal.brief_id == Brief.id)
        .join(SearchDocument, SearchDocument.brief_id == Brief.id)
        .where(
            or_(*ranges),
            SearchDocument.deleted.is_(False),
            SearchDocument.revision <= max(plan.revision_floor for plan in plans),
        )
        .order_by(Goal.id)
    )
    goals, revisions = {}, {}
    for row in rows:
        goals[row[0]] = GoalFacts(*row[:8])
        revisions[row[1]] = row[8]
    return goals, revisions


def derive(session: Session, plans: list[RunPlan]) -> dict[int, list[Item]]:
    """The items of each run (by run id): candidates read once, each distinct query
    matched once against them."""
    found: dict[int, list[Item]] = {plan.id: [] for plan in plans}
    goals, revisions = _candidates(session, plans)
    if not goals:
        return found
    matcher = CandidateMatcher(session, {goal.brief_id for goal in goals.values()})
    filters = QueryFilters(session)
    by_brief = KindsOf(goals)
    fire_days: dict[tuple[tuple[date, ...], tuple[int, ...]], dict[date, int]] = {}
    by_query: dict[str, list[RunPlan]] = defaultdict(list)
    for plan in plans:
        by_query[plan.query].append(plan)
    for query, runs in by_query.items():
        where = filters.get(query)
        if isinstance(where, UserError):
            # The query stopped making sense since planning (an alias removed): the planner
            # pauses the rule; this run has nothing it can still stand behind.
            log.warning("run query %r no longer works: %s", query[:80], where)
            continue
        matched = sorted(matcher.matching(where))
        timed = by_brief.of(frozenset(str(kind) for kind in where.goal_kinds))
        for plan in runs:
            pick = _follow_ups if plan.kind is KindName.FOLLOWUP else _alerts
            key = (plan.days, plan.leads)
            fires = fire_days.get(key)
            if fires is None:
                fires = fire_days[key] = _fire_days(plan)
            for brief_id in matched:
                if revisions.get(brief_id, plan.revision_floor + 1) > plan.revision_floor:
                    continue  # written after the plan's floor: the changed-goal path's
                for goal in timed.get(brief_id, ()):
                    found[plan.id] += pick(plan, goal, fires)
    return found


def _fire_days(plan: RunPlan) -> dict[date, int]:
    """Edge day -> the latest (smallest) lead that alerts it in the plan's interval: an alert
    time falls in (covers_after, covers_until] exactly on the plan's `days`, so an edge
    `lead` days after one of them alerts (worked out once per plan shape, not per goal)."""
    found: dict[date, int] = {}
    for lead in plan.leads:
        for day in plan.days:
            edge_day = day + timedelta(days=lead)
            found[edge_day] = min(lead, found.get(edge_day, lead))
    return found


def _alerts(plan: RunPlan, goal: GoalFacts, fires: dict[date, int]) -> list[Item]:
    """`_plan_interval`'s PENDING alerts: of each edge not passed today, the latest (smallest)
    lead whose alert time fell in the interval."""
    items = []
    for edge in edges(goal):
        if edge.on < plan.today:
            continue
        lead = fires.get(edge.on)
        if lead is not None:
            items.append(Item(plan.id, goal.id, edge.name, edge.on, lead))
    return items


def _follow_ups(plan: RunPlan, goal: GoalFacts, _fires: dict[date, int]) -> list[Item]:
    """`_plan_interval`'s follow-up: a deadline passed (before today, within the follow-up
    window, not before the rule watched) whose follow-up time fell in the interval (its
    day + FOLLOW_UP_DELAY is one of the plan's days)."""
    due_on = goal.due_on
    if due_on is None or due_on >= plan.today or due_on < follow_up_floor(plan.today):
        return []
    if due_on < plan.watch_from:
        return []
    if due_on + FOLLOW_UP_DELAY not in plan.days:
        return []
    return [Item(plan.id, goal.id, "due", due_on, None)]


def prepare_runs(session: Session, items: list[ClaimedItem], now: datetime) -> None:
    """Fix the items of the claimed runs that have none yet (in the caller's write
    transaction). The runs' rules are locked first (PostgreSQL; SQLite's writer lock
    serialises anyway): a plan running now skips those rules (it claims them SKIP LOCKED)
    rather than read the ledger between this derivation and its commit, and a second
    worker preparing the same run waits and then finds the items written."""
    runs = [i for i in items if i.is_run]
    if not runs:
        return
    rule_ids = sorted({i.reminder_id for i in runs if i.reminder_id is not None})
    if rule_ids:
        session.execute(
            select(ReminderRule.id)
            .where(ReminderRule.id.in_(rule_ids))
            .order_by(ReminderRule.id)
            .with_for_update()
        ).all()
    fix_items(session, sorted(i.id for i in runs), now, {i.id for i in items})


def fix_items(
    session: Session, run_ids: list[int], now: datetime, claimed: set[int] | None = None
) -> None:
    """Derive and insert the items of those of these runs that have none yet (`claimed`: the
    rows posted with them)."""
    done = ledger.runs_with_items(session, run_ids)
    todo = [run_id for run_id in run_ids if run_id not in done]
    if not todo:
        return
    plans = read_plans(session, todo)
    derived = derive(session, plans)
    # On the connection, not through the ORM (whose bulk layer costs more than the database
    # for the thousands of items of a claim), a slice at a time: one statement for all of
    # them would hold every row's parameters at once. A run is prepared once: the key would
    # only meet rows another worker wrote for it.
    backend, connection = backend_for(session), session.connection()
    rows = _rows(session, plans, derived, now, claimed or set())
    while batch := list(islice(rows, _INSERT_BATCH)):
        backend.insert_rows_ignoring_duplicates(
            connection, ALERT_ITEMS, batch, ["delivery_id", "goal_id", "edge"]
        )


_INSERT_BATCH = 2000


def _rows(
    session: Session,
    plans: list[RunPlan],
    derived: dict[int, list[Item]],
    now: datetime,
    claimed: set[int],
) -> Iterator[dict[str, object]]:
    """alert_items rows; an alert whose goal the channel was alerted about within the day is
    recorded as covered (`shown` false), not shown again; so is an alert the ledger holds
    already for the channel (the same goal, edge, edge day and lead: another rule of the
    channel in a zone a day apart, or this rule before it moved its zone or time), as a
    per-alert row with that key would not have been written; likewise a follow-up the
    channel was asked (or is to be asked) by another rule; the rows claimed with the
    runs are posted with them (the message names each goal once)."""
    quiet: dict[tuple[str, str], set[int]] = defaultdict(set)
    keys: dict[tuple[int, Item], str] = {}
    earliest: date | None = None
    for plan in plans:
        follow = plan.kind is KindName.FOLLOWUP
        if not follow:
            quiet[(plan.team_id, plan.channel_id)].update(i.goal_id for i in derived[plan.id])
        for i in derived[plan.id]:
            keys[(plan.id, i)] = ledger.alert_key(
                plan.team_id, plan.channel_id, i.goal_id, i.edge, i.edge_on, i.lead, plan.kind
            )
            fires = i.edge_on + FOLLOW_UP_DELAY if follow else i.edge_on - timedelta(i.lead or 0)
            earliest = fires if earliest is None or fires < earliest else earliest
    recent = ledger.alerted_since_by_channel(session, quiet, now - SAME_GOAL_QUIET, ALERT_KINDS)
    taken: set[str] = set()
    if earliest is not None:
        # An alert of local day D falls due from D-1 10:00 UTC (UTC+14) on.
        since = datetime.combine(earliest - timedelta(days=2), time(), UTC)
        channels = {(plan.team_id, plan.channel_id) for plan in plans}
        preparing = {(p.rule_id, p.times.zone.key, p.times.at_minute) for p in plans}
        taken = ledger.alert_keys_taken(
            session, channels, set(keys.values()), since, claimed, preparing
        )
    for plan in plans:
        seen = recent.get((plan.team_id, plan.channel_id), set())
        for item in derived[plan.id]:
            yield {
                "delivery_id": item.run_id,
                "goal_id": item.goal_id,
                "edge": item.edge,
                "edge_on": item.edge_on,
                "lead": item.lead,
                "shown": keys[(plan.id, item)] not in taken
                and (plan.kind is KindName.FOLLOWUP or item.goal_id not in seen),
            }


# The alert and follow-up kinds, with the step that fixes their runs' items before posting.
KINDS: tuple[DeliveryKind, ...] = tuple(
    replace(kind, prepare=prepare_runs) for kind in (*alerts.KINDS, followup.KIND)
)
