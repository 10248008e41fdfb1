"""What a user's App Home shows, as plain values: deadlines in the next 12 months, the newest
briefs, and the subscriptions and reminder rules that this user set up in this workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ..data import briefs as briefs_data
from ..data.deadlines import DueGoal, due_goal_keys, due_goals_page, load_due_goals
from ..data.errors import UserError
from ..data.leads import describe_leads
from ..data.models import ReminderRule, ScheduleKind, Subscription
from ..data.query.meaning import meaning_of
from ..data.rules import user_rule_words, user_rules
from ..data.schedules import format_clock
from ..data.subscriptions import user_subscriptions
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
    subs, sub_count = user_subscriptions(session, ctx.team_id, ctx.user_id, limit=MAX_SETUPS)
    rules, rule_count = user_rules(session, ctx.team_id, ctx.user_id, limit=MAX_SETUPS)
    total = sub_count + rule_count
    by_channel: dict[str, list[tuple[int, SetupView]]] = {}
    for sub in subs:
        by_channel.setdefault(sub.channel_id, []).append((0, _subscription(sub)))
    for rule in rules:
        by_channel.setdefault(rule.channel_id, []).append((1, _rule(rule)))
    channels = tuple(
        ChannelView(channel, tuple(view for _, view in sorted(items, key=lambda i: i[0])))
        for channel, items in by_channel.items()
    )
    return channels, total


def _your_deadlines(
    session: Session, ctx: Context, start: date, end: date
) -> tuple[list[DueGoal], int, bool]:
    """The soonest MAX_DEADLINES goals that the user's own reminder rules follow (all goals
    when they have none), how many there are in all, and whether rules chose them. Only
    the goals shown are loaded."""
    rules = user_rule_words(session, ctx.team_id, ctx.user_id)
    if not rules:
        page = due_goals_page(session, start, end, limit=MAX_DEADLINES)
        return page.goals, page.total, False
    found: dict[int, date] = {}
    for query_text in dict.fromkeys(rules):
        try:
            where = meaning_of(session, query_text, None, stored=True).where  # a rule's meaning
        except UserError:
            continue
        found.update(due_goal_keys(session, start, end, where))
    ordered = sorted(found, key=lambda goal_id: (found[goal_id], goal_id))
    return load_due_goals(session, ordered[:MAX_DEADLINES]), len(found), True


def build_home(session: Session, ctx: Context) -> HomeView:
    today = ctx.today
    due, due_total, followed = _your_deadlines(
        session, ctx, today, add_months(today, HORIZON_MONTHS)
    )
    latest = briefs_data.latest(session, LATEST_BRIEFS)
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
