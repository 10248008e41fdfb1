"""Rule runs written as planning writes them (docs/ledger-unit.md, section 8), for posting
tests: planning of runs lives beside the planner; these tests drive the real ticker over
rows of the agreed shape."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.leads import DEFAULT_LEADS
from policybot.data.models import AlertItem, Brief, Delivery, DeliveryStatus, ReminderRule
from policybot.data.search.engines import engine_for
from policybot.scheduler.kinds.alerts_facts import search_revision

KINDS = ("reminder", "followup")


def plan_runs(
    factory: sessionmaker[Session],
    rule_id: int,
    until: datetime,
    kinds: tuple[str, ...] = ("reminder",),
) -> list[int]:
    """A plan of `rule_id` at `until` as a run-writing planner makes it: a run per kind over
    (the rule's start, until], at its marks' revision, and the marks moved to `until` and
    the search revision now. Returns the runs' ids."""
    with factory() as session, session.begin():
        rule = session.get(ReminderRule, rule_id)
        assert rule is not None and rule.checked_until is not None
        assert rule.checked_revision is not None, "a rule never planned gets per-alert rows"
        start = max(rule.checked_until, rule.created_at)
        leads = sorted(set(rule.leads or DEFAULT_LEADS), reverse=True)
        rows = []
        for kind in kinds:
            prefix = "remind-run" if kind == "reminder" else "followup-run"
            row = Delivery(
                dedupe_key=f"{prefix}:{rule.team_id}:{rule.channel_id}:{rule.id}:{start.isoformat()}",
                kind=kind,
                team_id=rule.team_id,
                channel_id=rule.channel_id,
                reminder_id=rule.id,
                status=DeliveryStatus.PENDING,
                created_at=until,
                next_attempt_at=until,
                attempts=0,
                lead_days=min(leads) if kind == "reminder" else None,
                covers_after=start,
                covers_until=until,
                revision_floor=rule.checked_revision,
                plan_query=rule.query_text,
                plan_leads=",".join(str(lead) for lead in leads),
                plan_zone=rule.timezone,
                plan_minute=rule.at_minute,
            )
            session.add(row)
            rows.append(row)
        rule.checked_until = until
        rule.checked_revision = search_revision(session)
        session.flush()
        return [row.id for row in rows]


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
