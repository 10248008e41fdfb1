"""Follow-ups: a week after a deadline passed, "Was this target met?" (one message a goal)."""

from __future__ import annotations

from datetime import datetime

from policybot.data.db import reading
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
from policybot.scheduler.messages import DeliveryError, FollowUp

FOLLOWUP = "followup"


def deliver_followup(
    courier: Courier,
    team: str,
    channel: str,
    items: list[ClaimedItem],
    now: datetime,
    report: TickReport,
) -> ChannelStop | None:
    (item,) = items
    with reading(courier.sessions) as session:
        goal = session.get(Goal, item.goal_id) if item.goal_id else None
        if goal is None:
            courier.mark_sent([item.id], now, "gone")
            return None
        today = now.astimezone(rule_zones(session, [item]).get(item.reminder_id, UTC_ZONE)).date()
        message = FollowUp(goal_view(goal, today), brief_view(goal.brief, today), (item.id,))
    try:
        ts = courier.poster.post(team, channel, message)
    except DeliveryError as error:
        return courier.failed(
            error, team, channel, None, None, [item.id], [item.id], [item], now, report
        )
    courier.mark_sent([item.id], now, ts)
    report.add(messages=1, sent=1)
    return None


KIND = DeliveryKind(
    FOLLOWUP,
    Owner.REMINDER_RULE,
    batch_key=lambda item: (FOLLOWUP, item.id),
    deliver=deliver_followup,
)
