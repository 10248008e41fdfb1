"""Finding the stored brief a re-ingested entry corrects when its date moved.

A brief's identity hashes its date, so a corrected date ("November 15" -> "November 16")
would make a second brief and alert its deadlines twice. An entry with no identity match
whose normalised title matches a stored brief of the same kind is that brief when the date
moved a little (or one of the two dates was unreadable); the same title years apart (an
annual plan) is a different brief, kept apart with a warning naming the stored one.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..bodies import normalize_name
from ..models import Brief, BriefKind
from .records import BriefRecord

# Trackers report the weeks around publication; a correction moves a date by days. An
# annual plan comes back a year later.
MAX_DATE_SHIFT_DAYS = 60
_CHUNK = 400  # titles per IN list (two lists a query), well inside every engine's limits


def identity_key(kind: str, title: str, title_original: str | None, summary: str) -> str:
    """The dateless part of brief_identity: the original title of a policy, the opening
    words of a news item."""
    if kind == BriefKind.POLICY:
        return normalize_name(title_original or title)
    return normalize_name(" ".join(summary.split()[:10]))


@dataclass(frozen=True)
class MovedMatch:
    """What became of one entry that no stored identity matched."""

    brief: Brief | None  # the stored brief to update; None: add a new brief
    warning: str


def find_moved(
    session: Session, records: Sequence[BriefRecord], taken: Collection[int]
) -> dict[int, MovedMatch]:
    """{index in records: match} for the entries that correct a stored brief's date or share
    its title. `taken` holds ids of stored briefs other entries of the file already match;
    each stored brief is matched at most once."""
    if not records:
        return {}
    by_key: dict[tuple[str, str], list[Brief]] = {}
    for brief in _same_titles(session, records):
        for key in _keys(brief.kind, brief.title, brief.title_original, brief.summary):
            by_key.setdefault((str(brief.kind), key), []).append(brief)
    used: set[int] = set()
    found: dict[int, MovedMatch] = {}
    for index, record in enumerate(records):
        alike = _unique(
            brief
            for key in _keys(record.kind, record.title, record.title_original, record.summary)
            for brief in by_key.get((str(record.kind), key), [])
        )
        if not alike:
            continue
        # A brief another entry of the file already is can only be named, not matched.
        free = [b for b in alike if b.id not in taken and b.id not in used]
        same = _closest(record.published_on, free) if free else None
        if same is not None:
            used.add(same.id)
            found[index] = MovedMatch(
                same,
                f"{_date_change(same.published_on, record.published_on)}: taken as an update "
                f"of {same.ref} (same title), its goals kept",
            )
        else:
            nearest = min(alike, key=lambda b: _distance(record.published_on, b.published_on))
            found[index] = MovedMatch(
                None,
                f"same title as {nearest.ref} ({_day(nearest.published_on)}), but dated "
                f"{_day(record.published_on)}: added as a separate brief",
            )
    return found


def _same_titles(session: Session, records: Sequence[BriefRecord]) -> list[Brief]:
    """Stored briefs whose title or original title is one of the records' (exactly; the
    normalised comparison follows in Python)."""
    titles = sorted(
        {r.title for r in records} | {r.title_original for r in records if r.title_original}
    )
    found: dict[int, Brief] = {}
    for start in range(0, len(titles), _CHUNK):
        chunk = titles[start : start + _CHUNK]
        for brief in session.scalars(
            select(Brief).where(or_(Brief.title.in_(chunk), Brief.title_original.in_(chunk)))
        ):
            found[brief.id] = brief
    return list(found.values())


def _keys(kind: str, title: str, title_original: str | None, summary: str) -> set[str]:
    keys = {identity_key(kind, title, title_original, summary), normalize_name(title)}
    return {k for k in keys if k}


def _unique(briefs: Iterable[Brief]) -> list[Brief]:
    return list({b.id: b for b in briefs}.values())


def _closest(published: date | None, alike: list[Brief]) -> Brief | None:
    """The stored brief this entry corrects: the nearest date within the shift allowed; a
    date that was or is now unreadable matches when only one brief has the title."""
    if published is None:
        return alike[0] if len(alike) == 1 else None
    dated = [b for b in alike if b.published_on is not None]
    near = [b for b in dated if _distance(published, b.published_on) <= MAX_DATE_SHIFT_DAYS]
    if near:
        return min(near, key=lambda b: (_distance(published, b.published_on), b.id))
    undated = [b for b in alike if b.published_on is None]
    return undated[0] if len(undated) == 1 else None


def _distance(first: date | None, second: date | None) -> int:
    if first is None or second is None:
        return 10**6
    return abs((first - second).days)


def _date_change(old: date | None, new: date | None) -> str:
    if old is None:
        return f"date set to {_day(new)}"
    if new is None:
        return f"date no longer readable (was {_day(old)})"
    if old.year == new.year:
        return f"date changed from {old.day} {old:%b} to {_day(new)}"
    return f"date changed from {_day(old)} to {_day(new)}"


def _day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value is not None else "undated"


def moved_by_identity(
    session: Session, records: dict[str, BriefRecord], existing: dict[str, Brief]
) -> dict[str, MovedMatch]:
    """find_moved for the records (by identity) that `existing` (stored briefs by
    identity) does not already hold."""
    unmatched = [(identity, r) for identity, r in records.items() if identity not in existing]
    found = find_moved(session, [r for _, r in unmatched], {b.id for b in existing.values()})
    return {unmatched[index][0]: match for index, match in found.items()}


def match_goals(old: list[str], new: list[str], cutoff: float = 0.6) -> dict[int, int]:
    """{new index: old index}: equal texts first, then the most similar remaining pairs."""

    def key(text: str) -> str:
        return " ".join(text.casefold().split())

    matched: dict[int, int] = {}
    free = set(range(len(old)))
    by_text: dict[str, list[int]] = {}
    for index in range(len(old)):
        by_text.setdefault(key(old[index]), []).append(index)
    for index, text in enumerate(new):
        same = [i for i in by_text.get(key(text), []) if i in free]
        if same:
            matched[index] = same[0]
            free.discard(same[0])
    pairs = sorted(
        (
            (difflib.SequenceMatcher(None, key(new[n]), key(old[o])).ratio(), n, o)
            for n in range(len(new))
            if n not in matched
            for o in free
        ),
        reverse=True,
    )
    for ratio, n, o in pairs:
        if ratio >= cutoff and n not in matched and o in free:
            matched[n] = o
            free.discard(o)
    return matched
