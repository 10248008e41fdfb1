"""One document, one brief: the policy document itself (its official page, a pasted notice)
and a tracker's entry about it are joined, however they arrive and in whichever order.

Two policy briefs are the same document when they share the official URL, or the
document's own name (the 《》 name, without its wrapping or draft marker, primary.py's
document_name) within DATE_SLACK of each other's date, both drafts or both not. What each
kind of source said is kept as a part (BriefPart: "primary", "coverage"); the brief's fields
are rebuilt from both: the document's name, date, bodies and targets, the tracker's English
title, summary and analyst comment, all links with the official text first.

A join loses nothing and keeps identities (joined_goals, GoalJoin): a tracker goal and a
document goal stating the same target (the same deadline and window) are one goal, shown in
the document's words (the tracker's English paraphrase stays in its part), that keeps the
stored goal's id, so teams' answers, the reminder ledger and calendar UIDs stay with it.
Goals only one source states are all kept. A stored goal neither source states any more is
kept and named, as losses.py does for a tracker's own update, unless Replace was asked for.

A draft for comments (征求意见稿) and the same document without the marker are not joined
but linked: the draft's `final_id` names the final, and a Finalisation records what changed
in its targets for the channels told of the draft (scheduler/kinds/finalised.py).

The writer (writer.py) calls `SameDocuments.prepare` with a file's records, `join` for each
record before it looks at the stored brief, and `stored` with the briefs it wrote.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from ..models import (
    Brief,
    BriefKind,
    BriefPart,
    Finalisation,
    Goal,
    GoalKind,
    SourceDocument,
)
from ..sources import host_parts, is_official, official_first
from ..views import deadline_label
from .deadlines import Deadline, Precision
from .matching import match_goals
from .primary import document_name, is_draft
from .records import BriefRecord, GoalRecord
from .text import has_cjk

PRIMARY = "primary"
COVERAGE = "coverage"
DATE_SLACK = timedelta(days=45)  # a tracker dates a document by its release, not signing
_KEY_MAX = 200
_CATCH_UP_CHUNK = 500
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
# What a paraphrase keeps of a target: its figures ("3-5", "100", "10%") and Latin terms ("5G",
# "AI", "1+N"), the same in the Chinese step and the tracker's English line.
_TERM = re.compile(r"[0-9]+(?:[.,][0-9]+)?%?|[a-z][a-z0-9+]+", re.IGNORECASE)
_SIMILAR = 0.6  # difflib ratio above which an edited goal text is the same goal
_QUOTED = 60  # characters of a goal's text quoted in a warning


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
        goals=[joined.goal for joined in joined_goals(primary.goals, coverage.goals)],
    )
    merged.primary = True
    return merged


class GoalJoin(NamedTuple):
    """A goal of a joined brief and the words each source states it in (the document's
    first): a stored goal in either wording is this goal."""

    goal: GoalRecord
    texts: tuple[str, ...]


def _target(goal: GoalRecord) -> tuple[date, date | None] | None:
    return (goal.deadline.due_on, goal.deadline.window_start) if goal.deadline else None


def _words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _terms(goal: GoalRecord) -> set[str]:
    """The figures and Latin terms of a goal beyond its deadline's years (which every goal
    of that deadline shares)."""
    found = {t.casefold() for t in _TERM.findall(unicodedata.normalize("NFKC", goal.text))}
    if goal.deadline is not None:
        found -= {str(goal.deadline.due_on.year)}
        if goal.deadline.window_start is not None:
            found -= {str(goal.deadline.window_start.year)}
    return found


def pair_goals(document: Sequence[GoalRecord], tracker: Sequence[GoalRecord]) -> dict[int, int]:
    """{tracker index: document index} for the goals that state the same target: the same
    text; else the same deadline and window, several of one deadline paired by the figures
    and Latin terms they share, then in their order; else the same year when the one goal
    left on each side in it shares a figure or term (the tracker rounds "by June 2027" to
    "by 2027"). Two goals of different deadlines sharing nothing stay two goals: a wrong
    pair would give one target's answers and reminders to another."""
    pairs: dict[int, int] = {}
    by_text: dict[str, list[int]] = {}
    for index, goal in enumerate(document):
        by_text.setdefault(_words(goal.text), []).append(index)
    for index, goal in enumerate(tracker):
        same = [d for d in by_text.get(_words(goal.text), []) if d not in pairs.values()]
        if same:
            pairs[index] = same[0]

    def pair_in_groups(key: Any) -> None:
        groups: dict[Any, tuple[list[int], list[int]]] = {}
        for index, goal in enumerate(document):
            if index not in pairs.values() and goal.deadline is not None:
                groups.setdefault(key(goal), ([], []))[0].append(index)
        for index, goal in enumerate(tracker):
            if index not in pairs and goal.deadline is not None:
                groups.setdefault(key(goal), ([], []))[1].append(index)
        for documents, trackers in groups.values():
            if key is _target:
                pairs.update(_pair_within(document, tracker, documents, trackers))
            elif (
                len(documents) == 1
                and len(trackers) == 1
                and _terms(document[documents[0]]) & _terms(tracker[trackers[0]])
            ):
                pairs[trackers[0]] = documents[0]

    pair_in_groups(_target)
    pair_in_groups(lambda g: (g.deadline.due_on.year, g.deadline.window_start is None))
    return pairs


def _pair_within(
    document: Sequence[GoalRecord],
    tracker: Sequence[GoalRecord],
    documents: list[int],
    trackers: list[int],
) -> dict[int, int]:
    """Goals of one deadline paired: those sharing most figures and terms first, the rest
    in the order each source gives them."""
    scored = sorted(
        (
            (len(_terms(tracker[t]) & _terms(document[d])), abs(i - j), t, d)
            for i, t in enumerate(trackers)
            for j, d in enumerate(documents)
        ),
        key=lambda row: (-row[0], row[1], row[2], row[3]),  # most shared, nearest in order
    )
    pairs: dict[int, int] = {}
    for shared, _, t, d in scored:
        if shared and t not in pairs and d not in pairs.values():
            pairs[t] = d
    rest = [d for d in documents if d not in pairs.values()]
    for t, d in zip([t for t in trackers if t not in pairs], rest, strict=False):
        pairs[t] = d
    return pairs


def joined_goals(document: Sequence[GoalRecord], tracker: Sequence[GoalRecord]) -> list[GoalJoin]:
    """The goals of a document and a tracker's entry on it, each target once: the document's
    goals in its words and order (a tracker goal stating the same target joins it), then the
    tracker's goals the document does not state."""
    pairs = pair_goals(document, tracker)
    paraphrase = {d: tracker[t].text for t, d in pairs.items()}
    joined = [
        GoalJoin(goal, (goal.text, paraphrase[index]) if index in paraphrase else (goal.text,))
        for index, goal in enumerate(document)
    ]
    joined += [GoalJoin(g, (g.text,)) for index, g in enumerate(tracker) if index not in pairs]
    return joined


def match_stored(stored: Sequence[Goal], joined: Sequence[GoalJoin]) -> dict[int, int]:
    """{joined index: stored index}: the stored goal each goal of a joined brief is. A stored
    goal in either source's words is that goal (the same target, preferred); then the most
    similar text left (an edited step); then the same deadline and window, in order."""
    matched: dict[int, int] = {}
    free = list(range(len(stored)))
    for index, goal in enumerate(joined):
        words = {_words(t) for t in goal.texts}
        same = [s for s in free if _words(stored[s].text) in words]
        same.sort(key=lambda s: _stored_target(stored[s]) != _target(goal.goal))
        if same:
            matched[index] = same[0]
            free.remove(same[0])
    ratios = sorted(
        (
            (
                max(
                    difflib.SequenceMatcher(None, _words(t), _words(stored[s].text)).ratio()
                    for t in goal.texts
                ),
                index,
                s,
            )
            for index, goal in enumerate(joined)
            if index not in matched
            for s in free
        ),
        key=lambda row: (-row[0], row[1], row[2]),
    )
    for ratio, index, s in ratios:
        if ratio >= _SIMILAR and index not in matched and s in free:
            matched[index] = s
            free.remove(s)
    for index, goal in enumerate(joined):
        target = _target(goal.goal)
        same = [s for s in free if target is not None and _stored_target(stored[s]) == target]
        if index not in matched and same:
            matched[index] = same[0]
            free.remove(same[0])
    return matched


def _stored_deadline(goal: Goal) -> Deadline | None:
    if goal.due_on is None:
        return None
    return Deadline(goal.due_on, Precision(goal.precision or "day"), goal.window_start)


def _stored_target(goal: Goal) -> tuple[date, date | None] | None:
    return (goal.due_on, goal.window_start) if goal.due_on is not None else None


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f"\u201c{text[:_QUOTED]}\u2026\u201d" if len(text) > _QUOTED else f"\u201c{text}\u201d"


class Join(NamedTuple):
    """What `SameDocuments.join` found for a record."""

    brief: Brief | None  # the stored brief the record is; None: a new brief
    record: BriefRecord  # what to write (merged with the brief's other source, if any)
    joined: bool  # merged with another source: the stored facts it lacks were looked at here
    removals: list[str]  # stored facts neither source states: kept, unless replace was asked


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
        # id(written record) -> (it, {its goal index: the stored goal id it is}) for joined
        # briefs; the record is held so that its id is never another's
        self._goal_ids: dict[int, tuple[BriefRecord, dict[int, int]]] = {}

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

    def join(self, record: BriefRecord, brief: Brief | None, replace_facts: bool = False) -> Join:
        """The stored brief this record is (the one its identity found, else the same
        document), the record to write (merged with the brief's other part, if any), and
        whether it was joined with another source: then the facts the stored brief has
        beyond both sources are kept here (named in `removals`; dropped on
        `replace_facts`), and `goal_ids` says which stored goal each goal is."""
        if record.kind is not BriefKind.POLICY:
            return Join(brief, record, False, [])
        if brief is None:
            brief = self._match(record)
        if brief is None:
            return Join(None, record, False, [])
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
            return Join(brief, record, False, [])
        primary, coverage = (record, other) if role == PRIMARY else (other, record)
        merged = merge(primary, coverage, record.line)
        merged, goal_ids, removals = self._keep_stored_goals(
            brief, merged, joined_goals(primary.goals, coverage.goals), replace_facts
        )
        self._originals[id(merged)] = record
        self._goal_ids[id(merged)] = (merged, goal_ids)
        return Join(brief, merged, True, removals)

    def goal_ids(self, record: BriefRecord) -> dict[int, int] | None:
        """{goal index: stored goal id} of a record `join` merged (None: not merged): the
        writer keeps these ids, whatever the words."""
        found = self._goal_ids.get(id(record))
        return found[1] if found is not None and found[0] is record else None

    def _keep_stored_goals(
        self, brief: Brief, merged: BriefRecord, joined: list[GoalJoin], replace_facts: bool
    ) -> tuple[BriefRecord, dict[int, int], list[str]]:
        """The merged record with the stored brief's goals, deadlines and date that neither
        source states put back (unless `replace_facts`), which stored goal each goal is,
        and what was kept or removed."""
        stored = list(brief.goals)
        matched = match_stored(stored, joined)
        removals: list[str] = []
        goals = list(merged.goals)
        for index, s in matched.items():
            deadline = _stored_deadline(stored[s])
            if deadline is not None and goals[index].deadline is None:
                label = deadline_label(
                    deadline.due_on, str(deadline.precision), deadline.window_start
                )
                removals.append(
                    f"{brief.ref}: the deadline of {stored[s].ref} {_quote(stored[s].text)} ({label})"
                )
                if not replace_facts:
                    goals[index] = replace(goals[index], deadline=deadline)
        ids = {index: stored[s].id for index, s in matched.items()}
        taken = set(matched.values())
        for s, goal in enumerate(stored):
            if s in taken:
                continue
            removals.append(f"{brief.ref}: the goal {goal.ref} {_quote(goal.text)}")
            if not replace_facts:
                ids[len(goals)] = goal.id
                goals.append(GoalRecord(goal.text, _stored_deadline(goal), GoalKind(goal.kind)))
        published_on = merged.published_on
        if brief.published_on is not None and published_on is None:
            removals.append(f"{brief.ref}: its date ({brief.published_on:%d %b %Y})")
            if not replace_facts:
                published_on = brief.published_on
        if goals != merged.goals or published_on != merged.published_on:
            merged = replace(merged, goals=goals, published_on=published_on)
        return merged, ids, removals

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
