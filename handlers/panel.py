"""The control panel behind modals, menus and App Home buttons, as plain values.

Forms are turned into the same command text a person would type (`subscribe storage weekly
monday at 08:30 tz Europe/Berlin`), so a modal runs the typed command's handler and its
checks; this module only adds what a form needs besides: a live count of matches, the field
an error belongs to, the settings of a subscription being edited, and pausing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from ..data.briefs import get_brief, parse_brief_ref, search
from ..data.errors import UserError
from ..data.leads import LeadsError, parse_leads
from ..data.models import ReminderRule, Subscription
from ..data.query.language import parse_query
from ..data.query.meaning import meaning_of
from ..data.rules import team_rule
from ..data.schedules import format_clock
from ..data.subscriptions import team_subscription
from ..data.views import BriefView, brief_view
from .context import Context
from .options import FieldError
from .permissions import require_channel_member
from .reminders import edit_rule
from .replies import Reply
from .subscriptions import edit_subscription

# The cadences a form offers; with the weekday and day-of-month fields they cover every
# cadence the typed grammar accepts (`every friday` is weekly on Friday).
CADENCES = ("daily", "weekdays", "weekly", "monthly", "instant")
MONTH_DAYS = tuple(str(day) for day in range(1, 32))
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_LEADS = "365,180,90,30,7"
USER_PAUSE = "paused by "  # a pause someone chose (resumable here), not a delivery problem
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SIMILAR_WORD = re.compile(r"[A-Za-z][A-Za-z-]{4,}")
_COMMON = frozenset(
    [
        "about",
        "action",
        "china",
        "chinese",
        "development",
        "guidelines",
        "industry",
        "industrial",
        "notice",
        "opinions",
        "policy",
        "released",
        "issued",
        "measures",
        "national",
        "plans",
        "state",
        "their",
        "these",
        "which",
    ]
)


def count_matches(session: Session, query_text: str) -> str:
    """What a query would match today, for the line under a modal's query field."""
    if not query_text.strip():
        return "Every brief matches an empty query."
    try:
        where = meaning_of(session, query_text, None, stored=True).where
    except UserError as error:
        return f"Not understood yet: {error}"
    page = search(session, where, 1, 0, load=False)
    if page.total == 0 or page.partial:
        return "No stored brief matches this yet."
    noun = "brief matches" if page.total == 1 else "briefs match"
    return f"{page.total} stored {noun} this today."


def similar_query(brief: BriefView) -> str:
    """A starting query for "Subscribe to similar": its issuing body and kind, else the
    title's most telling words."""
    if brief.bodies:
        return f"body:{brief.bodies[0]} kind:{brief.kind}"
    words = [w for w in _SIMILAR_WORD.findall(brief.title) if w.lower() not in _COMMON]
    return " ".join(sorted(words, key=len, reverse=True)[:2]) or f"kind:{brief.kind}"


def goals_query(brief: BriefView) -> str:
    """A reminder query that follows one brief's goals: its title's words as a phrase."""
    words = re.findall(r"[\w\u4e00-\u9fff]+", brief.title)[:8]
    return '"' + " ".join(words) + '"' if words else ""


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("tz", f"`{name[:40]}` is not a time zone; e.g. Europe/Berlin.") from None
    return name.strip()


def check_query(query_text: str) -> str:
    try:
        parse_query(query_text)
    except UserError as error:
        raise FieldError("query", str(error)) from None
    return query_text.strip()


def schedule_words(cadence: str, weekday: str, month_day: str, clock: str, zone: str) -> str:
    """A subscribe form's schedule fields as the typed grammar's words (`weekly friday at
    08:30 tz Europe/Berlin`), each field checked first. The time is kept for `instant` too
    (the grammar accepts it there), so editing an instant subscription keeps its time."""
    if cadence not in CADENCES:
        raise FieldError("cadence", "Pick how often: daily, weekdays, weekly, monthly or instant.")
    if cadence == "weekly" and weekday not in WEEKDAYS:
        raise FieldError("weekday", "A weekly digest needs a day of the week.")
    if cadence == "monthly" and month_day not in MONTH_DAYS:
        raise FieldError("month_day", "A monthly digest needs a day of the month, 1 to 31.")
    if not _CLOCK.match(clock):
        raise FieldError("time", "Pick a time of day, e.g. 09:00.")
    parts = [cadence]
    if cadence == "weekly":
        parts.append(weekday)
    if cadence == "monthly":
        parts += ["on", "the", month_day]
    parts += ["at", clock, "tz", check_zone(zone)]
    return " ".join(parts)


def subscribe_command(
    query: str, cadence: str, weekday: str, clock: str, zone: str, month_day: str = "1"
) -> str:
    """The typed command a subscribe form stands for (each field checked first)."""
    schedule = schedule_words(cadence, weekday, month_day, clock, zone)
    return " ".join(p for p in ("subscribe", check_query(query), schedule) if p)


def reminder_words(leads: str, clock: str, zone: str) -> str:
    """A remind form's options as the typed grammar's words (`leads 90,30 at 09:00 tz UTC`)."""
    try:
        days = parse_leads(leads)
    except LeadsError as error:
        raise FieldError("leads", f"{error}.") from None
    if not _CLOCK.match(clock):
        raise FieldError("time", "Pick a time of day, e.g. 09:00.")
    return " ".join(["leads", ",".join(str(d) for d in days), "at", clock, "tz", check_zone(zone)])


def remind_command(query: str, leads: str, clock: str, zone: str) -> str:
    parts = ["remind", check_query(query), reminder_words(leads, clock, zone)]
    return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class SetupForm:
    """A subscription's or reminder rule's settings, to fill a modal for editing."""

    ref: str
    kind: str  # "subscribe" or "remind"
    channel_id: str
    query: str
    cadence: str = "daily"
    weekday: str = "monday"
    clock: str = "09:00"
    zone: str = "UTC"
    leads: str = DEFAULT_LEADS
    paused: str | None = None
    month_day: str = "1"  # 1-31, for monthly


def _own_setup(session: Session, ctx: Context, ref: str) -> Subscription | ReminderRule:
    """The user's team's subscription `s3` or rule `r2`; another team's ids find nothing."""
    number = ref[1:]
    if ref[:1] not in ("s", "r") or not number.isdecimal() or len(number) > 12:
        raise UserError(f"`{ref[:20]}` is not a subscription or reminder rule.")
    row: Subscription | ReminderRule | None
    if ref[:1] == "s":
        row = team_subscription(session, ctx.team_id, int(number))
    else:
        row = team_rule(session, ctx.team_id, int(number))
    if row is None:
        raise UserError(f"{ref} no longer exists.")
    return row


def setup_form(session: Session, ctx: Context, ref: str) -> SetupForm:
    row = _own_setup(session, ctx, ref)
    clock, zone = format_clock(row.at_minute), row.timezone
    if isinstance(row, Subscription):
        weekday = WEEKDAYS[row.weekday] if row.weekday is not None else "monday"
        return SetupForm(
            row.ref, "subscribe", row.channel_id, row.query_text, str(row.schedule),
            weekday, clock, zone, paused=row.paused_reason, month_day=str(row.month_day or 1),
        )  # fmt: skip
    leads = ",".join(str(days) for days in row.leads)
    return SetupForm(
        row.ref, "remind", row.channel_id, row.query_text, clock=clock, zone=zone, leads=leads,
        paused=row.paused_reason,
    )  # fmt: skip


def toggle_pause(session: Session, ctx: Context, ref: str, now: datetime) -> str:
    """Pause a running setup, or resume one a person paused (a delivery problem's pause is
    lifted by fixing the problem, not here). Needs membership of its channel."""
    row = _own_setup(session, ctx, ref)
    if not ctx.is_channel_member():
        raise UserError("Only members of that channel can pause or resume its deliveries.")
    if row.paused_reason is None:
        row.paused_reason = f"{USER_PAUSE}{ctx.user_label}"[:200]
        row.paused_at = now
        return f"Paused {row.ref}."
    if not row.paused_reason.startswith(USER_PAUSE):
        raise UserError(f"{row.ref} is paused because {row.paused_reason}; fix that first.")
    row.paused_reason = None
    row.paused_at = None
    return f"Resumed {row.ref}."


def removal_command(ref: str) -> str:
    """The typed command that removes a setup."""
    return f"unsubscribe {ref}" if ref.startswith("s") else f"remind off {ref}"


def brief_by_ref(session: Session, ref: str, today: date) -> BriefView | None:
    """A brief named in a menu's value ("b12"), or None when it is gone."""
    brief_id = parse_brief_ref(ref)
    brief = get_brief(session, brief_id) if brief_id is not None else None
    return brief_view(brief, today) if brief is not None else None


def edit_setup(
    session: Session, ctx: Context, form: SetupForm, member_of: Callable[[str], bool]
) -> Reply:
    """Save an edit form: the same subscription or rule changes in place (never a removal
    and a new one), in the form's channel (`ctx`). `member_of(channel)` answers whether the
    user belongs to the channel the setup is in now, when the form moves it."""
    if form.kind == "subscribe":
        words = schedule_words(form.cadence, form.weekday, form.month_day, form.clock, form.zone)
    else:
        words = reminder_words(form.leads, form.clock, form.zone)
    query = check_query(form.query)
    row = _own_setup(session, ctx, form.ref)
    if ctx.channel_id != row.channel_id and not member_of(row.channel_id):
        raise FieldError("channel", f"Only members of {row.ref}'s channel can move it.")
    require_channel_member(ctx, "change this channel's subscriptions and reminders")
    moved = ctx.channel_id != row.channel_id
    if isinstance(row, Subscription):
        if form.kind != "subscribe":
            raise UserError(f"{row.ref} is a subscription, not a reminder rule.")
        return edit_subscription(session, ctx, row, query, words, moved)
    if form.kind != "remind":
        raise UserError(f"{row.ref} is a reminder rule, not a subscription.")
    return edit_rule(session, ctx, row, query, words, moved)
