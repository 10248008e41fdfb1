"""Drafts made final: a channel told of a draft for comments (a digest posted it, or a
reminder rule alerted one of its goals) is told once that it was finalised, with what
changed in its targets (added, removed and moved deadlines).

Ingestion links the draft to its final version and leaves a Finalisation
(data/ingest/same_document.py); the planner turns each new one into a ledger row per
channel that the ledger shows was told of the draft, keyed by draft and channel, so a
channel hears of a draft's final version exactly once however often the final is
ingested. The row's owner is the subscription that posted the draft there, else the
reminder rule that alerted it (a kind each: a row is claimable while its owner exists and
is not paused).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...data.backends import backend_for
from ...data.models import AlertItem, Brief, Delivery, DeliveryStatus, Finalisation, Goal
from ...data.views import brief_view
from ..delivery import ClaimedItem, DeliveryKind, KindName, Outcome, Owner
from ..messages import Finalised

FINALISED = KindName.FINALISED  # owned by the subscription that posted the draft
FINALISED_RULE = KindName.FINALISED_RULE  # owned by the reminder rule that alerted its goal
_OWN_KINDS = (FINALISED, FINALISED_RULE)


def _told_of(
    session: Session, draft_id: int
) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """(team, channel) -> (subscription id, reminder rule id) of the channels the ledger
    shows were told of the draft: a subscription that posted it is preferred as owner."""
    goal_ids = select(Goal.id).where(Goal.brief_id == draft_id).scalar_subquery()
    rows = session.execute(
        select(
            Delivery.team_id, Delivery.channel_id, Delivery.subscription_id, Delivery.reminder_id
        )
        .where(
            or_(
                Delivery.brief_id == draft_id,
                Delivery.goal_id.in_(goal_ids),
                # A rule run that carries one of its goals (its items, once fixed).
                Delivery.id.in_(
                    select(AlertItem.delivery_id).where(AlertItem.goal_id.in_(goal_ids))
                ),
            ),
            Delivery.kind.not_in(_OWN_KINDS),
            Delivery.status != DeliveryStatus.DROPPED,
        )
        .order_by(Delivery.id)
    )
    owners: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    for team, channel, subscription_id, reminder_id in rows:
        subscription, rule = owners.get((team, channel), (None, None))
        owners[(team, channel)] = (subscription or subscription_id, rule or reminder_id)
    return owners


def plan_finalised(session: Session, now: datetime) -> int:
    """Ledger rows for the finalisations not planned yet; returns how many were written."""
    pending = session.scalars(select(Finalisation).where(Finalisation.planned_at.is_(None))).all()
    if not pending:
        return 0
    rows = []
    for finalisation in pending:
        for (team, channel), (subscription, rule) in _told_of(
            session, finalisation.draft_id
        ).items():
            if subscription is None and rule is None:
                continue
            rows.append(
                {
                    "dedupe_key": f"finalised:{finalisation.draft_id}:{team}:{channel}"[:200],
                    "kind": FINALISED if subscription is not None else FINALISED_RULE,
                    "team_id": team,
                    "channel_id": channel,
                    "subscription_id": subscription,
                    "reminder_id": rule if subscription is None else None,
                    "brief_id": finalisation.final_id,
                    "status": DeliveryStatus.PENDING,
                    "created_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                }
            )
        finalisation.planned_at = now
    if rows:
        statement = backend_for(session).insert_ignoring_duplicates(Delivery, ["dedupe_key"])
        session.execute(statement, rows)
    return len(rows)


def deliver_finalised(
    session: Session, team: str, channel: str, items: list[ClaimedItem], now: datetime
) -> Outcome:
    ids = tuple(i.id for i in items)
    final_id = items[0].brief_id
    final = session.get(Brief, final_id) if final_id is not None else None
    finalisations: Sequence[Finalisation] = session.scalars(
        select(Finalisation).where(Finalisation.final_id == final_id).order_by(Finalisation.id)
    ).all()
    drafts = {
        d.id: d
        for d in session.scalars(
            select(Brief).where(Brief.id.in_([f.draft_id for f in finalisations]))
        )
    }
    if final is None or not drafts:  # deleted after planning: nothing to tell
        return Outcome(gone=ids)
    view = brief_view(final, now.date())
    message = Finalised(
        drafts=tuple((d.ref, d.title) for d in drafts.values()),
        final_ref=view.ref,
        final_title=view.title,
        final_date=view.date_label,
        changes=tuple(c for f in finalisations for c in f.changes),
        delivery_ids=ids,
    )
    return Outcome(message, ids)


KINDS = tuple(
    DeliveryKind(
        name,
        owner,
        batch_key=lambda item: (FINALISED, item.brief_id),  # one message per final version
        deliver=deliver_finalised,
    )
    for name, owner in ((FINALISED, Owner.SUBSCRIPTION), (FINALISED_RULE, Owner.REMINDER_RULE))
)
