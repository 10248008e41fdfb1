"""Re-ingesting never silently loses facts: what an update would remove from a stored brief.

A worse copy of an issue (a PDF whose extraction lost characters, an edited export) can
parse into a brief with fewer facts than the store has: a goal gone, a deadline or the
brief's date unreadable. Such an update is applied without the removals (everything else
in it still applies) and the removals are named, in the preview and the ingest reply,
until an admin asks for them explicitly (`ingest --replace`, the Slack upload's Replace).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..models import Brief, Goal, GoalKind
from ..views import deadline_label
from .deadlines import Deadline, Precision
from .matching import match_goals
from .records import BriefRecord, GoalRecord

_QUOTED = 60  # characters of a goal's text quoted in a warning


@dataclass(frozen=True)
class Kept:
    """An update with the facts it would remove put back, and what those were."""

    record: BriefRecord
    removals: list[str]  # sentences naming each fact, for the preview and the reply


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f"\u201c{text[:_QUOTED]}\u2026\u201d" if len(text) > _QUOTED else f"\u201c{text}\u201d"


def _stored_deadline(goal: Goal) -> Deadline | None:
    if goal.due_on is None:
        return None
    return Deadline(goal.due_on, Precision(goal.precision or "day"), goal.window_start)


def _stored_goal(goal: Goal) -> GoalRecord:
    return GoalRecord(goal.text, _stored_deadline(goal), GoalKind(goal.kind))


def keep_stored_facts(record: BriefRecord, brief: Brief) -> Kept:
    """`record` (the update) with every goal, deadline and date that `brief` (stored) has
    and the update lacks put back; `removals` says what they are."""
    removals: list[str] = []
    published_on = record.published_on
    if brief.published_on is not None and record.published_on is None:
        published_on = brief.published_on
        removals.append(f"{brief.ref}: its date ({brief.published_on:%d %b %Y})")
    old = list(brief.goals)
    matched = match_goals([g.text for g in old], [g.text for g in record.goals])
    goals = list(record.goals)
    for new_index, old_index in matched.items():
        stored = old[old_index]
        if stored.due_on is not None and goals[new_index].deadline is None:
            goals[new_index] = replace(goals[new_index], deadline=_stored_deadline(stored))
            label = deadline_label(stored.due_on, stored.precision, stored.window_start)
            removals.append(
                f"{brief.ref}: the deadline of {stored.ref} {_quote(stored.text)} ({label})"
            )
    taken = set(matched.values())
    for old_index, stored in enumerate(old):
        if old_index in taken:
            continue
        # Back where it stood among the goals that stay.
        goals.insert(min(old_index, len(goals)), _stored_goal(stored))
        removals.append(f"{brief.ref}: the goal {stored.ref} {_quote(stored.text)}")
    if not removals:
        return Kept(record, [])
    return Kept(replace(record, published_on=published_on, goals=goals), removals)
