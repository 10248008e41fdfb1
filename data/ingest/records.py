"""Plain records the parser produces and the writer stores (no database types here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..models import BriefKind, GoalKind
from .deadlines import Deadline


@dataclass(frozen=True)
class GoalRecord:
    text: str
    deadline: Deadline | None
    kind: GoalKind = GoalKind.POLICY


@dataclass
class BriefRecord:
    kind: BriefKind
    title: str
    line: int  # where the brief starts in its file, for error messages
    title_original: str | None = None
    bodies: list[str] = field(default_factory=list)
    bodies_more: bool = False  # "MIIT etc.": more bodies than listed
    # Full names the bodies line spelled out: "Ministry of Finance (MOF)" -> {"MOF": ...}
    body_full_names: dict[str, str] = field(default_factory=dict)
    published_on: date | None = None
    summary: str = ""
    comment: str = ""
    comment_author: str | None = None  # "MERICS" from "MERICS comment:"
    links: list[str] = field(default_factory=list)
    source_label: str | None = None
    goals: list[GoalRecord] = field(default_factory=list)
    # False: read from text without labels (a message written for people), its first line
    # taken as the title; a caller may split it as a person would (handlers/add_brief.py).
    labelled: bool = True
    # Read from the policy document itself (data/ingest/primary.py), not a tracker's entry:
    # the two join as one brief when they are the same document (same_document.py).
    primary: bool = False
    # What the parser had to guess or could not read in this brief, for the preview.
    warnings: list[str] = field(default_factory=list)


@dataclass
class IssueRecord:
    source: str
    issue_date: date | None
    briefs: list[BriefRecord]
    # Links of a news run whose count did not match its items: kept, but not guessed.
    unassigned_links: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    publication: str | None = None  # the newsletter's name, from the issue's header

    @property
    def policy_briefs(self) -> list[BriefRecord]:
        return [b for b in self.briefs if b.kind is BriefKind.POLICY]

    @property
    def news(self) -> list[BriefRecord]:
        return [b for b in self.briefs if b.kind is BriefKind.NEWS]
