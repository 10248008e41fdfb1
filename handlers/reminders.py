"""remind, remind off: a channel's deadline reminder rules."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..data.errors import UserError
from ..data.leads import DEFAULT_LEADS, LeadsError, describe_leads, parse_leads
from ..data.models import Delivery, DeliveryStatus, ReminderRule, Subscription
from ..data.pauses import drop_undelivered
from ..data.query.meaning import meaning_of
from ..data.query.understanding import Intent
from ..data.rules import channel_rules as rules_of_channel
from ..data.rules import rule_for_words
from ..data.schedules import format_clock
from ..data.subscriptions import subscription_for_words
from .cadence import describe_cadence, take_cadence
from .context import Context
from .options import FieldError, take_time_options, zone_named
from .permissions import require_channel_member
from .replies import Reply
from .request import Request

MAX_RULES_PER_CHANNEL = 20
REMINDER_OPTIONS = (
    "Reminders come before each deadline at lead times (`leads 365,90,30,7`), at one time of "
    "day (`at 09:00`) in a zone (`tz Europe/Berlin`)."
)


def words_kept(
    session: Session,
    typed: str,
    stored: str,
    today: date,
    intent: Intent = Intent.SEARCH,
    *,
    literal_first: bool | None = None,
) -> tuple[str, tuple[str, ...]]:
    """The query text an edited subscription or rule keeps, and the notes on how new words
    were read: the text it has when the form's words are those it already shows (an
    unchanged form changes nothing, and a row saved before queries were stored as
    understood keeps its meaning), else the typed words as understood now (what
    `subscribe` / `remind` would keep for them)."""
    if " ".join(typed.split()) == " ".join(stored.split()):
        return stored, ()
    meaning = meaning_of(session, typed, today, intent, literal_first=literal_first)
    return meaning.stored_text, tuple(meaning.query.notes)


def refuse_words_taken(
    session: Session,
    model: type[Subscription] | type[ReminderRule],
    ctx: Context,
    described: str,
    own_id: int,
    verb: str,
    everything: str,
) -> None:
    """An edit to words another setup of the channel already has is refused under the form's
    query field: two rows would deliver the same things twice."""
    same_words = subscription_for_words if model is Subscription else rule_for_words
    other = same_words(session, ctx.team_id, ctx.channel_id, described, other_than=own_id)
    if isinstance(other, (Subscription, ReminderRule)):
        words = f"`{described}`" if described else everything
        raise FieldError(
            "query",
            f"{other.ref} in that channel already {verb} {words}: change the words, or edit "
            f"or remove {other.ref} instead. Nothing was changed.",
        )


def _parse_rule(text: str) -> tuple[str, tuple[int, ...] | None, int | None, str | None]:
    """The query, and the options the command names (None: not given)."""
    words, minute, zone = take_time_options(text)
    rest: list[str] = []
    leads: tuple[int, ...] | None = None
    i = 0
    while i < len(words):
        if words[i].lower() == "leads":
            following = words[i + 1] if i + 1 < len(words) else ""
            if leads is not None:
                raise UserError("`leads` was given twice: name all lead times once, `leads 30,7`.")
            try:
                leads = parse_leads(following)
            except LeadsError as error:
                raise UserError(f"{error}.") from None
            i += 1
        else:
            rest.append(words[i])
        i += 1
    _refuse_cadence(rest)
    return " ".join(rest), leads, minute, zone


def _refuse_cadence(words: list[str]) -> None:
    """Reminders follow deadlines, not a cadence: a schedule word is a mistake, not a query."""
    try:
        _, cadence = take_cadence(words)
    except UserError as error:
        raise UserError(f"{REMINDER_OPTIONS} ({error})") from None
    if cadence is not None:
        raise UserError(
            f"{REMINDER_OPTIONS} A cadence such as `{describe_cadence(cadence.kind, cadence.weekday, cadence.month_day)}` "
            "is for digests: `/policy subscribe <words> weekly monday`."
        )


def channel_rules(session: Session, ctx: Context) -> list[ReminderRule]:
    return rules_of_channel(session, ctx.team_id, ctx.channel_id)


def describe_rule(rule: ReminderRule) -> str:
    what = rule.query_text or "all goals"
    text = (
        f"`{rule.ref}` reminders for {what} \u2014 {describe_leads(rule.leads)} before, "
        f"at {format_clock(rule.at_minute)} {rule.timezone}"
    )
    if rule.paused_reason:
        text += f" \u2014 *paused*: {rule.paused_reason} (run `/policy remind` again to resume)"
    return text


def remind(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    require_channel_member(ctx, "change this channel's reminders")
    argument = text.strip()
    query_text, leads, minute, zone = _parse_rule(argument)
    # Read as `deadlines` reads the same words (bad filters are refused now); the rule
    # keeps the meaning.
    meaning = meaning_of(session, query_text, ctx.today, Intent.DEADLINES)
    described = meaning.stored_text
    rule = rule_for_words(session, ctx.team_id, ctx.channel_id, described)
    if rule is None:
        if len(channel_rules(session, ctx)) >= MAX_RULES_PER_CHANNEL:
            raise UserError(
                "This channel has the most reminder rules I keep; remove one with `/policy remind off <id>`."
            )
        rule = ReminderRule(
            team_id=ctx.team_id,
            channel_id=ctx.channel_id,
            query_text=described,
            leads=list(DEFAULT_LEADS),
            at_minute=9 * 60,
            timezone=str(zone_named(ctx.user_timezone() or "UTC").key),
        )
        session.add(rule)
        verb = "Reminders on"
    else:
        verb = "Reminders resumed" if rule.paused_reason else "Reminders updated"
    # What the command names changes; the rest of an existing rule stays as it was. An
    # updated rule watches from now: leads it gained that already passed are not sent.
    rule.created_at = ctx.now
    rule.created_by = ctx.user_id
    rule.leads = list(leads) if leads is not None else rule.leads
    rule.at_minute = minute if minute is not None else rule.at_minute
    rule.timezone = zone or rule.timezone
    rule.paused_reason = None
    rule.paused_at = None
    session.flush()
    return Reply(
        text=f"{verb}: {describe_rule(rule)}.",
        notes=[
            *([f"I read this as `{described}`."] if meaning.reading.changed else []),
            *meaning.query.notes,
            "Each goal is announced once per lead time; after a deadline passes I ask whether "
            "the target was met. `/policy subscriptions` lists this channel's settings.",
        ],
    )


def edit_rule(
    session: Session, ctx: Context, rule: ReminderRule, query_text: str, options: str, moved: bool
) -> Reply:
    """Change rule `rule` in place to the form's words and options (`leads 90,30 at 09:00 tz
    UTC`), in the channel of `ctx`: it keeps its id, what it has sent and any pause. Words
    another rule of that channel already follows are refused."""
    rest, leads, minute, zone = _parse_rule(options)
    if rest:  # the form's option fields never leave words over
        raise UserError(f"I can't read the reminder options `{options[:80]}`.")
    described, _ = words_kept(session, query_text, rule.query_text, ctx.today, Intent.DEADLINES)
    refuse_words_taken(session, ReminderRule, ctx, described, rule.id, "reminds of", "all goals")
    if moved and len(channel_rules(session, ctx)) >= MAX_RULES_PER_CHANNEL:
        raise UserError("That channel has the most reminder rules I keep.")
    new = (
        described,
        list(leads) if leads is not None else rule.leads,
        minute if minute is not None else rule.at_minute,
        zone or rule.timezone,
    )
    old = (rule.query_text, list(rule.leads), rule.at_minute, rule.timezone)
    if new == old and not moved:
        return Reply(text=f"Nothing to change: {describe_rule(rule)}.")
    if moved:
        # Alerts planned for the old channel and not yet taken go to the new one.
        session.execute(
            update(Delivery)
            .where(Delivery.reminder_id == rule.id, Delivery.status == DeliveryStatus.PENDING)
            .values(channel_id=ctx.channel_id)
        )
    if new != old:
        # As with `/policy remind` on a rule: it watches from now, so leads it gained that
        # already passed are not sent late.
        rule.created_at = ctx.now
    rule.channel_id = ctx.channel_id
    rule.query_text, rule.leads, rule.at_minute, rule.timezone = new
    session.flush()
    notes = []
    if rule.paused_reason:
        notes.append(f"{rule.ref} is still paused; resume it to get reminders.")
    return Reply(text=f"Reminders updated: {describe_rule(rule)}.", notes=notes)


def remind_off(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    require_channel_member(ctx, "change this channel's reminders")
    argument = text.strip()
    rules = channel_rules(session, ctx)
    if argument:
        match = re.match(r"^r?(\d{1,12})$", argument.lower())
        if not match:
            raise UserError(
                "Which rule? `/policy remind off r2`, or `/policy remind off` for all of them."
            )
        rules = [r for r in rules if r.id == int(match.group(1))]
        if not rules:
            raise UserError(f"This channel has no reminder rule `{argument[:20]}`.")
    if not rules:
        return Reply(text="This channel has no reminders to turn off.")
    ids = [r.id for r in rules]
    drop_undelivered(session, rules=ids)
    for rule in rules:
        session.delete(rule)
    session.flush()
    return Reply(text="Reminders off: " + ", ".join(f"r{i}" for i in ids) + ".")
