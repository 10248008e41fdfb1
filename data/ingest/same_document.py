"""One document, one brief: the policy document itself (its official page, a pasted notice)
and a tracker's entry about it are joined, however they arrive and in whichever order.

Two policy briefs are the same document when they share the official URL, or the
document's own name (the 《》 name, without its wrapping or draft marker, primary.py's
document_name) within DATE_SLACK of each other's date, both drafts or both not. What each
kind of source said is kept as a part (BriefPart: "primary", "coverage"); the brief's fields
are rebuilt from both: the document's name, date, bodies and targets, the tracker's English
title, summary and analyst comment, all links with the official text first.

A draft for comments (征求意见稿) and the same document without the marker are not joined
but linked: the draft's `final_id` names the final, and a Finalisation records what changed
in its targets for the channels told of the draft (scheduler/kinds/finalised.py).

The writer (writer.py) calls `SameDocuments.prepare` with a file's records, `join` for each
record before it looks at the stored brief, and `stored` with the briefs it wrote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from policybot.data.ingest.deadlines import Deadline, Precision
from policybot.data.ingest.matching import match_goals
from policybot.data.ingest.primary import document_name, is_draft
from policybot.data.ingest.records import BriefRecord, GoalRecord
from policybot.data.ingest.text import has_cjk
from policybot.data.models import (
    Brief,
    BriefKind,
    BriefPart,
    Finalisation,
    GoalKind,
    SourceDocument,
)
from policybot.data.sources import host_parts, is_official, official_first
from policybot.data.views import deadline_label

PRIMARY = "primary"
COVERAGE = "coverage"
DATE_SLACK = timedelta(days=45)  # a tracker dates a document by its release, not signing
_KEY_MAX = 200
_CATCH_UP_CHUNK = 500
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def role_of(record: BriefRecord) -> str:
    return PRIMARY if record.primary else COVERAGE


def document_key(title: str, title_original: str | None) -> str:
    """The document's own name, normalised: the Chinese name when there is one (trackers
    and the document agree on it), else the English title; "" for no name."""
    chinese = next((t for t in (title_original, title) if t and has_cjk(t)), None)
    name = document_name(chinese or title or "")
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"^the\s+", "", text)
    return _NOT_WORD.sub("", text)[:_KEY_MAX]


def url_key(url: str) -> str:
    """An official URL as compared with another: host and path, no scheme, "www." or
    archive.org wrapping, no trailing slash."""
    archived = re.search(r"/web/\d+[a-z_]*/(https?:/+.*)$", url)
    if archived:
        url = re.sub(r"^(https?:)/+", r"\1//", archived[1])
    path = re.sub(r"^\s*(?:https?:)?/*[^/]*", "", url.strip()).rstrip("/")
    return (".".join(host_parts(url)) + path).casefold()[:500]


def official_url(links: Sequence[str]) -> str | None:
    official = [link for link in links if is_official(link)]
    return url_key(official[0]) if official else None


# -- a part as stored ------------------------------------------------------------------


def record_json(record: BriefRecord) -> dict[str, Any]:
    return {
        "title": record.title,
        "title_original": record.title_original,
        "bodies": list(record.bodies),
        "bodies_more": record.bodies_more,
        "body_full_names": dict(record.body_full_names),
        "published_on": record.published_on.isoformat() if record.published_on else None,
        "summary": record.summary,
        "comment": record.comment,
        "comment_author": record.comment_author,
        "links": list(record.links),
        "source_label": record.source_label,
        "goals": [
            [
                g.text,
                g.deadline.due_on.isoformat() if g.deadline else None,
                str(g.deadline.precision) if g.deadline else None,
                g.deadline.window_start.isoformat()
                if g.deadline and g.deadline.window_start
                else None,
                str(g.kind),
            ]
            for g in record.goals
        ],
    }


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def record_of(data: dict[str, Any], role: str) -> BriefRecord:
    goals = []
    for text, due, precision, start, kind in data.get("goals", []):
        deadline = (
            Deadline(date.fromisoformat(due), Precision(precision), _day(start))
            if due and precision
            else None
        )
        goals.append(GoalRecord(text, deadline, GoalKind(kind)))
    record = BriefRecord(
        kind=BriefKind.POLICY,
        title=data.get("title", ""),
        line=1,
        title_original=data.get("title_original"),
        bodies=list(data.get("bodies", [])),
        bodies_more=bool(data.get("bodies_more")),
        body_full_names=dict(data.get("body_full_names", {})),
        published_on=_day(data.get("published_on")),
        summary=data.get("summary", ""),
        comment=data.get("comment", ""),
        comment_author=data.get("comment_author"),
        links=list(data.get("links", [])),
        source_label=data.get("source_label"),
        goals=goals,
    )
    record.primary = role == PRIMARY
    return record


def record_of_brief(brief: Brief) -> BriefRecord:
    """A brief stored before it had parts, as the record it was written from."""
    goals = [
        GoalRecord(
            g.text,
            Deadline(g.due_on, Precision(g.precision), g.window_start)
            if g.due_on and g.precision
            else None,
            GoalKind(g.kind),
        )
        for g in brief.goals
    ]
    return BriefRecord(
        kind=BriefKind(brief.kind),
        title=brief.title,
        line=1,
        title_original=brief.title_original,
        bodies=[b.abbreviation for b in brief.bodies],
        bodies_more=brief.bodies_more,
        published_on=brief.published_on,
        summary=brief.summary,
        comment=brief.comment,
        comment_author=brief.comment_author,
        links=list(brief.links),
        source_label=brief.source_label,
        goals=goals,
    )


def merge(primary: BriefRecord, coverage: BriefRecord, line: int) -> BriefRecord:
    """One brief of the document and a tracker's entry on it."""
    english = next((t for t in (primary.title, coverage.title) if t and not has_cjk(t)), None)
    chinese_name = next(
        (t for t in (primary.title_original, primary.title) if t and has_cjk(t)), None
    )
    if chinese_name is None and coverage.title_original:
        chinese_name = document_name(coverage.title_original)
    title = english or primary.title
    original = chinese_name if chinese_name and chinese_name != title else None
    merged = BriefRecord(
        kind=BriefKind.POLICY,
        title=title,
        line=line,
        title_original=original,
        bodies=list(dict.fromkeys([*primary.bodies, *coverage.bodies])),
        bodies_more=primary.bodies_more if primary.bodies else coverage.bodies_more,
        body_full_names=dict(coverage.body_full_names),
        published_on=primary.published_on or coverage.published_on,
        summary="\n\n".join(s for s in (coverage.summary, primary.summary) if s),
        comment=coverage.comment,
        comment_author=coverage.comment_author,
        links=official_first(list(dict.fromkeys([*primary.links, *coverage.links]))),
        source_label=coverage.source_label,
        goals=list(primary.goals or coverage.goals),
    )
    merged.primary = True
    return merged


def target_changes(draft: Sequence[GoalRecord], final: Sequence[GoalRecord]) -> list[str]:
    """What the final version changed in the draft's targets: added, removed and moved
    deadlines, one line each."""
    old = [g for g in draft if g.deadline]
    new = [g for g in final if g.deadline]
    matched = match_goals([g.text for g in old], [g.text for g in new])
    changes: list[str] = []
    for index, goal in enumerate(new):
        assert goal.deadline is not None
        label = _label(goal.deadline)
        if index not in matched:
            changes.append(f"added: {goal.text} ({label})")
            continue
        before = old[matched[index]].deadline
        assert before is not None
        if (before.due_on, before.window_start) != (
            goal.deadline.due_on,
            goal.deadline.window_start,
        ):
            changes.append(f"moved: {goal.text} ({_label(before)} \u2192 {label})")
    kept = set(matched.values())
    changes += [
        f"removed: {g.text} ({_label(g.deadline)})"
        for index, g in enumerate(old)
        if index not in kept and g.deadline is not None
    ]
    return changes


def _label(deadline: Deadline) -> str:
    return deadline_label(deadline.due_on, str(deadline.precision), deadline.window_start)


class _Candidate(NamedTuple):
    """A stored brief a record may be, as far as matching needs it."""

    id: int
    key: str | None
    url: str | None
    draft: bool
    published_on: date | None


class SameDocuments:
    """The same-document and draft/final bookkeeping of one write (one session)."""

    def __init__(self, session: Session, now: datetime | None) -> None:
        self.session = session
        self.now = now  # None: only finding, never storing
        self._by_key: dict[str, list[_Candidate]] = {}
        self._by_url: dict[str, list[_Candidate]] = {}
        self._facts: dict[int, tuple[str, str | None, bool]] = {}  # id(record) -> its keys
        self._originals: dict[int, BriefRecord] = {}  # id(written record) -> as it came
        self._roles: dict[int, set[str]] = {}  # brief id -> roles of its stored parts
        self._parts: dict[int, dict[str, BriefPart]] = {}  # brief id -> its parts by role
        self._loaded: set[int] = set()  # briefs whose parts were read

    def _keys(self, record: BriefRecord) -> tuple[str, str | None, bool]:
        """(document key, official URL key, draft) of a record, computed once."""
        found = self._facts.get(id(record))
        if found is None:
            found = (
                document_key(record.title, record.title_original),
                official_url(record.links),
                is_draft(record.title, record.title_original),
            )
            self._facts[id(record)] = found
        return found

    def prepare(self, records: Iterable[BriefRecord], existing: Iterable[Brief] = ()) -> None:
        """Read the stored briefs any of these records could be (their keys, not the
        briefs), and the parts of those and of the briefs the records' identities found
        (`existing`): a few queries a file."""
        self._catch_up()
        policy = [self._keys(r) for r in records if r.kind is BriefKind.POLICY]
        keys = {key for key, _, _ in policy} - {""}
        urls = {url for _, url, _ in policy if url}
        found: list[_Candidate] = []
        if keys or urls:
            found = [
                _Candidate(*row)
                for row in self.session.execute(
                    select(
                        Brief.id,
                        Brief.document_key,
                        Brief.document_url,
                        Brief.draft,
                        Brief.published_on,
                    ).where(
                        or_(
                            Brief.document_key.in_(sorted(keys)),
                            Brief.document_url.in_(sorted(urls)),
                        )
                    )
                )
            ]
        ids = sorted({c.id for c in found} | {b.id for b in existing})
        for chunk in _chunks(ids):
            for part in self.session.scalars(
                select(BriefPart).where(BriefPart.brief_id.in_(chunk))
            ):
                self._parts.setdefault(part.brief_id, {})[part.role] = part
                self._roles.setdefault(part.brief_id, set()).add(part.role)
        self._loaded.update(ids)
        for candidate in found:
            if candidate.key:
                self._by_key.setdefault(candidate.key, []).append(candidate)
            if candidate.url:
                self._by_url.setdefault(candidate.url, []).append(candidate)

    def _catch_up(self) -> None:
        """Keys for briefs stored before migration 0018 (once: "" marks a brief done)."""
        while True:
            rows = self.session.execute(
                select(Brief.id, Brief.title, Brief.title_original, Brief.links)
                .where(Brief.document_key.is_(None))
                .limit(_CATCH_UP_CHUNK)
            ).all()
            if not rows:
                return
            self.session.execute(
                update(Brief),
                [
                    {
                        "id": brief_id,
                        "document_key": document_key(title, original),
                        "document_url": official_url(links or []),
                        "draft": is_draft(title, original),
                    }
                    for brief_id, title, original, links in rows
                ],
            )

    def _match(self, record: BriefRecord) -> Brief | None:
        key, url, draft = self._keys(record)
        role = role_of(record)
        for candidate in self._by_url.get(url or "", []):
            if candidate.draft == draft:
                return self.session.get(Brief, candidate.id)
        for candidate in self._by_key.get(key, []) if key else []:
            # By name, a document joins the other kind of source only: two tracker entries
            # of one name are the tracker's own business (matching.py, moved dates).
            if candidate.draft != draft or role in self._roles.get(candidate.id, {COVERAGE}):
                continue
            dates = (record.published_on, candidate.published_on)
            if dates[0] and dates[1] and abs(dates[0] - dates[1]) > DATE_SLACK:
                continue
            return self.session.get(Brief, candidate.id)
        return None

    def join(
        self, record: BriefRecord, brief: Brief | None
    ) -> tuple[Brief | None, BriefRecord, bool]:
        """The stored brief this record is (the one its identity found, else the same
        document), the record to write (merged with the brief's other part, if any), and
        whether it was joined with another source: then the stored facts it lacks are the
        other source's, not losses (losses.py)."""
        if record.kind is not BriefKind.POLICY:
            return brief, record, False
        if brief is None:
            brief = self._match(record)
        if brief is None:
            return None, record, False
        role = role_of(record)
        if brief.id not in self._loaded:  # a brief prepare did not foresee (a moved date)
            self._parts[brief.id] = {
                p.role: p
                for p in self.session.scalars(
                    select(BriefPart).where(BriefPart.brief_id == brief.id)
                )
            }
            self._loaded.add(brief.id)
        parts = self._parts.get(brief.id, {})
        other_role = COVERAGE if role == PRIMARY else PRIMARY
        if other_role in parts:
            other = record_of(parts[other_role].record, other_role)
        elif not parts and role == PRIMARY:
            other = record_of_brief(brief)  # stored before parts were: a tracker's entry
        else:
            return brief, record, False
        primary, coverage = (record, other) if role == PRIMARY else (other, record)
        merged = merge(primary, coverage, record.line)
        self._originals[id(merged)] = record
        return brief, merged, True

    def stored(self, written: Sequence[tuple[int, BriefRecord]], document_id: int) -> None:
        """After the write: each brief's part, keys and draft flag; drafts linked to their
        final versions, with a pending notice for each draft finalised now. A few
        statements for the whole file, not a few per brief."""
        policy = [(i, r) for i, r in written if r.kind is BriefKind.POLICY]
        if not policy:
            return
        now = self.now or datetime.now().astimezone()
        stored_parts = {
            (brief_id, role): part
            for brief_id, parts in self._parts.items()
            for role, part in parts.items()
        }
        for chunk in _chunks([i for i, _ in policy if i not in self._loaded]):
            for stored in self.session.scalars(
                select(BriefPart).where(BriefPart.brief_id.in_(chunk))
            ):
                stored_parts[(stored.brief_id, stored.role)] = stored
        keys: list[dict[str, Any]] = []
        new_parts: list[dict[str, Any]] = []  # inserted in one statement
        for brief_id, record in policy:
            original = self._originals.get(id(record), record)
            role = role_of(original)
            part = stored_parts.get((brief_id, role))
            data = record_json(original)
            if part is None:
                new_parts.append(
                    {
                        "brief_id": brief_id,
                        "role": role,
                        "record": data,
                        "source_document_id": document_id,
                        "updated_at": now,
                    }
                )
            else:
                part.record = data
                part.source_document_id = document_id
                part.updated_at = now
            key, url, draft = self._keys(record)
            keys.append({"id": brief_id, "document_key": key, "document_url": url, "draft": draft})
        if new_parts:
            self.session.execute(insert(BriefPart), new_parts)
        self.session.flush()
        self.session.execute(update(Brief), keys)  # by primary key, one statement
        self._link_drafts(keys, dict(policy), now)

    def _link_drafts(
        self, keys: list[dict[str, Any]], records: dict[int, BriefRecord], now: datetime
    ) -> None:
        named = {row["document_key"] for row in keys if row["document_key"]}
        if not named:
            return
        same: dict[str, list[tuple[int, bool, int | None]]] = {}
        for chunk in _chunks(sorted(named)):
            rows = self.session.execute(
                select(Brief.id, Brief.document_key, Brief.draft, Brief.final_id).where(
                    Brief.document_key.in_(chunk)
                )
            )
            for brief_id, key, draft, final_id in rows:
                same.setdefault(key or "", []).append((brief_id, draft, final_id))
        links: list[dict[str, Any]] = []
        finalised: list[tuple[int, int]] = []  # (draft, final) linked now
        for row in keys:
            others = [o for o in same.get(row["document_key"] or "", []) if o[0] != row["id"]]
            if row["draft"]:
                finals = [o[0] for o in others if not o[1]]
                if finals:  # the final came first: nothing to tell
                    links.append({"id": row["id"], "final_id": max(finals)})
                continue
            for draft_id, draft, final_id in others:
                if draft and final_id is None:
                    links.append({"id": draft_id, "final_id": row["id"]})
                    finalised.append((draft_id, row["id"]))
        if not links:
            return
        self.session.execute(update(Brief), links)
        known = set(
            self.session.scalars(
                select(Finalisation.draft_id).where(
                    Finalisation.draft_id.in_([d for d, _ in finalised])
                )
            )
        )
        for draft_id, final_id in finalised:
            draft_brief = self.session.get(Brief, draft_id)
            if draft_id in known or draft_brief is None:
                continue
            self.session.add(
                Finalisation(
                    draft_id=draft_id,
                    final_id=final_id,
                    changes=target_changes(
                        record_of_brief(draft_brief).goals, records[final_id].goals
                    ),
                    created_at=now,
                )
            )
        self.session.flush()


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def find_brief(session: Session, record: BriefRecord) -> Brief | None:
    """The stored brief a record was written into when it joined another document's brief
    (its own identity names no brief then)."""
    documents = SameDocuments(session, None)
    documents.prepare([record])
    return documents._match(record)


def provenance_lines(session: Session, brief: Brief) -> list[str]:
    """What `show` says of where a brief comes from: the primary text and the tracker
    coverage it joins, its draft or final version."""
    lines: list[str] = []
    parts = {
        p.role: p for p in session.scalars(select(BriefPart).where(BriefPart.brief_id == brief.id))
    }
    if PRIMARY in parts and COVERAGE in parts:
        primary = record_of(parts[PRIMARY].record, PRIMARY)
        coverage = record_of(parts[COVERAGE].record, COVERAGE)
        source = primary.links[0] if primary.links else "the document's text"
        tracker = parts[COVERAGE]
        issue = tracker_name(session, tracker.source_document_id)
        by = f" ({coverage.comment_author} comment)" if coverage.comment_author else ""
        lines.append(
            f"Primary text: {source}. Tracker coverage: {issue}{by}; its summary and comment"
            " are joined here."
        )
    if brief.draft and brief.final_id is not None:
        final = session.get(Brief, brief.final_id)
        if final is not None:
            lines.append(f"Draft for comments; final version: {final.ref} ({final.title}).")
    elif brief.draft:
        lines.append("Draft for comments; no final version yet.")
    drafts = session.scalars(select(Brief).where(Brief.final_id == brief.id)).all()
    for draft in drafts:
        lines.append(f"Final version of the draft {draft.ref} ({draft.title}).")
    return lines


def tracker_name(session: Session, document_id: int | None) -> str:
    if document_id is None:
        return "a tracker"
    document = session.get(SourceDocument, document_id)
    if document is None:
        return "a tracker"
    return document.publication or document.name
