"""Alerts that fell due in an interval, planned by the database in one INSERT ... SELECT.

A rule planned before (its marks set, unchanged since) needs no look into the ledger for
the goals it already knew: an alert is due when a goal's edge minus one of the rule's leads
is a local day whose alert time fell in (checked_until, now], and a follow-up when its
deadline plus the follow-up delay is. With 10,000 channels that is hundreds of thousands of
ledger rows on a busy morning; made one Python dict at a time they took 20 s and a
gigabyte. Here Python decides the small sets: for each rule, which distinct query it asks
and which fire days its group and leads give (a fire set); for each distinct (query, fire
set), the goal edges that fall due, with which leads (matched once per query by the search
index; of the leads due for one edge after downtime only the latest is sent, the others
folded) and the deadlines followed up. Those go to three temporary tables (plan_rules,
plan_items, plan_followup_items), and the database writes one ledger row per rule and item
in one INSERT ... SELECT. The rows are the ones `ReminderPlanner._plan_interval` (scheduler/kinds/alerts_planner.py) writes for
the same rules (tests/scheduler/test_interval_alerts.py compares the two on both engines);
what is left is the database's own insert into the ledger, and memory stays flat.
"""

from __future__ import annotations

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
from sqlalchemy.orm import Session

from ...data.backends import backend_for
from ...data.models import Delivery, DeliveryStatus
from ..delivery import KindName
from ..planning import key_expression, new_row_columns

_metadata = MetaData()
PENDING = DeliveryStatus.PENDING.value
FOLDED = DeliveryStatus.FOLDED.value


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
# What each distinct (query, group, fire set) of the rules gives: the alert edges and their
# leads (and whether the lead is the one sent), and the deadlines followed up.
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
FOLLOWUP_ITEMS = _temporary(
    "plan_followup_items",
    Column("query_no", Integer, primary_key=True),
    Column("group_no", Integer, primary_key=True),
    Column("goal_id", Integer, primary_key=True),
    Column("brief_id", Integer),
    Column("due_day", String(10)),
)
TABLES = (RULES, ITEMS, FOLLOWUP_ITEMS)


@dataclass
class IntervalBatch:
    """What the database needs to plan the interval alerts of many rules at once."""

    # Rows are tuples in their table's column order.
    # (rule, team, channel, group, query, fire set, watch from)
    rules: list[tuple[int, str, str, int, int, int, str]] = field(default_factory=list)
    # (brief, group, goal, edge, edge day, kind)
    candidates: list[tuple[int, int, int, str, str, str]] = field(default_factory=list)
    fires: list[tuple[int, str, int]] = field(default_factory=list)  # (fire set, day, lead)
    followups: list[tuple[int, str]] = field(default_factory=list)  # (group, due day)
    _queries: dict[object, int] = field(default_factory=dict)
    _matches: list[tuple[int, list[int]]] = field(default_factory=list)
    _kinds: list[tuple[int, str]] = field(default_factory=list)
    _fire_sets: dict[tuple[int, tuple[int, ...]], int] = field(default_factory=dict)

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
        rule_id: int,
        team_id: str,
        channel_id: str,
        group_no: int,
        leads: tuple[int, ...],
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
            self._matches.append((query_no, sorted(matched)))
            self._kinds.extend((query_no, kind) for kind in sorted(set(kinds)))
        fire_set_no = self._fire_set(group_no, leads, days, today)
        self.rules.append(
            (
                rule_id,
                team_id,
                channel_id,
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
        return sorted({(rule[4], rule[3], rule[5]) for rule in self.rules})

    def _candidates_by_brief(self) -> dict[tuple[int, int], list[tuple[int, str, str, str]]]:
        found: dict[tuple[int, int], list[tuple[int, str, str, str]]] = defaultdict(list)
        for brief_id, group_no, goal_id, edge, edge_day, kind in self.candidates:
            found[(group_no, brief_id)].append((goal_id, edge, edge_day, kind))
        return found

    def _items(self) -> Iterator[tuple[object, ...]]:
        """Each distinct (query, fire set)'s alert edges: of the leads due for one edge
        (several after downtime) only the latest is sent, the others are folded into it.
        Worked out here rather than by a join: the database's planner cannot estimate the
        match of edge days to fire days (PostgreSQL took 7-12 s over 1.4 million probes)."""
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
                    if not leads or kind not in follows:
                        continue
                    latest = min(leads)
                    for lead in leads:
                        status = PENDING if lead == latest else FOLDED
                        yield (
                            query_no,
                            fire_set_no,
                            goal_id,
                            edge,
                            lead,
                            brief_id,
                            edge_day,
                            status,
                        )

    def _followup_items(self) -> Iterator[tuple[object, ...]]:
        """Each distinct (query, group)'s deadlines whose follow-up falls due."""
        matches = dict(self._matches)
        kinds = _kinds_by_query(self._kinds)
        due_days: dict[int, set[str]] = defaultdict(set)
        for group_no, due_day in self.followups:
            due_days[group_no].add(due_day)
        candidates = self._candidates_by_brief()
        for query_no, group_no in sorted({(q, g) for q, g, _fire_set in self._asked()}):
            days, follows = due_days.get(group_no, set()), kinds[query_no]
            if not days:
                continue
            for brief_id in matches[query_no]:
                for goal_id, edge, edge_day, kind in candidates.get((group_no, brief_id), ()):
                    if edge == "due" and edge_day in days and kind in follows:
                        yield (query_no, group_no, goal_id, brief_id, edge_day)

    @property
    def may_fold(self) -> bool:
        """Whether one edge day fires with several leads (the interval spans several days:
        downtime), so that the earlier leads are folded into the latest."""
        seen = {(fire_set_no, edge_day) for fire_set_no, edge_day, _lead in self.fires}
        return len(seen) < len(self.fires)

    def plan(self, session: Session, now: datetime) -> int:
        """Insert the batch's alerts and follow-ups (a row another scheduler planned a moment
        ago is kept); returns how many pending ones were written."""
        # The temporary tables are dropped when done; a failure rolls back their creation.
        connection = session.connection()
        backend = backend_for(session)
        for table in TABLES:
            table.create(connection)
        backend.fill_table(connection, RULES, self.rules)
        # What each distinct (query, fire days) gives, once; then a row per rule asking it.
        backend.fill_table(connection, ITEMS, self._items())
        backend.fill_table(connection, FOLLOWUP_ITEMS, self._followup_items())
        backend.analyze_filled(connection, TABLES)
        # On the connection (Core), not the ORM session: the ORM's bulk path has no rowcount.
        insert = backend.insert_ignoring_duplicates(Delivery, ["dedupe_key"])
        pending = 0
        for statement in (_alerts(now, DeliveryStatus.PENDING), _follow_ups(now)):
            written = connection.execute(
                insert.from_select(_COLUMNS, statement),
                execution_options={"preserve_rowcount": True},
            )
            pending += written.rowcount
        if self.may_fold:
            connection.execute(insert.from_select(_COLUMNS, _alerts(now, DeliveryStatus.FOLDED)))
        for table in reversed(TABLES):
            table.drop(connection)
        return pending


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


def _alerts(now: datetime, status: DeliveryStatus) -> Any:
    r, i = RULES.c, ITEMS.c
    key = key_expression("remind", r.team_id, r.channel_id, i.goal_id, i.edge, i.edge_day, i.lead)
    joined = RULES.join(ITEMS, and_(i.query_no == r.query_no, i.fire_set_no == r.fire_set_no))
    return (
        select(
            key,
            literal(KindName.REMINDER.value),
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
        .where(i.status == status.value)
    )


def _follow_ups(now: datetime) -> Any:
    r, i = RULES.c, FOLLOWUP_ITEMS.c
    key = key_expression("followup", r.team_id, r.channel_id, i.goal_id, i.due_day)
    joined = RULES.join(FOLLOWUP_ITEMS, and_(i.query_no == r.query_no, i.group_no == r.group_no))
    return (
        select(
            key,
            literal(KindName.FOLLOWUP.value),
            r.team_id,
            r.channel_id,
            r.rule_id,
            i.goal_id,
            i.brief_id,
            literal(DeliveryStatus.PENDING.value),
            *new_row_columns(now),
            literal(None, Integer),
            literal(None, String),
        )
        .select_from(joined)
        .where(i.due_day >= r.watch_from)
    )
