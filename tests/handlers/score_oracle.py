"""The scorecard counted the plain way, one pass per count over every scored goal: the
oracle tests compare data/scorecard.score_tally with (never called by the bot)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from policybot.data.briefs import BriefFilter, apply_filters, has_text, text_matches
from policybot.data.models import Brief, Goal, GoalAssessment, IssuingBody, brief_bodies
from policybot.data.scorecard import ScoreTally

_TALLY_CHUNK = 5000  # brief ids per counting pass of a scorecard narrowed by words


def one_pass_score_tally(
    session: Session, team_id: str, today: date, where: BriefFilter, *, first: int
) -> ScoreTally:
    """The scorecard in one pass per count over every scored goal (kept to compare with)."""
    answer = aliased(GoalAssessment)
    scored = (
        select()
        .select_from(Goal)
        .join(Brief, Goal.brief_id == Brief.id)
        .outerjoin(answer, and_(answer.goal_id == Goal.id, answer.team_id == team_id))
        .where(
            Goal.due_on.is_not(None),
            Goal.kind.in_([str(k) for k in where.goal_kinds]),
            or_(answer.id.is_not(None), Goal.due_on < today),
        )
    )
    scored = apply_filters(scored, where)
    tally = ScoreTally()
    if has_text(where):
        allowed = sorted(text_matches(session, where))
        parts = [
            scored.where(Goal.brief_id.in_(allowed[at : at + _TALLY_CHUNK]))
            for at in range(0, len(allowed), _TALLY_CHUNK)
        ]
    else:
        parts = [scored]
    for part in parts:
        for status, count in session.execute(
            part.add_columns(answer.status, func.count()).group_by(answer.status)
        ):
            tally.totals[status] += count
        # An alias: a body: filter's EXISTS over brief_bodies must not correlate to this join.
        listed = brief_bodies.alias("listed_bodies")
        by_body = (
            part.join(listed, listed.c.brief_id == Brief.id)
            .join(IssuingBody, IssuingBody.id == listed.c.body_id)
            .add_columns(IssuingBody.abbreviation, answer.status, func.count())
            .group_by(IssuingBody.abbreviation, answer.status)
        )
        for body, status, count in session.execute(by_body):
            tally.per_body.setdefault(body, Counter())[status] += count
        tally.briefs += (
            session.scalar(part.add_columns(func.count(func.distinct(Goal.brief_id)))) or 0
        )
        ranked = part.add_columns(
            Goal.brief_id,
            Goal.due_on,
            Goal.id,
            func.row_number()
            .over(partition_by=Goal.brief_id, order_by=(Goal.due_on, Goal.id))
            .label("nth"),
        ).subquery()
        earliest = (
            select(ranked.c.due_on, ranked.c.id, ranked.c.brief_id)
            .where(ranked.c.nth == 1)
            .order_by(ranked.c.due_on, ranked.c.id)
            .limit(first)
        )
        tally.first += [(d, g, b) for d, g, b in session.execute(earliest)]
    tally.first = sorted(tally.first)[:first]
    return tally
