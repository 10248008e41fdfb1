"""One message per channel per slot: the digests and deadline alerts a channel has due in
one tick go out together, each brief once (naming the subscriptions it matched), each goal
once, within caps; what is past a cap is named and listed behind a button. A goal already
alerted in the channel within the last day is not alerted again (its row is folded; a rule
run's item is recorded as not shown, scheduler/kinds/alerts_runs.py).

Digest rows carry a brief and no goal; alert rows carry a goal; a rule run carries neither:
its alerts are its `alert_items`, fixed before its first post (scheduler/kinds/alerts_runs.py).
A message's ledger ids include its runs', so a crash's recovery records them too. Exactly-once holds as for any message: every row of the slot is
marked sent with the one post, or handed back together when it fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...data.models import Brief, BriefKind, Goal, Subscription
from ...data.notes import notes_for
from ...data.views import BriefView, NoteLine, brief_view, goal_view
from .. import ledger
from ..delivery import ClaimedItem, KindName, Outcome
from ..messages import Alert, AlertBatch, Digest, SubscriptionLine
from .zones import UTC_ZONE, rule_zones

SLOT = ("slot",)  # the batch key the slot's kinds share
MAX_BRIEFS = 10  # shown in full per message (~21 blocks), the rest named behind a button
MAX_ALERTS = 10
SAME_GOAL_QUIET = timedelta(days=1)  # never the same goal's alert twice in a day
ALERT_KINDS = (KindName.REMINDER, KindName.NEWLY)  # what counts as "alerted" for that


def deliver_slot(
    session: Session, team: str, channel: str, items: list[ClaimedItem], now: datetime
) -> Outcome:
    runs = [i for i in items if i.is_run]
    digest_rows = [i for i in items if i.goal_id is None and not i.is_run]
    alert_rows = [i for i in items if i.goal_id is not None]
    entries, covered, empty = _run_entries(session, runs)
    goal_ids = {i.goal_id for i in alert_rows if i.goal_id} | {e.goal_id for e in entries}
    recent = _alerted_recently(session, team, channel, goal_ids, now - SAME_GOAL_QUIET)
    repeated = tuple(i.id for i in alert_rows if i.goal_id in recent)
    alert_rows = [i for i in alert_rows if i.goal_id not in recent]
    # A run's items were checked against the channel's alerts when they were fixed, but
    # another row may have alerted a goal since (a claim that died after `prepare` is
    # recovered only after its lease, and holds no channel meanwhile): not shown again, as a
    # per-alert row is folded; a run left with nothing to show is folded too.
    showing = {e.delivery_id for e in entries if e.goal_id not in recent}
    covered += tuple(
        run for run in dict.fromkeys(e.delivery_id for e in entries) if run not in showing
    )
    entries = [e for e in entries if e.goal_id not in recent]
    entries += [
        _Entry(i.goal_id, i.edge or "due", i.lead_days, i.id, i.reminder_id)
        for i in alert_rows
        if i.goal_id is not None
    ]
    subscriptions = _subscriptions(session, digest_rows)
    # Every brief of the slot is named; only the ones shown are read in full (a busy
    # morning's slot may hold hundreds).
    ordered = _ordered_briefs(session, {i.brief_id for i in digest_rows if i.brief_id})
    views = brief_views(session, ordered[:MAX_BRIEFS], now)
    views = _with_team_notes(session, team, views)
    alerts, more, gone_goals = alerts_for(session, entries, [*alert_rows, *runs], now)
    stored = set(ordered)
    alerted = {row for _, rows in [*alerts, *more] for row in rows}
    # A run whose goals were all deleted since its items were fixed has nothing left to say.
    vanished = tuple(
        r.id for r in runs if r.id not in alerted and r.id not in covered and r.id not in empty
    )
    gone = (
        tuple(i.id for i in digest_rows if i.brief_id not in stored)
        + tuple(i for i in gone_goals if i not in {r.id for r in runs})
        + empty
        + vanished
    )
    folded = repeated + covered
    if not views and not alerts:
        return Outcome(folded=folded, gone=gone)
    matched: dict[int, list[str]] = {}
    for item in digest_rows:
        found = subscriptions.get(item.subscription_id or 0)
        ref = found.line.ref if found else "s?"
        if item.brief_id is not None and ref not in matched.setdefault(item.brief_id, []):
            matched[item.brief_id].append(ref)
    alert_ids: list[int] = []
    for _, rows in [*alerts, *more]:
        alert_ids += [row for row in rows if row not in alert_ids]
    ids = tuple(i.id for i in digest_rows if i.id not in gone) + tuple(alert_ids)
    more_briefs = tuple(f"b{brief_id}" for brief_id in ordered[MAX_BRIEFS:])
    more_alerts = tuple(ref for ref, _ in more)
    message = _message(views, more_briefs, matched, alerts, more_alerts, subscriptions, ids)
    owner = next(iter(subscriptions.values())).creator if subscriptions else None
    return Outcome(message, ids, folded=folded, gone=gone, owner=owner)


@dataclass(frozen=True)
class _Entry:
    """One alert of the slot: a per-alert row's, or an item of a rule run."""

    goal_id: int
    edge: str
    lead: int | None  # None: "newly tracked"
    delivery_id: int
    reminder_id: int | None


def _run_entries(
    session: Session, runs: list[ClaimedItem]
) -> tuple[list[_Entry], tuple[int, ...], tuple[int, ...]]:
    """The shown items of these rule runs as alerts; the runs whose every item the channel
    was alerted about within the day (covered: folded); the runs with no item (their goals
    deleted since planning, or none was left to alert: gone)."""
    if not runs:
        return [], (), ()
    by_run = ledger.run_items(session, [r.id for r in runs])
    entries: list[_Entry] = []
    covered: list[int] = []
    empty: list[int] = []
    for run in runs:
        items = by_run.get(run.id, [])
        shown = [item for item in items if item.shown]
        if not items:
            empty.append(run.id)
        elif not shown:
            covered.append(run.id)
        entries += [_Entry(i.goal_id, i.edge, i.lead, run.id, run.reminder_id) for i in shown]
    return entries, tuple(covered), tuple(empty)


def _alerted_recently(
    session: Session, team: str, channel: str, goal_ids: set[int], since: datetime
) -> set[int]:
    """Of these goals, those the channel got an alert about since `since`."""
    if not goal_ids:
        return set()
    return ledger.goals_alerted_since(session, team, channel, goal_ids, since, ALERT_KINDS)


def _message(
    views: list[BriefView],
    more_briefs: tuple[str, ...],
    matched: dict[int, list[str]],
    alerts: list[tuple[Alert, list[int]]],
    more_alerts: tuple[str, ...],
    subscriptions: dict[int, _Subscription],
    ids: tuple[int, ...],
) -> Digest | AlertBatch:
    shown_alerts = tuple(alert for alert, _ in alerts)
    if not views:
        return AlertBatch(shown_alerts, delivery_ids=ids, more=more_alerts)
    shown = views[:MAX_BRIEFS]
    named = tuple(sorted({s.line for s in subscriptions.values()}, key=lambda line: line.ref))
    return Digest(
        named[0].ref if len(named) == 1 else ", ".join(line.ref for line in named),
        named[0].query_text if len(named) == 1 else "",
        tuple(shown),
        delivery_ids=ids,
        matched=tuple(tuple(matched.get(v.id, ())) for v in shown),
        subscriptions=named,
        alerts=shown_alerts,
        more_briefs=more_briefs,
        more_alerts=more_alerts,
    )


@dataclass(frozen=True)
class _Subscription:
    line: SubscriptionLine  # as the digest names it
    creator: str | None  # whom to tell when the channel refuses the post


def _subscriptions(session: Session, items: list[ClaimedItem]) -> dict[int, _Subscription]:
    """The subscriptions the digest rows belong to, by id."""
    ids = {i.subscription_id for i in items if i.subscription_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(Subscription.id, Subscription.query_text, Subscription.created_by).where(
            Subscription.id.in_(ids)
        )
    )
    return {
        sid: _Subscription(SubscriptionLine(sid, f"s{sid}", query or ""), creator)
        for sid, query, creator in rows
    }


def _ordered_briefs(session: Session, brief_ids: set[int]) -> list[int]:
    """The briefs still stored, in the order a digest lists them: policy briefs first, then
    news, each newest first (read as three plain columns)."""
    found: list[tuple[int, str, date | None]] = []
    wanted = sorted(brief_ids)
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(Brief.id, Brief.kind, Brief.published_on).where(
                Brief.id.in_(wanted[start : start + _CHUNK])
            )
        )
        found += [(brief_id, kind, published) for brief_id, kind, published in rows]
    found.sort(
        key=lambda row: (
            row[1] != BriefKind.POLICY,
            -(row[2].toordinal() if row[2] else 0),
            -row[0],
        )
    )
    return [brief_id for brief_id, _, _ in found]


_CHUNK = 5000


def brief_views(session: Session, brief_ids: list[int], now: datetime) -> list[BriefView]:
    """Views of these briefs, in the order given."""
    briefs = {b.id: b for b in session.scalars(select(Brief).where(Brief.id.in_(brief_ids)))}
    return [brief_view(briefs[i], now.date()) for i in brief_ids if i in briefs]


def alerts_for(
    session: Session, entries: list[_Entry], rows: list[ClaimedItem], now: datetime
) -> tuple[list[tuple[Alert, list[int]]], list[tuple[str, list[int]]], list[int]]:
    """One alert per goal and edge (with the ledger rows it stands for), in the order the
    message lists them: the ones shown (up to MAX_ALERTS, in full), the rest by their goal's
    ref; and the rows whose goal is gone. Two rules of a channel (per-alert rows or rule
    runs), or a "newly tracked" and a lead alert, may fall on the same goal in one slot: the
    channel reads it once, at the nearest lead (newly tracked if it is). `rows` are the
    claimed rows the entries come from (for their rules' time zones).

    A channel's slot may hold hundreds of alerts (a rule run's): they are ordered from two
    plain columns, and only the ones shown are read and built in full."""
    if not entries:
        return [], [], []
    dates = _goal_dates(session, sorted({e.goal_id for e in entries}))
    zones = rule_zones(session, rows)
    by_goal: dict[tuple[int, str], list[_Entry]] = {}
    gone: list[int] = []
    for entry in sorted(entries, key=lambda e: (e.goal_id, e.lead or 0, e.delivery_id)):
        if entry.goal_id not in dates:
            gone.append(entry.delivery_id)
            continue
        by_goal.setdefault((entry.goal_id, entry.edge), []).append(entry)
    ranked: list[_Ranked] = []
    for (goal_id, edge), group in by_goal.items():
        # Days left count in the channel's zone, as the alert's schedule does.
        today = now.astimezone(zones.get(group[0].reminder_id, UTC_ZONE)).date()
        due_on, window_start = dates[goal_id]
        days_left = (due_on - today).days if due_on else None
        if edge == "opens" and window_start:
            # Before a window opens, count the days to the opening.
            days_left = (window_start - today).days
        ids: list[int] = []
        for e in group:
            if e.delivery_id not in ids:
                ids.append(e.delivery_id)
        newly = any(e.lead is None for e in group)  # "newly tracked" rows have no lead
        ranked.append(_Ranked(goal_id, edge, group, today, days_left, newly, ids))
    ranked.sort(key=lambda r: (not r.newly, r.days_left or 0))
    shown: list[tuple[Alert, list[int]]] = []
    position = 0
    while len(shown) < MAX_ALERTS and position < len(ranked):
        batch = ranked[position : position + MAX_ALERTS - len(shown)]
        position += len(batch)
        wanted = [r.goal_id for r in batch]
        goals = {g.id: g for g in session.scalars(select(Goal).where(Goal.id.in_(wanted)))}
        for r in batch:
            goal = goals.get(r.goal_id)
            if goal is None:  # deleted since its dates were read (a statement apart)
                gone += [e.delivery_id for e in r.group]
                continue
            shown.append((r.alert(goal), r.ids))
    more = [(f"g{r.goal_id}", r.ids) for r in ranked[position:]]  # Goal.ref
    return shown, more, gone


@dataclass(frozen=True)
class _Ranked:
    """An alert of the slot before its views are built: what orders it, and its rows."""

    goal_id: int
    edge: str
    group: list[_Entry]  # its entries, nearest lead first
    today: date  # in the channel's zone
    days_left: int | None
    newly: bool
    ids: list[int]

    def alert(self, goal: Goal) -> Alert:
        view = goal_view(goal, self.today)
        if self.edge == "opens" and goal.window_start:
            view = replace(view, days_left=(goal.window_start - self.today).days)
        brief = brief_view(goal.brief, self.today)
        return Alert(view, brief, self.edge, self.group[0].lead, self.newly)


def _goal_dates(
    session: Session, goal_ids: list[int]
) -> dict[int, tuple[date | None, date | None]]:
    """The due date and window start of the goals still stored (plain columns)."""
    found: dict[int, tuple[date | None, date | None]] = {}
    for start in range(0, len(goal_ids), _CHUNK):
        rows = session.execute(
            select(Goal.id, Goal.due_on, Goal.window_start).where(
                Goal.id.in_(goal_ids[start : start + _CHUNK])
            )
        )
        found.update((goal_id, (due_on, window_start)) for goal_id, due_on, window_start in rows)
    return found


def _with_team_notes(session: Session, team: str, views: list[BriefView]) -> list[BriefView]:
    """A digest shows the receiving workspace's own notes on its briefs (no one else's)."""
    found = notes_for(session, team, [v.id for v in views])
    return [
        replace(v, team_notes=tuple(NoteLine(n.author, n.text) for n in found.get(v.id, ())))
        for v in views
    ]
