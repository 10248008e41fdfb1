"""What ingesting an issue would do, without writing: the one preview that `ingest
--dry-run`, the Slack upload's confirmation and the add-brief modal show.

Each brief is classified the way the writer will (same identity, same content hash):
added, updated or unchanged, with the parser's warnings for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policybot.data.ingest.matching import moved_by_identity
from policybot.data.ingest.parser import parse_bytes
from policybot.data.ingest.records import BriefRecord, IssueRecord
from policybot.data.ingest.writer import _content_hash, brief_identity
from policybot.data.models import Brief, SourceDocument


@dataclass(frozen=True)
class BriefPreview:
    action: str  # "add", "update" or "unchanged"
    record: BriefRecord
    existing_ref: str | None  # "b12" for an update or an unchanged brief

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

    def count(self, action: str) -> int:
        return sum(1 for b in self.briefs if b.action == action)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "publication": self.publication,
            "already_ingested": self.already_ingested,
            "added": self.count("add"),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "briefs": [b.as_json() for b in self.briefs],
            "warnings": self.warnings,
            "unassigned_links": self.unassigned_links,
        }


def preview_issue(session: Session, issue: IssueRecord, content_hash: str) -> IssuePreview:
    """Read-only: queries the store, adds nothing to the session."""
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
    )
    # The writer keeps the last of repeated entries; match the same one it will.
    records = dict(zip(identities, issue.briefs, strict=True))
    moved = moved_by_identity(session, records, existing)
    seen: set[str] = set()
    for identity, record in zip(identities, issue.briefs, strict=True):
        brief = existing.get(identity)
        if identity in moved and identity not in seen:
            brief = moved[identity].brief
            record = replace(record, warnings=[*record.warnings, moved[identity].warning])
        if identity in seen or (brief is not None and brief.content_hash == _content_hash(record)):
            action = "unchanged"  # a repeat inside the file is stored once, too
        else:
            action = "add" if brief is None else "update"
        seen.add(identity)
        preview.briefs.append(BriefPreview(action, record, brief.ref if brief else None))
    return preview


def preview_bytes(session: Session, raw: bytes, source: str) -> IssuePreview:
    return preview_issue(session, parse_bytes(raw, source), hashlib.sha256(raw).hexdigest())
