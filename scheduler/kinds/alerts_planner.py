"""Deadline alert planning (the kind itself: scheduler/kinds/alerts.py; the plain values it
reads: alerts_facts.py; the rules handed to the database: alerts_interval.py). Its planner
also plans the follow-ups (scheduler/kinds/followup.py): both read the same goals.

Planning: for each reminder rule and matching goal, an alert is due `lead` days before the
deadline at the rule's local time. Rules, applied per (channel, goal):
- each (channel, goal, edge, lead) is alerted at most once (the ledger's unique key);
- after downtime, of the leads that came due and were not sent, only the latest one is sent
  (the earlier ones are folded into it) and only while the deadline has not passed;
- leads that fell due before the goal was known (ingested later than the rule) are not sent;
  the channel gets one "newly tracked" alert instead;
- a window deadline ("over the next five to ten years") alerts before it opens and before
  it closes;
- a week after a deadline has passed, one follow-up asks whether the target was met.

Planning reads only what can fire. Each rule remembers up to when its alerts were planned
(`checked_until`) and the newest search revision it has seen (`checked_revision`). A tick
looks at two kinds of goals only:
- goals whose deadline minus a lead, or plus the follow-up delay, is a day whose alert time
  fell in (checked_until, now]: found through the deadline indexes, a handful a day;
- goals of briefs written since `checked_revision` (newly ingested, or edited so that a
  deadline moved): found through the search revision index.
Every other goal had all its due alerts planned by an earlier tick, which is why the first
kind needs no look into the ledger. The first kind's alerts are written as rule runs: one
ledger row per rule and interval for its alerts, one for its follow-ups, their goals derived
at posting (docs/ledger-unit.md, alerts_interval.py). The second kind's, every alert of a
rule's first plan, and those of a rule without a revision mark are a ledger row per alert,
checked against the ledger; so are leads folded after downtime, whichever the path. Rules
are read as plain columns, grouped by what their schedules share, and a tick in which no
group has an alert time or a new brief reads no goal at all. Each distinct search term is
tested once per tick against all candidates.
"""

from __future__ import annotations

import json
import typing
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Text, and_, cast, func, or_, select, update
from sqlalchemy.orm import Session

from ...data.backends import backend_for
from ...data.errors import UserError
from ...data.leads import DEFAULT_LEADS
from ...data.models import (
    Brief,
    Delivery,
    DeliveryStatus,
    Goal,
    ReminderRule,
    SearchDocument,
)
from ...data.novelty import became_new_after
from .. import ledger
from ..matching import CandidateMatcher, QueryFilters
from . import alerts_runs
from .alerts import NEWLY, REMINDER, Edge, newly_key, reminder_key
from .alerts_facts import (
    GOAL_FACT_COLUMNS,
    AlertTimes,
    GoalFacts,
    GroupKey,
    KindsOf,
    Rule,
    RuleGroup,
    edges,
    follow_up_floor,
    in_group,
    search_revision,
)
from .alerts_interval import IntervalBatch, RunTally, insert_runs, run_row
from .followup import (
    FOLLOW_UP_DELAY,
    FOLLOWUP,
    followup_key,
)

FOLDED = DeliveryStatus.FOLDED
PENDING = DeliveryStatus.PENDING
# A rule's first plan also looks at briefs ingested this long before it was created (an
# ingestion still open when the rule was made), as digest planning does.
INGEST_GRACE = timedelta(minutes=10)
_CHUNK = 500
_FEW_GROUPS = 50  # up to this many groups with work, only their rules are read


class ReminderPlanner:
    """Rules that already know their goals have their interval alerts counted for all of
    them at once into rule runs (alerts_interval.py); the rest, one rule at a time here
    (tests/scheduler/reference_planner.py plans everything this way, the reference the
    tests compare the batch's rows with)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.rows: list[dict[str, object]] = []  # per-alert rows
        self.runs: list[dict[str, object]] = []  # rule runs (alerts_interval.run_row)
        self.carried = 0  # pending alerts and follow-ups the runs carry
        self.revision = search_revision(session)

    def plan(self) -> int:
        working = self._working_groups()
        if not working:
            return 0  # nothing fell due, nothing was written: no goal is read
        groups = self._load_groups(working)
        candidates = {
            g.brief_id for group in groups for g in (*group.timed.values(), *group.changed.values())
        }
        matcher = CandidateMatcher(self.session, candidates)
        filters = QueryFilters(self.session)
        sent = self._sent_keys(groups)
        batch = IntervalBatch()
        planned: list[int] = []
        for group_no, group in enumerate(groups):
            by_brief = KindsOf(group.timed)
            changed_by_brief = KindsOf(group.changed)
            days = self._batch_days(group, batch, group_no)
            for rule in group.rules:
                if not candidates:
                    planned.append(rule.id)  # nothing to match: only the marks move
                    continue
                where = filters.get(rule.query_text)
                if isinstance(where, UserError):
                    self._pause(rule, where)
                    continue
                matched = matcher.matching(where)
                kinds = frozenset(str(kind) for kind in where.goal_kinds)
                timed = by_brief.of(kinds)
                if (
                    days is not None
                    and rule.start == rule.checked_until
                    and rule.checked_revision is not None
                ):
                    batch.add_rule(
                        rule=rule,
                        group_no=group_no,
                        days=days,
                        today=group.today,
                        watch_from=rule.created_at.astimezone(group.times.zone).date(),
                        query=where,
                        matched=matched,
                        kinds=kinds,
                    )
                    planned.append(rule.id)
                    if group.changed:  # the batch plans the rest of the rule's interval
                        self._plan_rule(group, rule, matched, {}, changed_by_brief.of(kinds), sent)
                    continue
                self._plan_rule(group, rule, matched, timed, changed_by_brief.of(kinds), sent)
                planned.append(rule.id)
        pending = batch.plan(self.session, self.now) if batch else 0
        self._insert()
        self._fix_follow_ups([*batch.written, *self.runs])
        self._mark_checked(planned)
        return pending + self.carried + sum(1 for r in self.rows if r["status"] == PENDING)

    def _batch_days(
        self, group: RuleGroup, batch: IntervalBatch, group_no: int
    ) -> list[date] | None:
        """The days whose alert time fell in the group's interval, when its rules' interval
        alerts can be planned in the database (the group was planned before); the group's
        candidates go to the batch."""
        until = group.key[2]
        if until is None or not group.timed:
            return None
        days = group.times.days_between(until, self.now)
        batch.add_group(
            group_no,
            days,
            group.today,
            follow_up_floor(group.today),
            FOLLOW_UP_DELAY,
            (
                (goal.id, goal.brief_id, edge.name, edge.on, goal.kind)
                for goal in group.timed.values()
                if goal.id not in group.changed  # planned with the ledger, as new
                for edge in edges(goal)
            ),
        )
        return days

    # -- which rules have anything to do ----------------------------------------------
    def _working_groups(self) -> set[GroupKey]:
        """Groups of unpaused rules in whose interval an alert time falls or whose marks are
        behind the search revision (one grouped read of the rules)."""
        statement = (
            select(
                ReminderRule.timezone,
                ReminderRule.at_minute,
                ReminderRule.checked_until,
                ReminderRule.checked_revision,
                func.min(ReminderRule.created_at),
            )
            .where(ReminderRule.paused_reason.is_(None))
            .group_by(
                ReminderRule.timezone,
                ReminderRule.at_minute,
                ReminderRule.checked_until,
                ReminderRule.checked_revision,
            )
        )
        working: set[GroupKey] = set()
        for zone_name, minute, until, revision, first_created in self.session.execute(statement):
            key: GroupKey = (zone_name, minute, until, revision)
            if revision is None or revision < self.revision:
                working.add(key)
                continue
            after = first_created if until is None else max(until, first_created)
            times = AlertTimes(ZoneInfo(zone_name), minute)
            if times.days_between(after, self.now):
                working.add(key)
        return working

    def _load_groups(self, working: set[GroupKey]) -> list[RuleGroup]:
        columns = (
            ReminderRule.id,
            ReminderRule.team_id,
            ReminderRule.channel_id,
            ReminderRule.query_text,
            # As text: 10,000 rules share a few lead lists, each decoded once (below).
            cast(ReminderRule.leads, Text).label("leads"),
            ReminderRule.at_minute,
            ReminderRule.timezone,
            ReminderRule.created_at,
            ReminderRule.checked_until,
            ReminderRule.checked_revision,
        )
        # typing.cast: the backend's claim lock is typed for one-entity selects.
        statement = typing.cast(
            "Select[Any]", select(*columns).where(ReminderRule.paused_reason.is_(None))
        )
        if len(working) <= _FEW_GROUPS:
            statement = statement.where(or_(*(in_group(key) for key in working)))
        statement = statement.order_by(ReminderRule.id)
        # Another scheduler planning the same rules right now skips them (PostgreSQL).
        statement = backend_for(self.session).lock_for_claim(statement)
        by_key: dict[GroupKey, list[Rule]] = defaultdict(list)
        decoded: dict[str | None, tuple[int, ...]] = {}
        for row in self.session.execute(statement):
            leads = decoded.get(row.leads)
            if leads is None:
                leads = decoded[row.leads] = _leads(row.leads)
            rule = Rule(
                row.id,
                row.team_id,
                row.channel_id,
                row.query_text,
                leads,
                row.at_minute,
                row.timezone,
                row.created_at,
                row.checked_until,
                row.checked_revision,
            )
            if rule.group in working:
                by_key[rule.group].append(rule)
        groups = []
        for key, rules in by_key.items():
            zone = ZoneInfo(key[0])
            times = AlertTimes(zone, key[1])
            today = self.now.astimezone(zone).date()
            group = RuleGroup(key, rules, times, today, {}, {})
            group.timed = self._timed_goals(group)
            group.changed = self._changed_goals(group)
            groups.append(group)
        return groups

    # -- the candidates ---------------------------------------------------------------
    def _goal_facts(self, where: ColumnElement[bool]) -> dict[int, GoalFacts]:
        rows = self.session.execute(
            select(*GOAL_FACT_COLUMNS)
            .join(Brief, Goal.brief_id == Brief.id)
            .where(where)
            .order_by(Goal.id)
        )
        return {row[0]: GoalFacts(*row) for row in rows}

    def _timed_goals(self, group: RuleGroup) -> dict[int, GoalFacts]:
        """Goals with an edge `lead` days after, or a deadline FOLLOW_UP_DELAY before, a day
        whose alert time fell in the group's interval."""
        after = min(rule.start for rule in group.rules)
        days = group.times.days_between(after, self.now)
        if not days:
            return {}
        first, last = days[0], days[-1]
        leads = {lead for rule in group.rules for lead in rule.leads}
        ranges: list[ColumnElement[bool]] = []
        for lead in leads:
            low = max(first + timedelta(days=lead), group.today)  # a passed edge alerts no more
            high = last + timedelta(days=lead)
            if low <= high:
                ranges += [Goal.due_on.between(low, high), Goal.window_start.between(low, high)]
        low = max(first - FOLLOW_UP_DELAY, follow_up_floor(group.today))
        high = min(last - FOLLOW_UP_DELAY, group.today - timedelta(days=1))
        if low <= high:
            ranges.append(Goal.due_on.between(low, high))
        return self._goal_facts(or_(*ranges)) if ranges else {}

    def _changed_goals(self, group: RuleGroup) -> dict[int, GoalFacts]:
        """Goals of briefs written since the group last looked (ingested, or edited: a moved
        deadline), with an edge that can still alert or be followed up."""
        _, _, until, revision = group.key
        if revision is None:
            first = min(rule.created_at for rule in group.rules)
            written: ColumnElement[bool] = and_(
                Brief.ingested_at > first - INGEST_GRACE, Brief.ingested_at <= self.now
            )
        elif revision < self.revision:
            written = Goal.brief_id.in_(
                select(SearchDocument.brief_id).where(
                    SearchDocument.revision > revision, SearchDocument.revision <= self.revision
                )
            )
        else:
            return {}
        low = follow_up_floor(group.today) - timedelta(days=1)
        high = group.today + timedelta(days=max(lead for r in group.rules for lead in r.leads) + 1)
        in_range = or_(Goal.due_on.between(low, high), Goal.window_start.between(low, high))
        return self._goal_facts(and_(written, in_range))

    def _sent_keys(self, groups: Sequence[RuleGroup]) -> set[str]:
        """Ledger keys of the goals that need a look into the ledger: those of changed
        briefs, and every candidate of a rule planned for the first time (a rule made
        before planning kept marks may have been alerted by a full plan). Alerts a rule run
        carries count by the per-alert keys they stand for (ledger.alert_keys_for_goals)."""
        goal_ids: set[int] = set()
        for group in groups:
            goal_ids.update(group.changed)
            if group.key[2] is None:
                goal_ids.update(group.timed)
        return ledger.alert_keys_for_goals(self.session, goal_ids)

    # -- one rule ---------------------------------------------------------------------
    def _plan_rule(
        self,
        group: RuleGroup,
        rule: Rule,
        matched: frozenset[int],
        timed: dict[int, list[GoalFacts]],
        changed: dict[int, list[GoalFacts]],
        sent: set[str],
    ) -> None:
        first_plan = rule.checked_until is None
        looked_up: set[int] = set()
        for brief_id in _present(matched, changed):
            for goal in changed[brief_id]:
                self._plan_goal(group, rule, goal, sent)
                looked_up.add(goal.id)
        runs = self._runs_for(rule)
        for brief_id in _present(matched, timed):
            for goal in timed[brief_id]:
                if goal.id in looked_up:
                    continue
                if first_plan:
                    self._plan_goal(group, rule, goal, sent)
                else:
                    self._plan_interval(group, rule, goal, runs)
        if runs is not None:
            for kind, tally in ((REMINDER, runs.alerts), (FOLLOWUP, runs.follow_ups)):
                if tally.items:
                    self.runs.append(run_row(rule, kind, self.now, tally))
                    self.carried += tally.items

    def _runs_for(self, rule: Rule) -> _Runs | None:
        """The rule's runs in this plan, or None for a ledger row per alert: a rule planned
        before with a revision mark (what a run's goals are read up to) has its interval's
        alerts and follow-ups in one run row each. (Tests that want a row per alert from
        `_plan_interval` override this.)"""
        if rule.checked_until is None or rule.checked_revision is None:
            return None
        return _Runs()

    def _plan_interval(
        self, group: RuleGroup, rule: Rule, goal: GoalFacts, runs: _Runs | None
    ) -> None:
        """A goal known before this interval: only what fell due in it is new. Its pending
        alert and follow-up are counted into the rule's runs (a per-alert row each when the
        rule has no revision mark); folded leads are a row each."""
        start, times = rule.start, group.times
        for edge in edges(goal):
            if edge.on < group.today:
                continue  # passed: a follow-up asks about it instead (for the deadline)
            due = [
                lead
                for lead in rule.leads
                if start < times.on(edge.on - timedelta(days=lead)) <= self.now
            ]
            if due:
                latest = min(due)
                for lead in due:
                    if lead != latest:
                        self._alert(rule, goal, edge, lead, FOLDED)
                    elif runs is None:
                        self._alert(rule, goal, edge, lead, PENDING)
                    else:
                        runs.alerts.add(lead)
        if self._follow_up_wanted(group, rule, goal):
            assert goal.due_on is not None
            if start < times.on(goal.due_on + FOLLOW_UP_DELAY) <= self.now:
                if runs is not None:
                    runs.follow_ups.add()
                    return
                key = followup_key(rule.team_id, rule.channel_id, goal.id, goal.due_on)
                self.rows.append(self._row(rule, goal, key, FOLLOWUP))

    def _plan_goal(self, group: RuleGroup, rule: Rule, goal: GoalFacts, sent: set[str]) -> None:
        """A goal new to this rule (or just edited): everything due so far, by the ledger."""
        known_since = max(rule.created_at, goal.ingested_at)
        newly = False
        for edge in edges(goal):
            if edge.on < group.today:
                continue
            due: list[int] = []
            for lead in rule.leads:
                key = reminder_key(rule.team_id, rule.channel_id, goal.id, edge, lead)
                fire = group.times.on(edge.on - timedelta(days=lead))
                if key in sent or fire > self.now:
                    continue
                if fire < known_since:
                    # Came due before this rule knew the goal: never sent; remembered as folded.
                    self._alert(rule, goal, edge, lead, FOLDED)
                    newly = newly or became_new_after(goal.new_since, rule.created_at)
                    continue
                due.append(lead)
            if due:
                latest = min(due)
                for lead in due:
                    self._alert(rule, goal, edge, lead, PENDING if lead == latest else FOLDED)
        key = newly_key(rule.team_id, rule.channel_id, goal.id)
        if newly and key not in sent:
            self.rows.append(self._row(rule, goal, key, NEWLY))
        if self._follow_up_wanted(group, rule, goal):
            assert goal.due_on is not None
            key = followup_key(rule.team_id, rule.channel_id, goal.id, goal.due_on)
            if key not in sent and group.times.on(goal.due_on + FOLLOW_UP_DELAY) <= self.now:
                self.rows.append(self._row(rule, goal, key, FOLLOWUP))

    def _follow_up_wanted(self, group: RuleGroup, rule: Rule, goal: GoalFacts) -> bool:
        if goal.due_on is None or goal.due_on >= group.today:
            return False
        if goal.due_on < follow_up_floor(group.today):
            return False  # longer ago than the follow-up window (after downtime)
        # Not when it passed before this channel was watching it.
        return goal.due_on >= rule.created_at.astimezone(group.times.zone).date()

    # -- writing ----------------------------------------------------------------------
    def _row(
        self, rule: Rule, goal: GoalFacts, key: str, kind: str, **extra: object
    ) -> dict[str, object]:
        row: dict[str, object] = {
            "dedupe_key": key,
            "kind": kind,
            "team_id": rule.team_id,
            "channel_id": rule.channel_id,
            "reminder_id": rule.id,
            "goal_id": goal.id,
            "brief_id": goal.brief_id,
            "status": PENDING,
            "created_at": self.now,
            "next_attempt_at": self.now,
            "attempts": 0,
            "lead_days": None,
            "edge": None,
        }
        row.update(extra)
        return row

    def _alert(self, rule: Rule, goal: GoalFacts, edge: Edge, lead: int, status: str) -> None:
        key = reminder_key(rule.team_id, rule.channel_id, goal.id, edge, lead)
        self.rows.append(
            self._row(rule, goal, key, REMINDER, status=status, lead_days=lead, edge=edge.name)
        )

    def _insert(self) -> None:
        insert_runs(self.session.connection(), backend_for(self.session), self.runs)
        if self.rows:
            # Another scheduler may have planned the same rows a moment ago: the key wins.
            self.session.execute(
                backend_for(self.session).insert_ignoring_duplicates(Delivery, ["dedupe_key"]),
                self.rows,
            )

    def _fix_follow_ups(self, runs: Sequence[dict[str, object]]) -> None:
        """Follow-up runs have their items fixed now, as they are planned: which deadlines a
        run asks about depends on the day its rule started watching (`created_at`), which an
        update of the rule before the run is claimed would move past them (the follow-ups
        would be lost). They are a few a day; alert runs, many, wait for their claim."""
        keys = [str(row["dedupe_key"]) for row in runs if row["kind"] == FOLLOWUP]
        run_ids: list[int] = []
        for start in range(0, len(keys), _CHUNK):
            run_ids += self.session.scalars(
                select(Delivery.id).where(Delivery.dedupe_key.in_(keys[start : start + _CHUNK]))
            )
        if run_ids:
            alerts_runs.fix_items(self.session, sorted(run_ids), self.now)

    def _pause(self, rule: Rule, error: UserError) -> None:
        self.session.execute(
            update(ReminderRule)
            .where(ReminderRule.id == rule.id)
            .values(paused_reason=f"its query no longer works: {error}"[:200], paused_at=self.now)
        )

    def _mark_checked(self, rule_ids: Iterable[int]) -> None:
        ordered = sorted(rule_ids)
        for start in range(0, len(ordered), _CHUNK * 2):
            self.session.execute(
                update(ReminderRule)
                .where(ReminderRule.id.in_(ordered[start : start + _CHUNK * 2]))
                .values(checked_until=self.now, checked_revision=self.revision)
            )


class _Runs:
    """A rule's two runs in one plan: its alerts and its follow-ups."""

    def __init__(self) -> None:
        self.alerts = RunTally()
        self.follow_ups = RunTally()


def _leads(text: str | None) -> tuple[int, ...]:
    """A rule's stored leads (a JSON list), distinct and descending; the defaults if none."""
    stored = json.loads(text) if text else None
    return tuple(sorted(set(stored or DEFAULT_LEADS), reverse=True))


def _present(matched: frozenset[int], by_brief: dict[int, list[GoalFacts]]) -> list[int]:
    """The matched briefs that have goals here, in order (the smaller set is walked)."""
    if len(by_brief) < len(matched):
        return sorted(brief for brief in by_brief if brief in matched)
    return sorted(brief for brief in matched if brief in by_brief)


def plan_reminders(session: Session, now: datetime) -> int:
    return ReminderPlanner(session, now).plan()
