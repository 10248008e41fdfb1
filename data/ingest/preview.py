"""What ingesting an issue would do, without writing: the one preview that `ingest
--dry-run`, the Slack upload's confirmation and the add-brief modal show.

Each brief is classified the way the writer will (same identity, same content hash):
added, updated or unchanged, with the parser's warnings for it, whether it will count as
new or archive (data/novelty.py), and the stored facts the update would remove (kept
unless replaced; losses.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Brief, SourceDocument
from ..novelty import Novelty, decide_archive
from .losses import keep_stored_facts
from .matching import moved_by_identity
from .parser import parse_bytes
from .records import BriefRecord, IssueRecord
from .writer import _content_hash, brief_identity, novelty_label


@dataclass(frozen=True)
class BriefPreview:
    action: str  # "add", "update" or "unchanged"
    record: BriefRecord
    existing_ref: str | None  # "b12" for an update or an unchanged brief
    # Whether digests will post it: an added brief by the file's novelty, a stored one
    # by its own (an explicit --new/--archive re-marks it).
    new: bool = True
    # Stored facts the file lacks: kept, unless the ingest replaces them.
    removals: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "action": self.action,
            "id": self.existing_ref,
            "kind": str(r.kind),
            "title": r.title,
            "title_original": r.title_original,
            "published_on": r.published_on.isoformat() if r.published_on else None,
            "issuing_bodies": r.bodies,
            "source_label": r.source_label,
            "comment_author": r.comment_author,
            "links": r.links,
            "goals": [
                {
                    "text": g.text,
                    "kind": str(g.kind),
                    "deadline": g.deadline.due_on.isoformat() if g.deadline else None,
                    "precision": str(g.deadline.precision) if g.deadline else None,
                    "window_start": g.deadline.window_start.isoformat()
                    if g.deadline and g.deadline.window_start
                    else None,
                }
                for g in r.goals
            ],
            "warnings": r.warnings,
            "new": self.new,
            "would_remove": list(self.removals),
        }


@dataclass
class IssuePreview:
    source: str
    issue_date: date | None
    publication: str | None
    already_ingested: bool
    briefs: list[BriefPreview] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unassigned_links: list[str] = field(default_factory=list)
    archive: bool = False  # the file's new briefs will be stored as archive
    replace_facts: bool = False  # the removals below will be applied

    def count(self, action: str) -> int:
        return sum(1 for b in self.briefs if b.action == action)

    @property
    def removals(self) -> list[str]:
        return [r for b in self.briefs for r in b.removals]

    @property
    def novelty_label(self) -> str:
        """ "5 new, 12 archive: not posted", over the briefs added (or re-marked)."""
        added = [b for b in self.briefs if b.action == "add"]
        return novelty_label(sum(1 for b in added if b.new), sum(1 for b in added if not b.new))

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "publication": self.publication,
            "already_ingested": self.already_ingested,
            "added": self.count("add"),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "archive": self.archive,
            "new_briefs": sum(1 for b in self.briefs if b.action == "add" and b.new),
            "archive_briefs": sum(1 for b in self.briefs if b.action == "add" and not b.new),
            "would_remove": self.removals,
            "replace": self.replace_facts,
            "briefs": [b.as_json() for b in self.briefs],
            "warnings": self.warnings,
            "unassigned_links": self.unassigned_links,
        }


def preview_issue(
    session: Session,
    issue: IssueRecord,
    content_hash: str,
    now: datetime | None = None,
    novelty: Novelty = Novelty.AUTO,
    replace_facts: bool = False,
) -> IssuePreview:
    """Read-only: queries the store, adds nothing to the session. `now` is when the
    ingest would run (the novelty rule reads the issue's age at that moment)."""
    moment = now or datetime.now(UTC)
    archive = decide_archive(novelty, issue.issue_date, moment)
    identities = [brief_identity(r) for r in issue.briefs]
    existing = {
        b.identity: b
        for b in session.scalars(select(Brief).where(Brief.identity.in_(set(identities))))
    }
    known = session.scalar(
        select(SourceDocument.id).where(SourceDocument.content_hash == content_hash)
    )
    preview = IssuePreview(
        issue.source,
        issue.issue_date,
        issue.publication,
        already_ingested=known is not None,
        warnings=list(issue.warnings),
        unassigned_links=list(issue.unassigned_links),
        archive=archive,
        replace_facts=replace_facts,
    )
    # The writer keeps the last of repeated entries; match the same one it will.
    records = dict(zip(identities, issue.briefs, strict=True))
    moved = moved_by_identity(session, records, existing)
    seen: set[str] = set()
    for identity, record in zip(identities, issue.briefs, strict=True):
        brief = existing.get(identity)
        removals: tuple[str, ...] = ()
        if identity in moved and identity not in seen:
            brief = moved[identity].brief
        if brief is not None and identity not in seen:
            kept = keep_stored_facts(record, brief)
            removals = tuple(kept.removals)
            if not replace_facts:
                record = kept.record
        moved_date = brief is None or brief.published_on != record.published_on
        if identity in moved and identity not in seen and moved_date:
            record = replace(record, warnings=[*record.warnings, moved[identity].warning])
        if identity in seen or (brief is not None and brief.content_hash == _content_hash(record)):
            action = "unchanged"  # a repeat inside the file is stored once, too
        else:
            action = "add" if brief is None else "update"
        seen.add(identity)
        if brief is None:
            new = not archive
        elif novelty is Novelty.AUTO:
            new = brief.new_since is not None
        else:
            new = novelty is Novelty.NEW
        preview.briefs.append(
            BriefPreview(action, record, brief.ref if brief else None, new, removals)
        )
    return preview


def preview_bytes(
    session: Session,
    raw: bytes,
    source: str,
    now: datetime | None = None,
    novelty: Novelty = Novelty.AUTO,
    replace_facts: bool = False,
) -> IssuePreview:
    return preview_issue(
        session,
        parse_bytes(raw, source),
        hashlib.sha256(raw).hexdigest(),
        now,
        novelty,
        replace_facts,
    )
