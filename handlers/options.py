"""Options shared by the commands that schedule something: `at HH:MM` and `tz ZONE`."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ..data.errors import UserError
from ..data.schedules import parse_clock


class FieldError(UserError):
    """Bad input in one field of a form: the modal shows `str(self)` under that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def zone_named(name: str) -> ZoneInfo:
    if "/" not in name and name.upper() not in ("UTC", "GMT"):
        raise UserError(f"`{name[:40]}` is not a time zone; use an IANA name like `Europe/Berlin`.")
    try:
        return ZoneInfo(name if name.upper() not in ("UTC", "GMT") else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        close = sorted(
            z for z in available_timezones() if z.lower().endswith(name.lower().split("/")[-1])
        )
        hint = f" Did you mean `{close[0]}`?" if close else ""
        raise UserError(f"I don't know the time zone `{name[:60]}`.{hint}") from None


def take_time_options(text: str) -> tuple[list[str], int | None, str | None]:
    """Pull `at HH:MM` and `tz ZONE` out of command words (subscribe, remind, quiet);
    returns the other words, the minute of the day and the zone, each None when not given."""
    words = text.split()
    rest: list[str] = []
    minute: int | None = None
    zone: str | None = None
    i = 0
    while i < len(words):
        word = words[i].lower()
        following = words[i + 1] if i + 1 < len(words) else None
        if word == "at":
            if not following:
                raise UserError("`at` needs a time, for example `at 09:00` or `at 9am`.")
            try:
                minute = parse_clock(following)
            except ValueError:
                raise UserError(
                    f"`at {following[:20]}` is not a time I can read; write `at 09:00` or `at 9am`."
                ) from None
            i += 1
        elif word == "tz":
            if not following:
                raise UserError("`tz` needs a time zone, for example `tz Europe/Berlin`.")
            zone = str(zone_named(following).key)
            i += 1
        else:
            rest.append(words[i])
        i += 1
    return rest, minute, zone
