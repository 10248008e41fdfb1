"""Lead times of deadline reminders: how many days before a deadline a channel is alerted."""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_LEADS = (365, 180, 90, 30, 7)


def parse_leads(text: str) -> tuple[int, ...]:
    """ "365,180,90" -> (365, 180, 90); raises ValueError."""
    values = [int(part) for part in text.replace(" ", "").split(",") if part]
    if not values or any(not 0 <= v <= 3650 for v in values) or len(values) > 12:
        raise ValueError(text)
    return tuple(sorted(set(values), reverse=True))


def describe_leads(leads: Iterable[int]) -> str:
    return ", ".join(f"{lead}d" for lead in sorted(leads, reverse=True))
