"""Rule runs for posting tests: planned by the real planner (docs/ledger-unit.md, section 8),
then the tests drive the real ticker over them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import AlertItem, Brief, Delivery, ReminderRule
from policybot.data.search.engines import engine_for
from policybot.scheduler.kinds.alerts_planner import plan_reminders

KINDS = ("reminder", "followup")


def plan_runs(
    factory: sessionmaker[Session],
    rule_id: int,
    until: datetime,
    kinds: tuple[str, ...] = ("reminder",),
) -> list[int]:
    """Plan at `until` with the real planner (every rule due then, as a tick's planning
    does, committed) and return the ids of `rule_id`'s runs planned at `until`, in the
    order of `kinds` (a plan planned earlier at the same instant is found, not repeated)."""
    with factory() as session, session.begin():
        rule = session.get(ReminderRule, rule_id)
        assert rule is not None and rule.checked_revision is not None, "never planned"
        plan_reminders(session, until)
    with factory() as session:
        found: dict[str, int] = {
            kind: run_id
            for kind, run_id in session.execute(
                select(Delivery.kind, Delivery.id).where(
                    Delivery.reminder_id == rule_id,
                    Delivery.covers_after.is_not(None),
                    Delivery.covers_until == until,
                    Delivery.kind.in_(kinds),
                )
            )
        }
    return [found[kind] for kind in kinds if kind in found]


def items_of(
    factory: sessionmaker[Session], run_id: int
) -> list[tuple[int, str, int | None, bool]]:
    """(goal, edge, lead, shown) of a run's items."""
    with factory() as session:
        rows = session.execute(
            select(AlertItem.goal_id, AlertItem.edge, AlertItem.lead, AlertItem.shown)
            .where(AlertItem.delivery_id == run_id)
            .order_by(AlertItem.goal_id)
        )
        return [(g, e, lead, bool(shown)) for g, e, lead, shown in rows]


def count_items(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(AlertItem)) or 0)


def forget_brief(factory: sessionmaker[Session], brief_id: int) -> None:
    """Remove a brief as `/policy forget` does (its goals, and their alert items, go)."""
    with factory() as session, session.begin():
        engine_for(session).remove(session, [brief_id])
        brief = session.get(Brief, brief_id)
        assert brief is not None
        session.delete(brief)
