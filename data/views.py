"""Snapshots of briefs and goals as replies and messages show them (plain values, no session).

Commands and scheduled messages both draw these; taking the snapshot while the session is
open means renderers never touch the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import Session

from .models import Brief, Goal, IssuingBody, SourceDocument, brief_bodies
from .sources import official_first


@dataclass(frozen=True)
class NoteLine:
    """A workspace's note on a brief as a digest shows it: who wrote it (a user id, which each
    renderer draws its own way: a mention in Slack) and what they wrote."""

    author: str
    text: str


@dataclass(frozen=True)
class GoalView:
    ref: str
    text: str
    due_on: date | None
    precision: str | None
    window_start: date | None
    status: str
    days_left: int | None  # from today to the deadline (negative: overdue)
    # The goal's id: what buttons and lookups use (`ref` is only for people to read).
    # 0 for a view made by hand (tests, previews of nothing stored).
    id: int = 0

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
    # Official documents first (the Source), then coverage, each in the tracker's order;
    # briefs stored before that order was kept are ranked as they are read.
    links: tuple[str, ...]
    source_label: str | None
    goals: tuple[GoalView, ...]
    comment_author: str | None = None  # "MERICS" of "MERICS comment:"
    issue: str | None = None  # the tracker issue it came from, as a reader names it
    # The receiving workspace's notes on it, for digests.
    team_notes: tuple[NoteLine, ...] = ()
    # Search results: the index terms the search found in this brief (words to highlight).
    matched_terms: frozenset[str] = frozenset()
    # The brief's id: what buttons and lookups use (`ref` is only for people to read).
    id: int = 0

    @property
    def source(self) -> str | None:
        """The official document (links are kept official first), else the first link."""
        return self.links[0] if self.links else None

    @property
    def coverage(self) -> tuple[str, ...]:
        """The other links: background reading, news coverage, archived copies."""
        return self.links[1:]

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
        id=goal.id,
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
        links=tuple(official_first(brief.links)),
        source_label=brief.source_label,
        goals=tuple(goal_view(g, today) for g in brief.goals),
        comment_author=brief.comment_author,
        issue=issue_label(brief.source_document),
        id=brief.id,
    )


# Built once (a page is read on every search): only the ids change, as an expanding list.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_BODIES_OF = (
    select(brief_bodies.c.brief_id, IssuingBody.abbreviation)
    .join(IssuingBody, brief_bodies.c.body_id == IssuingBody.id)
    .where(brief_bodies.c.brief_id.in_(_IDS))
    .order_by(brief_bodies.c.brief_id, brief_bodies.c.position)
)
_GOALS_OF = (
    select(
        Goal.brief_id,
        Goal.id,
        Goal.text,
        Goal.due_on,
        Goal.precision,
        Goal.window_start,
        Goal.status,
    )
    .where(Goal.brief_id.in_(_IDS))
    .order_by(Goal.brief_id, Goal.position)
)
_BRIEFS = (
    select(
        Brief.id,
        Brief.kind,
        Brief.title,
        Brief.title_original,
        Brief.bodies_more,
        Brief.published_on,
        Brief.summary,
        Brief.comment,
        Brief.links,
        Brief.source_label,
        Brief.comment_author,
        SourceDocument.publication,
        SourceDocument.name,
        SourceDocument.issue_date,
    )
    .outerjoin(SourceDocument, Brief.source_document_id == SourceDocument.id)
    .where(Brief.id.in_(_IDS))
)


def brief_views(session: Session, brief_ids: Sequence[int], today: date) -> dict[int, BriefView]:
    """What `brief_view` makes of each of these briefs, by id in this order (an id with no
    brief is left out), read as plain columns in three queries: no ORM objects for a page
    that only shows them."""
    if not brief_ids:
        return {}
    ids = {"ids": list(dict.fromkeys(brief_ids))}
    bodies: dict[int, list[str]] = {}
    for brief_id, abbreviation in session.execute(_BODIES_OF, ids):
        bodies.setdefault(brief_id, []).append(abbreviation)
    goals: dict[int, list[GoalView]] = {}
    for brief_id, goal_id, text, due_on, precision, window_start, status in session.execute(
        _GOALS_OF, ids
    ):
        goals.setdefault(brief_id, []).append(
            GoalView(
                ref=f"g{goal_id}",
                text=text,
                due_on=due_on,
                precision=precision,
                window_start=window_start,
                status=str(status),
                days_left=(due_on - today).days if due_on else None,
                id=goal_id,
            )
        )
    views: dict[int, BriefView] = {}
    for row in session.execute(_BRIEFS, ids):
        views[row.id] = BriefView(
            ref=f"b{row.id}",
            kind=str(row.kind),
            title=row.title,
            title_original=row.title_original,
            bodies=tuple(bodies.get(row.id, ())),
            bodies_more=row.bodies_more,
            published_on=row.published_on,
            summary=row.summary,
            comment=row.comment,
            links=tuple(official_first(row.links)),
            source_label=row.source_label,
            goals=tuple(goals.get(row.id, ())),
            comment_author=row.comment_author,
            issue=None if row.name is None else _issue(row.publication, row.name, row.issue_date),
            id=row.id,
        )
    return {i: views[i] for i in brief_ids if i in views}


def issue_label(document: SourceDocument | None) -> str | None:
    """ "China Industrial Policy Tracker, Nov 2024" (or the file's name when the issue does
    not name its newsletter)."""
    if document is None:
        return None
    return _issue(document.publication, document.name, document.issue_date)


def _issue(publication: str | None, name: str, issue_date: date | None) -> str:
    name = publication or name
    return f"{name}, {issue_date:%b %Y}" if issue_date else name


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
