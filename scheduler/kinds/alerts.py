"""Deadline alerts: a goal's deadline is `lead` days away (or a goal arrived late and is
"newly tracked"). All of a channel's due alerts go out together, in parts of ALERT_CHUNK."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from policybot.data.models import Goal
from policybot.data.views import brief_view, goal_view
from policybot.scheduler.delivery import (
    ChannelStop,
    ClaimedItem,
    Courier,
    DeliveryKind,
    Owner,
    TickReport,
)
from policybot.scheduler.kinds.zones import UTC_ZONE, rule_zones
from policybot.scheduler.messages import Alert, AlertBatch, DeliveryError

REMINDER = "reminder"  # `lead` days before a deadline (or before a window opens)
NEWLY = "newly"  # a goal that arrived after some of its leads had passed
ALERT_CHUNK = 10
_BATCH = "alerts"


def deliver_alerts(
    courier: Courier,
    team: str,
    channel: str,
    items: list[ClaimedItem],
    now: datetime,
    report: TickReport,
) -> ChannelStop | None:
    with courier.sessions() as session:
        goals = {
            g.id: g
            for g in session.scalars(select(Goal).where(Goal.id.in_([i.goal_id for i in items])))
        }
        zones = rule_zones(session, items)
        alerts = []
        delivered: list[int] = []
        for item in sorted(items, key=lambda i: (i.kind != NEWLY, i.goal_id or 0)):
            goal = goals.get(item.goal_id or -1)
            if goal is None:
                courier.mark_sent([item.id], now, "gone")
                continue
            # Days left count in the channel's zone, as the alert's schedule does.
            today = now.astimezone(zones.get(item.reminder_id, UTC_ZONE)).date()
            view = goal_view(goal, today)
            if item.edge == "opens" and goal.window_start:
                # Before a window opens, count the days to the opening.
                view = replace(view, days_left=(goal.window_start - today).days)
            alerts.append(
                Alert(
                    view,
                    brief_view(goal.brief, today),
                    item.edge or "due",
                    item.lead_days,
                    item.kind == NEWLY,
                )
            )
            delivered.append(item.id)
    chunks = [
        list(range(i, min(i + ALERT_CHUNK, len(alerts))))
        for i in range(0, len(alerts), ALERT_CHUNK)
    ]
    for index, chunk in enumerate(chunks):
        ids = [delivered[i] for i in chunk]
        message = AlertBatch(tuple(alerts[i] for i in chunk), index + 1, len(chunks), tuple(ids))
        try:
            ts = courier.poster.post(team, channel, message)
        except DeliveryError as error:
            remaining = [delivered[i] for c in chunks[index:] for i in c]
            return courier.failed(
                error, team, channel, None, None, ids, remaining, items, now, report
            )
        courier.mark_sent(ids, now, ts)
        report.add(messages=1, sent=len(ids))
    return None


KINDS = (
    DeliveryKind(REMINDER, Owner.REMINDER_RULE, lambda _item: (_BATCH,), deliver_alerts),
    DeliveryKind(NEWLY, Owner.REMINDER_RULE, lambda _item: (_BATCH,), deliver_alerts),
)
