"""subscribe, subscriptions, unsubscribe, quiet: a channel's standing queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..data.errors import UserError
from ..data.models import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    ScheduleKind,
    Subscription,
)
from ..data.pauses import drop_undelivered
from ..data.query.meaning import meaning_of
from ..data.schedules import Schedule, format_clock, next_run, parse_clock, schedule_of
from ..data.subscriptions import (
    channel_settings,
    channel_subscriptions,
    subscription_for_words,
)
from .cadence import describe_cadence, take_cadence
from .context import Context
from .options import take_time_options, zone_named
from .permissions import require_channel_member
from .previews import add_preview
from .reminders import channel_rules, describe_rule, refuse_words_taken, words_kept
from .replies import Reply
from .request import Request

DEFAULT_MINUTE = 9 * 60
MAX_SUBSCRIPTIONS_PER_CHANNEL = 50
_QUIET = re.compile(r"^(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class ScheduleRequest:
    schedule: Schedule
    query_text: str
    explicit_tz: bool
    explicit_kind: bool = False
    explicit_minute: bool = False


def parse_schedule(text: str, default_tz: str) -> ScheduleRequest:
    """The cadence (`daily`, `weekdays`, `weekly monday`, `monthly`, `instant`), `at HH:MM`
    and `tz ZONE`, anywhere in the text; everything else is the query."""
    words, minute, zone = take_time_options(text)
    rest, cadence = take_cadence(words)
    kind = cadence.kind if cadence else ScheduleKind.DAILY
    schedule = Schedule(
        kind,
        DEFAULT_MINUTE if minute is None else minute,
        cadence.weekday if cadence else None,
        zone or default_tz,
        cadence.month_day if cadence else None,
    )
    return ScheduleRequest(
        schedule, " ".join(rest), zone is not None, cadence is not None, minute is not None
    )


def describe_schedule(subscription: Subscription) -> str:
    cadence = describe_cadence(subscription.schedule, subscription.weekday, subscription.month_day)
    if subscription.schedule == ScheduleKind.INSTANT:
        return cadence
    return f"{cadence} at {format_clock(subscription.at_minute)} {subscription.timezone}"


def local_label(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %-d %b %Y %H:%M %Z")


def subscribe(command: Request) -> Reply:  # `request` below is the schedule asked for
    session, ctx, text = command.session, command.context, command.argument
    require_channel_member(ctx, "subscribe this channel")
    default_tz = _channel_default_tz(session, ctx)
    request = parse_schedule(text, default_tz)
    if not request.explicit_tz:
        looked_up = ctx.user_timezone()
        if looked_up:
            request = parse_schedule(text, str(zone_named(looked_up).key))
    # Read as a search reads it; the subscription keeps the meaning (bodies and filters
    # are checked now, not at delivery time).
    meaning = meaning_of(session, request.query_text, ctx.today, literal_first=False)
    query, query_text = meaning.query, meaning.stored_text
    schedule = request.schedule
    existing = subscription_for_words(session, ctx.team_id, ctx.channel_id, query_text)
    if existing is None:
        count = len(_channel_subscriptions(session, ctx))
        if count >= MAX_SUBSCRIPTIONS_PER_CHANNEL:
            raise UserError(
                f"This channel has {count} subscriptions, the most I keep; remove one with "
                "`/policy unsubscribe <id>`."
            )
        existing = Subscription(
            team_id=ctx.team_id,
            channel_id=ctx.channel_id,
            query_text=query_text,
            created_at=ctx.now,
            checked_until=ctx.now,
        )
        session.add(existing)
        verb = "Subscribed"
    else:
        verb = "Resumed" if existing.paused_reason else "Updated"
    if verb != "Subscribed":
        # Subscribing again changes what the command names and keeps the rest.
        schedule = Schedule(
            schedule.kind if request.explicit_kind else ScheduleKind(existing.schedule),
            schedule.at_minute if request.explicit_minute else existing.at_minute,
            schedule.weekday if request.explicit_kind else existing.weekday,
            schedule.timezone if request.explicit_tz else existing.timezone,
            schedule.month_day if request.explicit_kind else existing.month_day,
        )
    existing.created_by = ctx.user_id
    existing.schedule = schedule.kind
    existing.weekday = schedule.weekday
    existing.month_day = schedule.month_day
    existing.at_minute = schedule.at_minute
    existing.timezone = schedule.timezone
    existing.paused_reason = None
    existing.paused_at = None
    existing.next_due_at = next_run(schedule, ctx.now)
    session.flush()
    what = f"new briefs matching {query_text}" if query_text else "every new brief"
    reply = Reply(
        text=f"{verb} {existing.ref}: this channel gets {what}, {describe_schedule(existing)}.",
        notes=[
            "Next delivery: "
            + (
                "as soon as a matching brief arrives"
                if schedule.kind is ScheduleKind.INSTANT
                else local_label(existing.next_due_at, existing.timezone)
            )
            + ". `/policy subscriptions` lists this channel's subscriptions."
        ],
    )
    read_as = [f"I read this as `{query_text}`."] if meaning.reading.changed else []
    reply.notes[:0] = [*read_as, *query.notes]  # e.g. a quote closed at the end of the text
    if verb != "Subscribed":
        kept = [
            name
            for name, named in (
                ("the schedule", request.explicit_kind),
                ("the time", request.explicit_minute),
                ("the time zone", request.explicit_tz),
            )
            if not named
        ]
        if kept:
            reply.notes.append(
                f"You subscribed to these words before: I kept {', '.join(kept)} as they were "
                "(name a cadence, `at` or `tz` to change them)."
            )
    add_preview(session, ctx, existing, reply)
    return reply


def edit_subscription(
    session: Session,
    ctx: Context,
    sub: Subscription,
    query_text: str,
    schedule_words: str,
    moved: bool,
) -> Reply:
    """Change subscription `sub` in place to the form's words and schedule (the typed
    grammar's `weekly friday at 08:30 tz Europe/Berlin`), in the channel of `ctx`.

    The row keeps its id, when it was created, what it has delivered and any pause: an edit
    is never a removal and a new subscription. Words another subscription of that channel
    already follows are refused (two rows would deliver the same briefs twice)."""
    request = parse_schedule(schedule_words, sub.timezone)
    if request.query_text:  # the form's schedule fields never leave words over
        raise UserError(f"I can't read the schedule `{schedule_words[:80]}`.")
    described, notes = words_kept(
        session, query_text, sub.query_text, ctx.today, literal_first=False
    )
    refuse_words_taken(session, Subscription, ctx, described, sub.id, "follows", "every new brief")
    if moved and len(_channel_subscriptions(session, ctx)) >= MAX_SUBSCRIPTIONS_PER_CHANNEL:
        raise UserError(
            f"That channel has {MAX_SUBSCRIPTIONS_PER_CHANNEL} subscriptions, the most I keep."
        )
    schedule = request.schedule
    new_schedule = Schedule(
        schedule.kind,
        schedule.at_minute,
        schedule.weekday if schedule.kind is ScheduleKind.WEEKLY else None,
        schedule.timezone,
        schedule.month_day if schedule.kind is ScheduleKind.MONTHLY else None,
    )
    changed_schedule = new_schedule != schedule_of(sub)
    if not changed_schedule and described == sub.query_text and not moved:
        return Reply(
            text=f"Nothing to change: {sub.ref} stays as it was ({describe_schedule(sub)}).",
            notes=_pause_notes(sub),
        )
    if moved:
        # What was planned for the old channel and not yet taken by a worker goes to the new
        # one: the briefs it holds are not planned again.
        session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == sub.id, Delivery.status == DeliveryStatus.PENDING)
            .values(channel_id=ctx.channel_id)
        )
    sub.channel_id = ctx.channel_id
    sub.query_text = described
    if changed_schedule:
        sub.schedule = new_schedule.kind
        sub.weekday = new_schedule.weekday
        sub.month_day = new_schedule.month_day
        sub.at_minute = new_schedule.at_minute
        sub.timezone = new_schedule.timezone
        sub.next_due_at = next_run(new_schedule, ctx.now)
    session.flush()
    what = f"new briefs matching {described}" if described else "every new brief"
    reply = Reply(
        text=f"Updated {sub.ref}: this channel gets {what}, {describe_schedule(sub)}.",
        notes=_pause_notes(sub),
    )
    reply.notes[:0] = notes
    return reply


def _pause_notes(sub: Subscription) -> list[str]:
    if not sub.paused_reason:
        return []
    return [f"{sub.ref} is still paused ({sub.paused_reason}); resume it to get deliveries."]


def _channel_subscriptions(session: Session, ctx: Context) -> list[Subscription]:
    return channel_subscriptions(session, ctx.team_id, ctx.channel_id)


def _channel_default_tz(session: Session, ctx: Context) -> str:
    settings = channel_settings(session, ctx.team_id, ctx.channel_id)
    return settings.timezone if settings else "UTC"


def subscriptions(request: Request) -> Reply:
    session, ctx = request.session, request.context
    rows = _channel_subscriptions(session, ctx)
    rules = channel_rules(session, ctx)
    if not rows and not rules:
        return Reply(
            text="This channel has no subscriptions or reminders.",
            notes=[
                "Start one with `/policy subscribe storage daily at 09:00` or `/policy remind`."
            ],
        )
    lines = []
    for sub in rows:
        what = sub.query_text or "every new brief"
        line = f"`{sub.ref}` {what} \u2014 {describe_schedule(sub)}"
        if sub.paused_reason:
            line += f" \u2014 *paused*: {sub.paused_reason} (subscribe again to resume)"
        elif sub.schedule != ScheduleKind.INSTANT:
            line += f" \u2014 next: {local_label(sub.next_due_at, sub.timezone)}"
        lines.append(line)
    settings = channel_settings(session, ctx.team_id, ctx.channel_id)
    notes = []
    if settings and settings.quiet_start is not None and settings.quiet_end is not None:
        notes.append(
            f"Quiet hours {format_clock(settings.quiet_start)}\u2013{format_clock(settings.quiet_end)}"
            f" {settings.timezone}: instant alerts wait until they end."
        )
    noun = "subscription" if len(rows) == 1 else "subscriptions"
    text = f"This channel has {len(rows)} {noun}" + (":\n" + "\n".join(lines) if lines else ".")
    if rules:
        text += "\nDeadline reminders:\n" + "\n".join(describe_rule(rule) for rule in rules)
    return Reply(text=text, notes=notes)


def unsubscribe(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    require_channel_member(ctx, "change this channel's subscriptions")
    argument = text.strip().lower()
    match = re.match(r"^s?(\d{1,12})$", argument)
    if not match:
        raise UserError(
            "Which subscription? `/policy unsubscribe s3` or `/policy unsubscribe all`."
        )
    wanted = int(match.group(1))
    chosen = [s for s in _channel_subscriptions(session, ctx) if s.id == wanted]
    if not chosen:
        raise UserError(
            f"This channel has no subscription `s{wanted}`; `/policy subscriptions` lists them."
        )
    return _remove_subscriptions(session, chosen)


def unsubscribe_all(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    require_channel_member(ctx, "change this channel's subscriptions")
    if text.strip():
        raise UserError("`/policy unsubscribe all` takes nothing after `all`.")
    return _remove_subscriptions(session, _channel_subscriptions(session, ctx))


def _remove_subscriptions(session: Session, chosen: list[Subscription]) -> Reply:
    if not chosen:
        return Reply(text="This channel has no subscriptions to remove.")
    ids = [s.id for s in chosen]
    drop_undelivered(session, subscriptions=ids)
    for sub in chosen:
        session.delete(sub)
    session.flush()
    refs = ", ".join(f"s{i}" for i in ids)
    return Reply(
        text=f"Removed {refs}. Nothing more will be posted for {'it' if len(ids) == 1 else 'them'}."
    )


def quiet_off(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    require_channel_member(ctx, "set this channel's quiet hours")
    if text.strip():
        raise UserError("`/policy quiet off` takes nothing after `off`.")
    settings = channel_settings(session, ctx.team_id, ctx.channel_id)
    if settings:
        settings.quiet_start = settings.quiet_end = None
        session.flush()
    return Reply(text="Quiet hours are off: instant alerts post as they arrive.")


def quiet(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    require_channel_member(ctx, "set this channel's quiet hours")
    argument = text.strip()
    settings = channel_settings(session, ctx.team_id, ctx.channel_id)
    words = argument.split()
    zone = None
    if len(words) >= 3 and words[-2].lower() == "tz":
        zone = str(zone_named(words[-1]).key)
        argument = " ".join(words[:-2])
    match = _QUIET.match(argument)
    if not match:
        raise UserError(
            "Write quiet hours as `/policy quiet 20:00-08:00` (optionally `tz Europe/Berlin`), or `/policy quiet off`."
        )
    try:
        start, end = parse_clock(match.group(1)), parse_clock(match.group(2))
    except ValueError:
        raise UserError("Quiet hours need real times, like `20:00-08:00`.") from None
    if start == end:
        raise UserError("Quiet hours must start and end at different times.")
    if settings is None:
        settings = ChannelSettings(team_id=ctx.team_id, channel_id=ctx.channel_id)
        session.add(settings)
    settings.timezone = zone or ctx.user_timezone() or settings.timezone or "UTC"
    settings.quiet_start, settings.quiet_end = start, end
    session.flush()
    return Reply(
        text=f"Quiet hours set: {format_clock(start)}\u2013{format_clock(end)} {settings.timezone}. "
        "Instant alerts that arrive then are posted when they end."
    )
