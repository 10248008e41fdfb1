"""Snapshots of briefs and goals as replies and messages show them (plain values, no session).

Commands and scheduled messages both draw these; taking the snapshot while the session is
open means renderers never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from policybot.data.models import Brief, Goal, SourceDocument


@dataclass(frozen=True)
class GoalView:
    ref: str
    text: str
    due_on: date | None
    precision: str | None
    window_start: date | None
    status: str
    days_left: int | None  # from today to the deadline (negative: overdue)

    @property
    def deadline_label(self) -> str:
        return deadline_label(self.due_on, self.precision, self.window_start)


@dataclass(frozen=True)
class BriefView:
    ref: str
    kind: str
    title: str
    title_original: str | None
    bodies: tuple[str, ...]
    bodies_more: bool
    published_on: date | None
    summary: str
    comment: str
    links: tuple[str, ...]
    source_label: str | None
    goals: tuple[GoalView, ...]
    comment_author: str | None = None  # "MERICS" of "MERICS comment:"
    issue: str | None = None  # the tracker issue it came from, as a reader names it
    # The receiving workspace's notes on it ("U1: expect a final version"), for digests.
    team_notes: tuple[str, ...] = ()
    # Search results: the index terms the search found in this brief (words to highlight).
    matched_terms: frozenset[str] = frozenset()

    @property
    def bodies_label(self) -> str:
        label = ", ".join(self.bodies)
        return f"{label} et al." if self.bodies_more and label else label

    @property
    def date_label(self) -> str:
        # Not strftime's "%-d": that is glibc's, and Windows has no such directive.
        day = self.published_on
        return f"{day.day} {day:%b %Y}" if day else "undated"


@dataclass(frozen=True)
class DeadlineView:
    goal: GoalView
    brief: BriefView
    note: str = ""  # e.g. "newly tracked", "window opens"


def deadline_label(due_on: date | None, precision: str | None, window_start: date | None) -> str:
    if due_on is None:
        return "no deadline"
    if precision == "year":
        return f"by end of {due_on.year}"
    if precision == "month":
        return f"by end of {due_on.strftime('%B %Y')}"
    if precision == "window":
        start = window_start.strftime("%b %Y") if window_start else "now"
        return f"window {start} \u2013 {due_on.strftime('%b %Y')}"
    return f"by {due_on.day} {due_on:%B %Y}"


def countdown(days: int | None) -> str:
    if days is None:
        return ""
    if days == 0:
        return "due today"
    if days < 0:
        return f"{-days} days overdue"
    if days == 1:
        return "1 day left"
    return f"{days} days left"


def goal_view(goal: Goal, today: date) -> GoalView:
    return GoalView(
        ref=goal.ref,
        text=goal.text,
        due_on=goal.due_on,
        precision=goal.precision,
        window_start=goal.window_start,
        status=str(goal.status),
        days_left=(goal.due_on - today).days if goal.due_on else None,
    )


def brief_view(brief: Brief, today: date) -> BriefView:
    return BriefView(
        ref=brief.ref,
        kind=str(brief.kind),
        title=brief.title,
        title_original=brief.title_original,
        bodies=tuple(b.abbreviation for b in brief.bodies),
        bodies_more=brief.bodies_more,
        published_on=brief.published_on,
        summary=brief.summary,
        comment=brief.comment,
        links=tuple(brief.links),
        source_label=brief.source_label,
        goals=tuple(goal_view(g, today) for g in brief.goals),
        comment_author=brief.comment_author,
        issue=issue_label(brief.source_document),
    )


def issue_label(document: SourceDocument | None) -> str | None:
    """ "China Industrial Policy Tracker, Nov 2024" (or the file's name when the issue does
    not name its newsletter)."""
    if document is None:
        return None
    name = document.publication or document.name
    return f"{name}, {document.issue_date:%b %Y}" if document.issue_date else name


def due_summary(brief: BriefView) -> str:
    """ "3 goals due by end of 2027; 1 goal window Oct 2029 – Oct 2034" (empty: none dated)."""
    counts: dict[str, int] = {}
    for goal in brief.goals:
        if goal.due_on:
            counts[goal.deadline_label] = counts.get(goal.deadline_label, 0) + 1
    parts = [
        f"{n} goal{'s' if n > 1 else ''} {'due ' if not label.startswith('window') else ''}{label}"
        for label, n in counts.items()
    ]
    return "; ".join(parts)
