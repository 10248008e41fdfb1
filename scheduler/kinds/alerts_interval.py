"""Alerts that fell due in an interval, planned for many rules at once as rule runs.

A rule planned before (its marks set, unchanged since) needs no look into the ledger for
the goals it already knew: an alert is due when a goal's edge minus one of the rule's leads
is a local day whose alert time fell in (checked_until, now], and a follow-up when its
deadline plus the follow-up delay is. With 10,000 channels that is hundreds of thousands of
alerts on a busy morning, and a ledger row each cost seconds to write. So the ledger's unit
here is a rule run (docs/ledger-unit.md, section 8): one row per rule and plan interval for
its pending alerts (kind "reminder") and one for its follow-ups (kind "followup"), each
written only when it carries at least one; which goals it carries is derived when it is
posted (alerts_runs.py). Planning still works the alerts out, to count them and to give a
run its nearest lead: Python decides the small sets (for each rule, which distinct query it
asks and which fire days its group and leads give: a fire set) and counts, for each
distinct (query, fire set), the goal edges that fall due (matched once per query by the
search index), without listing them. Of the leads due for one edge after downtime only the
latest is sent; the earlier ones are remembered as folded, a ledger row per rule and lead,
written by one INSERT ... SELECT from two temporary tables (plan_rules, plan_items) only
when a fire set fires one edge day with several leads. The rows are the ones
`ReminderPlanner._plan_interval` (scheduler/kinds/alerts_planner.py) writes for the same
rules (tests/scheduler/test_interval_alerts.py compares the two on both engines).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    literal,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ...data.backends import backend_for
from ...data.backends.base import Backend
from ...data.models import DeliveryStatus
from ..delivery import KindName
from ..planning import DELIVERIES, key_expression, new_row_columns
from .alerts_facts import Rule

_metadata = MetaData()
PENDING = DeliveryStatus.PENDING.value
FOLDED = DeliveryStatus.FOLDED.value
REMINDER = KindName.REMINDER.value
FOLLOWUP = KindName.FOLLOWUP.value


def _temporary(name: str, *columns: Column[Any]) -> Table:
    return Table(name, _metadata, *columns, prefixes=["TEMPORARY"])


RULES = _temporary(
    "plan_rules",
    Column("rule_id", Integer, primary_key=True),
    Column("team_id", String(40)),
    Column("channel_id", String(40)),
    Column("group_no", Integer),
    Column("query_no", Integer),
    Column("fire_set_no", Integer),
    Column("watch_from", String(10)),  # ISO date: deadlines before it are not followed up
)
# The folded leads each distinct (query, fire set) of the rules gives after downtime (the
# table is filled and joined to the rules only then).
ITEMS = _temporary(
    "plan_items",
    Column("query_no", Integer, primary_key=True),
    Column("fire_set_no", Integer, primary_key=True),
    Column("goal_id", Integer, primary_key=True),
    Column("edge", String(10), primary_key=True),
    Column("lead", Integer, primary_key=True),
    Column("brief_id", Integer),
    Column("edge_day", String(10)),
    Column("status", String(10)),
)
TABLES = (RULES, ITEMS)


@dataclass
class RunTally:
    """What one rule run carries, counted while planning: its pending alerts (and the
    nearest lead among them), or its follow-ups."""

    items: int = 0
    nearest: int | None = None

    def add(self, lead: int | None = None, count: int = 1) -> None:
        self.items += count
        if lead is not None and (self.nearest is None or lead < self.nearest):
            self.nearest = lead


def run_key(kind: str, rule: Rule) -> str:
    """`remind-run:<team>:<channel>:<rule>:<covers_after>` (`followup-run:` for follow-ups):
    keyed by the interval's start, so replanning with the same marks hits the same key and
    a rule planned twice in a day (updated in between) gets two rows (docs/ledger-unit.md)."""
    prefix = "remind-run" if kind == REMINDER else "followup-run"
    return f"{prefix}:{rule.team_id}:{rule.channel_id}:{rule.id}:{rule.start.isoformat()}"


def run_row(rule: Rule, kind: str, now: datetime, tally: RunTally) -> dict[str, object]:
    """The ledger row of one rule run: the rule's alerts (kind "reminder") or follow-ups
    (kind "followup") that fell due in (rule.start, now], over the goals of briefs at search
    revision <= the rule's `checked_revision`; its items are fixed before its first post, a
    follow-up run's by the planner (docs/ledger-unit.md, section 8). Both planners write runs
    through here."""
    return {
        "dedupe_key": run_key(kind, rule),
        "kind": kind,
        "team_id": rule.team_id,
        "channel_id": rule.channel_id,
        "reminder_id": rule.id,
        "goal_id": None,
        "brief_id": None,
        "status": PENDING,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "lead_days": tally.nearest if kind == REMINDER else None,
        "edge": None,
        "covers_after": rule.start,
        "covers_until": now,
        "revision_floor": rule.checked_revision,
        "plan_query": rule.query_text,
        "plan_leads": ",".join(str(lead) for lead in rule.leads),
        "plan_zone": rule.timezone,
        "plan_minute": rule.at_minute,
    }


def insert_runs(
    connection: Connection, backend: Backend, rows: Sequence[dict[str, object]]
) -> None:
    """Write run rows on the connection, not through the ORM (whose bulk layer costs more
    than the database for thousands of rows); a row another scheduler planned a moment ago
    (the same rule and marks) is kept."""
    backend.insert_rows_ignoring_duplicates(connection, DELIVERIES, rows, ["dedupe_key"])


@dataclass
class IntervalBatch:
    """What is needed to plan the interval alerts of many rules at once."""

    # Rows are tuples in their table's column order.
    # (rule, team, channel, group, query, fire set, watch from)
    rules: list[tuple[int, str, str, int, int, int, str]] = field(default_factory=list)
    # (brief, group, goal, edge, edge day, kind)
    candidates: list[tuple[int, int, int, str, str, str]] = field(default_factory=list)
    fires: list[tuple[int, str, int]] = field(default_factory=list)  # (fire set, day, lead)
    followups: list[tuple[int, str]] = field(default_factory=list)  # (group, due day)
    _rules: list[Rule] = field(default_factory=list)  # beside `rules`, in the same order
    _queries: dict[object, int] = field(default_factory=dict)
    _matches: list[tuple[int, list[int]]] = field(default_factory=list)
    _matched: dict[int, frozenset[int]] = field(default_factory=dict)  # as sets
    _kinds: list[tuple[int, str]] = field(default_factory=list)
    _fire_sets: dict[tuple[int, tuple[int, ...]], int] = field(default_factory=dict)
    _asked_once: list[tuple[int, int, int]] | None = None  # once the rules are all added
    written: list[dict[str, object]] = field(default_factory=list)  # the run rows, once planned

    def __bool__(self) -> bool:
        return bool(self.rules)

    def add_group(
        self,
        group_no: int,
        days: Sequence[date],
        today: date,
        follow_up_floor: date,
        delay: timedelta,
        candidates: Iterable[tuple[int, int, str, date, str]],
    ) -> None:
        """A group's candidate edges (goal id, brief id, edge, day, kind) and the deadlines
        whose follow-up fell due on `days`."""
        self.candidates.extend(
            (brief_id, group_no, goal_id, edge, day.isoformat(), kind)
            for goal_id, brief_id, edge, day, kind in candidates
        )
        for day in days:
            due = day - delay
            if follow_up_floor <= due < today:
                self.followups.append((group_no, due.isoformat()))

    def add_rule(
        self,
        *,
        rule: Rule,
        group_no: int,
        days: Sequence[date],
        today: date,
        watch_from: date,
        query: object,
        matched: Iterable[int],
        kinds: Iterable[str],
    ) -> None:
        query_no = self._queries.get(query)
        if query_no is None:
            query_no = self._queries[query] = len(self._queries)
            self._matched[query_no] = frozenset(matched)
            self._matches.append((query_no, sorted(self._matched[query_no])))
            self._kinds.extend((query_no, kind) for kind in sorted(set(kinds)))
        fire_set_no = self._fire_set(group_no, rule.leads, days, today)
        self._rules.append(rule)
        self.rules.append(
            (
                rule.id,
                rule.team_id,
                rule.channel_id,
                group_no,
                query_no,
                fire_set_no,
                watch_from.isoformat(),
            )
        )

    def _fire_set(
        self, group_no: int, leads: tuple[int, ...], days: Sequence[date], today: date
    ) -> int:
        key = (group_no, leads)
        number = self._fire_sets.get(key)
        if number is None:
            number = self._fire_sets[key] = len(self._fire_sets)
            for lead in leads:
                for day in days:
                    edge_day = day + timedelta(days=lead)
                    if edge_day >= today:  # a passed edge alerts no more
                        self.fires.append((number, edge_day.isoformat(), lead))
        return number

    def _asked(self) -> list[tuple[int, int, int]]:
        """The distinct (query, group, fire set) the rules ask."""
        if self._asked_once is None:
            self._asked_once = sorted({(rule[4], rule[3], rule[5]) for rule in self.rules})
        return self._asked_once

    def _candidates_by_brief(self) -> dict[tuple[int, int], list[tuple[int, str, str, str]]]:
        found: dict[tuple[int, int], list[tuple[int, str, str, str]]] = defaultdict(list)
        for brief_id, group_no, goal_id, edge, edge_day, kind in self.candidates:
            found[(group_no, brief_id)].append((goal_id, edge, edge_day, kind))
        return found

    def _pending(self) -> dict[int, dict[int, RunTally]]:
        """Each distinct (query, fire set)'s pending alerts, counted, with the nearest lead:
        one per candidate edge whose day fires (with several leads after downtime, the
        latest is the one sent). Counted, not listed: a busy morning has 400,000."""
        matches = dict(self._matches)
        kinds = _kinds_by_query(self._kinds)
        nearest: dict[int, dict[str, int]] = defaultdict(dict)
        for fire_set_no, edge_day, lead in self.fires:
            known = nearest[fire_set_no].get(edge_day)
            if known is None or lead < known:
                nearest[fire_set_no][edge_day] = lead
        candidates = self._candidates_by_brief()
        found: dict[int, dict[int, RunTally]] = defaultdict(dict)
        for query_no, group_no, fire_set_no in self._asked():
            fire_days, follows = nearest[fire_set_no], kinds[query_no]
            tally = RunTally()
            for brief_id in matches[query_no]:
                for _goal, _edge, edge_day, kind in candidates.get((group_no, brief_id), ()):
                    fired = fire_days.get(edge_day)
                    if fired is not None and kind in follows:
                        tally.add(fired)
            if tally.items:
                found[query_no][fire_set_no] = tally
        return found

    def _folded(self) -> Iterator[tuple[object, ...]]:
        """Each distinct (query, fire set)'s folded leads: of the leads due for one edge
        after downtime only the latest is sent (counted by `_pending`), the earlier ones
        are remembered as folded, a ledger row each. Worked out here rather than by a join:
        the database's planner cannot estimate the match of edge days to fire days
        (PostgreSQL took 7-12 s over 1.4 million probes)."""
        matches = dict(self._matches)
        kinds = _kinds_by_query(self._kinds)
        fires: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for fire_set_no, edge_day, lead in self.fires:
            fires[fire_set_no][edge_day].append(lead)
        candidates = self._candidates_by_brief()
        for query_no, group_no, fire_set_no in self._asked():
            fire_days, follows = fires[fire_set_no], kinds[query_no]
            for brief_id in matches[query_no]:
                for goal_id, edge, edge_day, kind in candidates.get((group_no, brief_id), ()):
                    leads = fire_days.get(edge_day)
                    if not leads or len(leads) == 1 or kind not in follows:
                        continue
                    latest = min(leads)
                    for lead in leads:
                        if lead != latest:
                            yield (
                                query_no,
                                fire_set_no,
                                goal_id,
                                edge,
                                lead,
                                brief_id,
                                edge_day,
                                FOLDED,
                            )

    def _followup_days(self) -> dict[tuple[int, int], list[str]]:
        """Each distinct (query, group)'s deadlines whose follow-up falls due, as sorted ISO
        days (a rule counts those on or after the day it started watching)."""
        matches = self._matched
        kinds = _kinds_by_query(self._kinds)
        due_days: dict[int, set[str]] = defaultdict(set)
        for group_no, due_day in self.followups:
            due_days[group_no].add(due_day)
        # The deadlines followed up today are a few dozen a day: each query's matches are
        # looked up among them, not walked.
        followed: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for brief_id, group_no, _goal, edge, edge_day, kind in self.candidates:
            if edge == "due" and edge_day in due_days.get(group_no, ()):
                followed[group_no].append((brief_id, edge_day, kind))
        found: dict[tuple[int, int], list[str]] = {}
        for query_no, group_no in sorted({(q, g) for q, g, _fire_set in self._asked()}):
            matched, follows = matches[query_no], kinds[query_no]
            due = [
                edge_day
                for brief_id, edge_day, kind in followed.get(group_no, ())
                if brief_id in matched and kind in follows
            ]
            if due:
                found[(query_no, group_no)] = sorted(due)
        return found

    @property
    def may_fold(self) -> bool:
        """Whether one edge day fires with several leads (the interval spans several days:
        downtime), so that the earlier leads are folded into the latest."""
        seen = {(fire_set_no, edge_day) for fire_set_no, edge_day, _lead in self.fires}
        return len(seen) < len(self.fires)

    def plan(self, session: Session, now: datetime) -> int:
        """Insert one run row per rule with pending alerts and one per rule with follow-ups
        due (a row another scheduler planned a moment ago is kept), and the folded leads
        after downtime; returns how many pending alerts and follow-ups the runs carry."""
        connection = session.connection()
        backend = backend_for(session)
        pending = self._pending()
        followups = self._followup_days()
        rows: list[dict[str, object]] = []
        carried = 0
        for rule, (_id, _t, _c, group_no, query_no, fire_set_no, watch_from) in zip(
            self._rules, self.rules, strict=True
        ):
            tally = pending.get(query_no, {}).get(fire_set_no)
            if tally is not None:
                rows.append(run_row(rule, REMINDER, now, tally))
                carried += tally.items
            due = followups.get((query_no, group_no))
            if due:
                count = len(due) - bisect_left(due, watch_from)
                if count:
                    rows.append(run_row(rule, FOLLOWUP, now, RunTally(count)))
                    carried += count
        insert_runs(connection, backend, rows)
        self.written = rows
        if self.may_fold:
            self._write_folded(connection, backend, now)
        return carried

    def _write_folded(self, connection: Connection, backend: Backend, now: datetime) -> None:
        """Folded leads, a ledger row per rule and item, by one INSERT ... SELECT from two
        temporary tables (after days of downtime there are more of them than alerts)."""
        # The temporary tables are dropped when done; a failure rolls back their creation.
        for table in TABLES:
            table.create(connection)
        backend.fill_table(connection, RULES, self.rules)
        backend.fill_table(connection, ITEMS, self._folded())
        backend.analyze_filled(connection, TABLES)
        insert = backend.insert_ignoring_duplicates(DELIVERIES, ["dedupe_key"])
        connection.execute(insert.from_select(_COLUMNS, _folded_alerts(now)))
        for table in reversed(TABLES):
            table.drop(connection)


_COLUMNS = (
    "dedupe_key",
    "kind",
    "team_id",
    "channel_id",
    "reminder_id",
    "goal_id",
    "brief_id",
    "status",
    "created_at",
    "next_attempt_at",
    "attempts",
    "lead_days",
    "edge",
)


def _kinds_by_query(rows: Iterable[tuple[int, str]]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for query_no, kind in rows:
        found[query_no].add(kind)
    return found


def _folded_alerts(now: datetime) -> Any:
    r, i = RULES.c, ITEMS.c
    key = key_expression("remind", r.team_id, r.channel_id, i.goal_id, i.edge, i.edge_day, i.lead)
    joined = RULES.join(ITEMS, and_(i.query_no == r.query_no, i.fire_set_no == r.fire_set_no))
    return (
        select(
            key,
            literal(REMINDER),
            r.team_id,
            r.channel_id,
            r.rule_id,
            i.goal_id,
            i.brief_id,
            i.status,
            *new_row_columns(now),
            i.lead,
            i.edge,
        )
        .select_from(joined)
        # (SQLite: a WHERE also keeps "ON CONFLICT" from reading as the join's ON.)
        .where(i.status == FOLDED)
    )
