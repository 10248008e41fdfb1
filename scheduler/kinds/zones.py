"""The time zone a reminder rule's messages count days in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...data.models import ReminderRule
from ..delivery import ClaimedItem

UTC_ZONE = ZoneInfo("UTC")


def rule_zones(session: Session, items: list[ClaimedItem]) -> dict[int | None, ZoneInfo]:
    ids = {i.reminder_id for i in items if i.reminder_id is not None}
    if not ids:
        return {}
    rules = session.execute(
        select(ReminderRule.id, ReminderRule.timezone).where(ReminderRule.id.in_(ids))
    )
    return {rule_id: ZoneInfo(zone) for rule_id, zone in rules}
