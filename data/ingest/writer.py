"""Store parsed tracker issues: one transaction per file, idempotent, briefs deduplicated."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..backends import backend_for
from ..bodies import BodyRegistry, full_names_in
from ..db import SessionFactory, unit_of_work
from ..models import (
    Brief,
    Goal,
    GoalStatus,
    IssuingBody,
    SourceDocument,
    VocabularyTerm,
    brief_bodies,
)
from ..novelty import Novelty, decide_archive, new_since_value
from ..search.aliases import learn_aliases
from ..search.analysis import distinct_words
from ..search.engines import IndexedFields, engine_for
from ..search.fields import fields_of, indexed_fields
from .files import DEFAULT_MAX_BYTES, read_tracker_file
from .losses import keep_stored_facts
from .matching import identity_key, match_goals, moved_by_identity
from .parser import parse_bytes
from .records import BriefRecord, IssueRecord
from .same_document import SameDocuments
from .text import ParseError


@dataclass
class IngestSummary:
    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    already_ingested: bool = False  # this very file was stored before
    archive: bool = False  # the file's briefs were stored as archive (data/novelty.py)
    added_new: int = 0  # of `added`: briefs digests will post
    added_archive: int = 0  # of `added`: archive, searchable, never posted as new
    marked_new: int = 0  # stored briefs an explicit --new made new now
    marked_archive: int = 0  # stored briefs an explicit --archive took out of "new"
    # Facts the store has that this file lacks (a goal, a deadline, a date): kept, unless
    # `removed` says they were removed on an explicit request (losses.py).
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    @property
    def novelty_label(self) -> str:
        """ "5 new, 12 archive: not posted" (empty: nothing was added or re-marked)."""
        return novelty_label(
            self.added_new + self.marked_new, self.added_archive + self.marked_archive
        )


def novelty_label(new: int, archive: int) -> str:
    parts = []
    if new:
        parts.append(f"{new} new")
    if archive:
        parts.append(f"{archive} archive: not posted")
    return ", ".join(parts)


def brief_identity(record: BriefRecord) -> str:
    """What makes two tracker entries the same brief, whatever else was edited."""
    key = identity_key(record.kind, record.title, record.title_original, record.summary)
    raw = f"{record.kind}|{record.published_on}|{key}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _content_hash(record: BriefRecord) -> str:
    payload = {
        "title": record.title,
        "title_original": record.title_original,
        "bodies": record.bodies,
        "bodies_more": record.bodies_more,
        "published_on": str(record.published_on),
        "summary": record.summary,
        "comment": record.comment,
        "comment_author": record.comment_author,
        "links": record.links,
        "label": record.source_label,
        "goals": [
            [
                g.text,
                *(
                    (
                        str(g.deadline.due_on),
                        str(g.deadline.precision),
                        str(g.deadline.window_start),
                    )
                    if g.deadline
                    else ()
                ),
                str(g.kind),
            ]
            for g in record.goals
        ],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class IssueWriter:
    """Writes one parsed issue inside the caller's transaction.

    New briefs are written set-based (a statement per table); `set_based=False` writes
    them as updates are written, an ORM object graph per brief: slower, and the reference
    the set-based path is tested against (tests/data/test_ingest_set_based.py)."""

    def __init__(self, session: Session, now: datetime, set_based: bool = True) -> None:
        self.session = session
        self.now = now
        self.bodies = BodyRegistry(session)
        self.set_based = set_based
        self.same = SameDocuments(session, now)  # one document reached twice is one brief

    def write(
        self,
        issue: IssueRecord,
        content_hash: str,
        novelty: Novelty = Novelty.AUTO,
        replace_facts: bool = False,
    ) -> IngestSummary:
        """Store the issue. `novelty` says whether its briefs count as new (AUTO: by the
        issue's date); `replace_facts` applies an update's removals of stored goals,
        deadlines and dates, which are otherwise kept and named in `summary.kept`."""
        archive = decide_archive(novelty, issue.issue_date, self.now)
        summary = IngestSummary(issue.source, warnings=list(issue.warnings), archive=archive)
        self.bodies.ensure_known()
        document = self.session.scalar(
            select(SourceDocument).where(SourceDocument.content_hash == content_hash)
        )
        summary.already_ingested = document is not None
        if document is None:
            document = SourceDocument(
                name=Path(issue.source).name[:500],
                content_hash=content_hash,
                issue_date=issue.issue_date,
                ingested_at=self.now,
                brief_count=len(issue.briefs),
                unassigned_links=issue.unassigned_links,
                publication=issue.publication,
            )
            self.session.add(document)
            self.session.flush()

        records = {brief_identity(r): r for r in issue.briefs}  # duplicates in one file: once
        summary.unchanged += len(issue.briefs) - len(records)
        existing = {
            b.identity: b
            for b in self.session.scalars(select(Brief).where(Brief.identity.in_(list(records))))
        }
        full_names = full_names_in(" ".join(f"{r.summary} {r.comment}" for r in issue.briefs))
        self.same.prepare(records.values(), existing.values())
        written: list[tuple[int, BriefRecord]] = []
        changed: list[Brief] = []
        fresh: list[tuple[str, BriefRecord, str]] = []
        added_one_by_one: list[tuple[Brief, BriefRecord]] = []  # set_based=False only
        moved = moved_by_identity(self.session, records, existing)
        for identity, record in records.items():
            brief = existing.get(identity)
            if identity in moved:
                brief = moved[identity].brief
            found = self.same.join(record, brief, replace_facts)
            brief, record = found.brief, found.record
            if found.joined:  # what the other source states is no loss; join() kept the rest
                (summary.removed if replace_facts else summary.kept).extend(found.removals)
            elif brief is not None:
                kept = keep_stored_facts(record, brief)
                if kept.removals and replace_facts:
                    summary.removed += kept.removals
                elif kept.removals:
                    summary.kept += kept.removals
                    record = kept.record
            if brief is not None:
                self._mark(brief, novelty, summary)
            if identity in moved and (brief is None or brief.published_on != record.published_on):
                summary.warnings.append(f"line {record.line}: {moved[identity].warning}")
            if identity in moved and brief is not None:
                # A corrected date: the stored brief takes the new identity.
                brief.identity = brief_identity(record)
            content = _content_hash(record)
            if brief is not None and brief.content_hash == content:
                summary.unchanged += 1
                continue
            if brief is None:
                summary.added += 1
                if archive:
                    summary.added_archive += 1
                else:
                    summary.added_new += 1
                if self.set_based:
                    fresh.append((identity, record, content))
                    continue
                brief = Brief(
                    identity=identity,
                    ingested_at=self.now,
                    new_since=new_since_value(archive, self.now),
                )
                self.session.add(brief)
                self._fill(brief, record, content, document.id, full_names | record.body_full_names)
                changed.append(brief)
                added_one_by_one.append((brief, record))
                continue
            summary.updated += 1
            self._fill(brief, record, content, document.id, full_names | record.body_full_names)
            changed.append(brief)
            written.append((brief.id, record))
        self.session.flush()
        written += [(brief.id, record) for brief, record in added_one_by_one]  # ids now known
        self._number_bodies(changed)
        indexed = [(b.id, indexed_fields(b)) for b in changed]
        inserted = self._insert_new(fresh, document.id, full_names, archive)
        indexed += inserted
        written += [(i, r) for (i, _), (_, r, _) in zip(inserted, fresh, strict=True)]
        self.same.stored(written, document.id)
        engine_for(self.session).index(self.session, indexed)
        self._add_vocabulary(changed)
        # Terms the issue defines in parentheses become synonyms (data/search/aliases.py).
        learn_aliases(self.session, (". ".join(aliases_text(r)) for r in issue.briefs))
        return summary

    def _insert_new(
        self,
        fresh: Sequence[tuple[str, BriefRecord, str]],
        document_id: int,
        full_names: dict[str, str],
        archive: bool,
    ) -> list[tuple[int, IndexedFields]]:
        """New briefs as set-based inserts (a statement per table, not an ORM object graph
        per brief): the bulk of a first ingestion. Returns what the search index needs."""
        if not fresh:
            return []
        bodies = [
            self._bodies_of(record, full_names | record.body_full_names) for _, record, _ in fresh
        ]
        self.session.flush()  # bodies first met in this file get their ids
        rows = [
            {
                "identity": identity,
                "content_hash": content,
                "kind": record.kind,
                "title": record.title,
                "title_original": record.title_original,
                "published_on": record.published_on,
                "summary": record.summary,
                "comment": record.comment,
                "comment_author": record.comment_author,
                "links": list(record.links),
                "bodies_more": record.bodies_more,
                "source_label": record.source_label,
                "source_document_id": document_id,
                "ingested_at": self.now,
                "updated_at": self.now,
                "new_since": new_since_value(archive, self.now),
                # No server default (migration 0020) and COPY applies no client default;
                # same_document.py sets the real flag and keys right after.
                "draft": False,
            }
            for identity, record, content in fresh
        ]
        # Ids taken up front and plain inserts (no RETURNING, no ORM bulk machinery; COPY on
        # PostgreSQL): there a RETURNING insert of 500 rows was one statement of 8,000
        # placeholders that psycopg parsed anew each time.
        ids = _reserve_ids(self.session, _BRIEFS, len(rows))
        for brief_id, row in zip(ids, rows, strict=True):
            row["id"] = brief_id
        backend = backend_for(self.session)
        backend.insert_rows(self.session.connection(), _BRIEFS, rows)
        links = [
            {"brief_id": brief_id, "body_id": body.id, "position": position}
            for brief_id, found in zip(ids, bodies, strict=True)
            for position, body in enumerate(found)
        ]
        backend.insert_rows(self.session.connection(), brief_bodies, links)
        goals = [
            {
                "brief_id": brief_id,
                "position": position,
                "text": goal.text,
                "due_on": goal.deadline.due_on if goal.deadline else None,
                "precision": str(goal.deadline.precision) if goal.deadline else None,
                "window_start": goal.deadline.window_start if goal.deadline else None,
                "status": GoalStatus.OPEN,
                "kind": goal.kind,
            }
            for brief_id, (_, record, _) in zip(ids, fresh, strict=True)
            for position, goal in enumerate(record.goals)
        ]
        backend.insert_rows(self.session.connection(), _GOALS, goals)
        self._insert_vocabulary(
            _vocabulary(
                [(record.title, record.summary) for _, record, _ in fresh],
                [body for found in bodies for body in found],
            )
        )
        return [
            (
                brief_id,
                fields_of(
                    record.title,
                    record.title_original,
                    found,
                    record.source_label,
                    record.summary,
                    [g.text for g in record.goals],
                    record.comment_author,
                    record.comment,
                ),
            )
            for brief_id, (_, record, _), found in zip(ids, fresh, bodies, strict=True)
        ]

    def _bodies_of(self, record: BriefRecord, full_names: dict[str, str]) -> list[IssuingBody]:
        """The record's issuing bodies in the tracker's order, then the one its source
        label names ("(SAMR notice)")."""
        found = list(dict.fromkeys(self.bodies.resolve(name, full_names) for name in record.bodies))
        label_body = self._label_body(record.source_label)
        if label_body is not None and label_body not in found:
            found.append(label_body)
        return found

    def _mark(self, brief: Brief, novelty: Novelty, summary: IngestSummary) -> None:
        """An admin's explicit word on a stored brief: --new makes an archive brief new
        from now (the next digest posts it once), --archive takes a brief out of "new"."""
        if novelty is Novelty.NEW and brief.new_since is None:
            brief.new_since = self.now
            summary.marked_new += 1
        elif novelty is Novelty.ARCHIVE and brief.new_since is not None:
            brief.new_since = None
            summary.marked_archive += 1

    def _fill(
        self,
        brief: Brief,
        record: BriefRecord,
        content: str,
        document_id: int,
        full_names: dict[str, str],
    ) -> None:
        brief.content_hash = content
        brief.kind = record.kind
        brief.title = record.title
        brief.title_original = record.title_original
        brief.published_on = record.published_on
        brief.summary = record.summary
        brief.comment = record.comment
        brief.comment_author = record.comment_author
        brief.links = list(record.links)
        brief.bodies_more = record.bodies_more
        brief.source_label = record.source_label
        brief.source_document_id = document_id
        brief.updated_at = self.now
        brief.bodies = self._bodies_of(record, full_names)
        self._fill_goals(brief, record)

    def _label_body(self, label: str | None) -> IssuingBody | None:
        """ "(SAMR notice)" names its issuing body; "(Reuters)" does not."""
        if not label:
            return None
        words_ = label.split()
        if len(words_) > 1 and words_[-1].lower() in {
            "notice",
            "announcement",
            "release",
            "statement",
        }:
            return self.bodies.find(" ".join(words_[:-1]))
        return self.bodies.find(label)

    def _number_bodies(self, briefs: Sequence[Brief]) -> None:
        """Keep the bodies in the order the tracker lists them ("MIIT, MOF, NDB"): the
        association rows are ordered by `position`, which the relationship leaves at 0."""
        rows = [
            {"b": brief.id, "o": body.id, "p": position}
            for brief in briefs
            for position, body in enumerate(brief.bodies)
        ]
        if rows:
            self.session.execute(
                update(brief_bodies)
                .where(
                    brief_bodies.c.brief_id == bindparam("b"),
                    brief_bodies.c.body_id == bindparam("o"),
                )
                .values(position=bindparam("p")),
                rows,
            )

    def _fill_goals(self, brief: Brief, record: BriefRecord) -> None:
        """Goals keep their ids (reminders, calendar UIDs and every team's scorecard answers
        point at them) when a brief is edited: each new goal takes the old goal with the
        same text, else the most similar one left, else a new id."""
        old = list(brief.goals)
        # A brief joined with another source says which goal is which: the same target in
        # the document's words is the tracker's goal (same_document.py).
        joined = self.same.goal_ids(record)
        if joined is None:
            matched = match_goals([g.text for g in old], [g.text for g in record.goals])
        else:
            index_of = {goal.id: index for index, goal in enumerate(old)}
            matched = {n: index_of[i] for n, i in joined.items() if i in index_of}
        kept: list[Goal] = []
        for index, goal_record in enumerate(record.goals):
            previous = matched.get(index)
            goal = old[previous] if previous is not None else Goal(status=GoalStatus.OPEN)
            if goal.text is not None and goal.text != goal_record.text and joined is None:
                goal.status = GoalStatus.OPEN
            goal.text = goal_record.text
            deadline = goal_record.deadline
            goal.due_on = deadline.due_on if deadline else None
            goal.precision = str(deadline.precision) if deadline else None
            goal.window_start = deadline.window_start if deadline else None
            goal.kind = goal_record.kind
            kept.append(goal)
        if brief.id is not None and old:
            # (brief, position) is unique: park the survivors on free positions first.
            for offset, goal in enumerate(g for g in kept if g.id is not None):
                goal.position = -1 - offset
            brief.goals = [g for g in kept if g.id is not None]
            self.session.flush()
        for position, goal in enumerate(kept):
            goal.position = position
        brief.goals = kept

    def _add_vocabulary(self, briefs: Sequence[Brief]) -> None:
        self._insert_vocabulary(
            _vocabulary(
                [(brief.title, brief.summary) for brief in briefs],
                [body for brief in briefs for body in brief.bodies],
            )
        )

    def _insert_vocabulary(self, found: set[str]) -> None:
        if not found:
            return
        statement = backend_for(self.session).insert_ignoring_duplicates(VocabularyTerm, ["term"])
        for chunk in _chunks(sorted(found), 500):
            self.session.execute(statement, [{"term": t} for t in chunk])


_BRIEFS: Table = Brief.__table__  # type: ignore[assignment]
_GOALS: Table = Goal.__table__  # type: ignore[assignment]


def _reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` ids for new rows of `table`, the ones the database would have given them:
    the next values of its sequence on PostgreSQL; on SQLite those after the largest id
    (a writing transaction holds the database's write lock from its start, so no other
    writer takes them; and a write after a snapshot another writer changed fails)."""
    if count == 0:
        return []
    column = table.c.id
    if backend_for(session).name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, column.name)
        numbers = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return sorted(int(i) for i in session.scalars(numbers))
    largest = session.scalar(select(func.coalesce(func.max(column), 0))) or 0
    return list(range(largest + 1, largest + 1 + count))


def _vocabulary(texts: Sequence[tuple[str, str]], bodies: Iterable[IssuingBody]) -> set[str]:
    """The words "did you mean" may suggest from briefs' (title, summary) and bodies: read
    as one text, each distinct word tested once."""
    found = distinct_words(" ".join(f"{title} {summary}" for title, summary in texts))
    found.update(b.abbreviation.lower() for b in bodies)
    return {w[:100] for w in found}


def aliases_text(record: BriefRecord) -> list[str]:
    """The parts of a brief that may define a term (each goal its own sentence)."""
    return [record.title, record.summary, record.comment, *(g.text for g in record.goals)]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ingest_bytes(
    session: Session,
    raw: bytes,
    source: str,
    now: datetime,
    novelty: Novelty = Novelty.AUTO,
    replace_facts: bool = False,
) -> IngestSummary:
    """Parse and store one file in the caller's transaction."""
    issue = parse_bytes(raw, source)
    return IssueWriter(session, now).write(
        issue, hashlib.sha256(raw).hexdigest(), novelty, replace_facts
    )


def ingest_paths(
    factory: SessionFactory,
    paths: Iterable[Path],
    now: datetime,
    on_file: Callable[[Path, IngestSummary | ParseError], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    novelty: Novelty = Novelty.AUTO,
    replace_facts: bool = False,
) -> list[IngestSummary | ParseError]:
    """Ingest each file in a transaction of its own; a bad file changes nothing, and the
    files after it still run."""
    results: list[IngestSummary | ParseError] = []
    for path in paths:
        result: IngestSummary | ParseError
        try:
            raw = read_tracker_file(path, max_bytes)
            issue = parse_bytes(raw, str(path))
            digest = hashlib.sha256(raw).hexdigest()
            result = _store(factory, issue, digest, now, novelty, replace_facts)
        except ParseError as error:
            result = error
        results.append(result)
        if on_file is not None:
            on_file(path, result)
    return results


def _store(
    factory: SessionFactory,
    issue: IssueRecord,
    content_hash: str,
    now: datetime,
    novelty: Novelty,
    replace_facts: bool,
) -> IngestSummary | ParseError:
    """Write one parsed issue. Another process storing the same file (or brief) at the same
    moment makes this transaction hit a unique key: it is rolled back and run once more,
    now seeing the other's rows, so it reports them unchanged ("already ingested")."""
    for attempt in (1, 2):
        try:
            with unit_of_work(factory) as session:
                return IssueWriter(session, now).write(issue, content_hash, novelty, replace_facts)
        except IntegrityError:
            if attempt == 2:
                break
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return ParseError(issue.source, None, f"could not be stored: {reason}")
    return ParseError(
        issue.source, None, "could not be stored: another ingest kept changing the same briefs"
    )
