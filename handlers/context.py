"""Who asks, where, and when: handlers never read the clock or Slack themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]
# The console is a workspace of its own: what it sets up is delivered to it, and a console
# tick never spends a Slack workspace's deliveries.
CONSOLE_TEAM = "console"


def system_clock() -> datetime:
    return datetime.now(UTC)


def _no_lookup() -> str | None:
    return None


@dataclass(frozen=True)
class Context:
    now: datetime  # timezone-aware
    team_id: str = CONSOLE_TEAM
    channel_id: str = "console"
    user_id: str = "console"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    # The asker's IANA time zone, looked up only when a command needs it (Slack: users.info).
    user_timezone: Callable[[], str | None] = _no_lookup
    user_label: str = ""  # how replies name the asker (Slack: a mention); default: the id
    # Permission checks, answered by the edge (Slack: conversations.members, users.info).
    # The console is one trusted user: everything is allowed.
    is_channel_member: Callable[[], bool] = lambda: True
    is_admin: Callable[[], bool] = lambda: True
    # Where `policybot serve` is reached from outside (POLICYBOT_PUBLIC_URL), for the links
    # it serves itself (calendar subscriptions); "" when not set.
    public_url: str = ""

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("Context.now must be timezone-aware")
        if not self.user_label:
            object.__setattr__(self, "user_label", self.user_id)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The asker's time zone (looked up once, when first needed), else `tz`."""
        name = self.user_timezone()
        try:
            return ZoneInfo(name) if name else self.tz
        except (ZoneInfoNotFoundError, ValueError):
            return self.tz

    @property
    def today(self) -> date:
        """The asker's calendar date: countdowns count days where they are."""
        return self.now.astimezone(self.zone).date()
