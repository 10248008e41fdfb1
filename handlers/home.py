"""What a user's App Home shows, as plain values: deadlines in the next 12 months, the newest
briefs, and the subscriptions and reminder rules that this user set up in this workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..data import store
from ..data.errors import UserError
from ..data.leads import describe_leads
from ..data.models import ReminderRule, ScheduleKind, Subscription
from ..data.query.compiler import build_filter
from ..data.query.language import parse_query
from ..data.schedules import format_clock
from ..data.views import BriefView, DeadlineView, brief_view, goal_view
from .briefs import add_months
from .context import Context
from .subscriptions import describe_schedule

HORIZON_MONTHS = 12
LATEST_BRIEFS = 5
MAX_DEADLINES = 50  # more than a home view shows; the total is counted separately
MAX_SETUPS = 500  # subscriptions plus rules read for one user (the view shows far fewer)


@dataclass(frozen=True)
class SetupView:
    """One subscription or reminder rule, described for a person."""

    ref: str  # s3, r2
    kind: str  # "subscription" or "reminders"
    what: str  # the query, or "every new brief" / "all goals"
    when: str  # "daily at 09:00 Europe/Berlin", "365, 90 and 7 days before, at 09:00 UTC"
    paused: str | None = None


@dataclass(frozen=True)
class ChannelView:
    channel_id: str
    setups: tuple[SetupView, ...]


@dataclass(frozen=True)
class HomeView:
    user_id: str
    today: date
    horizon_months: int
    deadlines: tuple[DeadlineView, ...]  # the soonest, at most MAX_DEADLINES
    deadlines_total: int
    latest: tuple[BriefView, ...]
    channels: tuple[ChannelView, ...]  # the user's channels, in the order they were set up
    setups_total: int  # subscriptions and rules, even those not read into `channels`
    followed_only: bool = False  # deadlines limited to what the user's reminder rules follow


def _subscription(sub: Subscription) -> SetupView:
    when = describe_schedule(sub)
    if sub.schedule == ScheduleKind.INSTANT:
        when = "instantly as briefs arrive"
    what = sub.query_text or "every new brief"
    return SetupView(sub.ref, "subscription", what, when, sub.paused_reason)


def _rule(rule: ReminderRule) -> SetupView:
    when = f"{describe_leads(rule.leads)} before, at {format_clock(rule.at_minute)} {rule.timezone}"
    what = rule.query_text or "all goals"
    return SetupView(rule.ref, "reminders", what, when, rule.paused_reason)


def _channels(session: Session, ctx: Context) -> tuple[tuple[ChannelView, ...], int]:
    subs = select(Subscription).where(
        Subscription.team_id == ctx.team_id, Subscription.created_by == ctx.user_id
    )
    rules = select(ReminderRule).where(
        ReminderRule.team_id == ctx.team_id, ReminderRule.created_by == ctx.user_id
    )
    total = sum(
        session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        for statement in (subs, rules)
    )
    by_channel: dict[str, list[tuple[int, SetupView]]] = {}
    for sub in session.scalars(subs.order_by(Subscription.id).limit(MAX_SETUPS)):
        by_channel.setdefault(sub.channel_id, []).append((0, _subscription(sub)))
    for rule in session.scalars(rules.order_by(ReminderRule.id).limit(MAX_SETUPS)):
        by_channel.setdefault(rule.channel_id, []).append((1, _rule(rule)))
    channels = tuple(
        ChannelView(channel, tuple(view for _, view in sorted(items, key=lambda i: i[0])))
        for channel, items in by_channel.items()
    )
    return channels, total


def _your_deadlines(
    session: Session, ctx: Context, start: date, end: date
) -> tuple[list[store.DueGoal], int, bool]:
    """The soonest MAX_DEADLINES goals that the user's own reminder rules follow (all goals
    when they have none), how many there are in all, and whether rules chose them. Only
    the goals shown are loaded."""
    rules = list(
        session.scalars(
            select(ReminderRule.query_text).where(
                ReminderRule.team_id == ctx.team_id, ReminderRule.created_by == ctx.user_id
            )
        )
    )
    if not rules:
        page = store.due_goals_page(session, start, end, limit=MAX_DEADLINES)
        return page.goals, page.total, False
    found: dict[int, date] = {}
    for query_text in dict.fromkeys(rules):
        try:
            where = build_filter(session, parse_query(query_text))[0]
        except UserError:
            continue
        found.update(store.due_goal_keys(session, start, end, where))
    ordered = sorted(found, key=lambda goal_id: (found[goal_id], goal_id))
    return store.load_due_goals(session, ordered[:MAX_DEADLINES]), len(found), True


def build_home(session: Session, ctx: Context) -> HomeView:
    today = ctx.today
    due, due_total, followed = _your_deadlines(
        session, ctx, today, add_months(today, HORIZON_MONTHS)
    )
    latest = store.latest(session, LATEST_BRIEFS)
    channels, total = _channels(session, ctx)
    return HomeView(
        user_id=ctx.user_id,
        today=today,
        horizon_months=HORIZON_MONTHS,
        deadlines=tuple(
            DeadlineView(goal_view(d.goal, today), brief_view(d.brief, today)) for d in due
        ),
        deadlines_total=due_total,
        latest=tuple(brief_view(b, today) for b in latest.briefs),
        channels=channels,
        setups_total=total,
        followed_only=followed,
    )
