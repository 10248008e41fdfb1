"""Lead times of deadline reminders: how many days before a deadline a channel is alerted."""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_LEADS = (365, 180, 90, 30, 7)


MAX_LEAD_DAYS = 3650
MAX_LEADS = 12


class LeadsError(ValueError):
    """Why lead days cannot be read; the message names the value at fault."""


def parse_leads(text: str) -> tuple[int, ...]:
    """ "365,180,90" -> (365, 180, 90); raises LeadsError naming what is wrong."""
    parts = [part for part in text.replace(" ", "").split(",") if part]
    if not parts:
        raise LeadsError("`leads` needs days before the deadline, e.g. `leads 365,90,30,7`")
    values = []
    for part in parts:
        if not part.isdecimal() or not 0 <= int(part) <= MAX_LEAD_DAYS:
            raise LeadsError(
                f"`{part[:12]}` is not a lead time: days before the deadline, 0 to {MAX_LEAD_DAYS}"
            )
        values.append(int(part))
    if len(values) > MAX_LEADS:
        raise LeadsError(f"at most {MAX_LEADS} lead times (you gave {len(values)})")
    return tuple(sorted(set(values), reverse=True))


def describe_leads(leads: Iterable[int]) -> str:
    return ", ".join(f"{lead}d" for lead in sorted(leads, reverse=True))
