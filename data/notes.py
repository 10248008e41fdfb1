"""A workspace's notes on briefs: written, listed with a brief, and searched within that
workspace only (the same analysis as the shared index, so `storage` finds "stored")."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import TeamNote
from .search.analysis import terms

MAX_NOTE_CHARS = 1000
MAX_NOTES_SEARCHED = 5000  # a workspace's newest notes, for its searches


@dataclass(frozen=True)
class NoteView:
    brief_id: int
    author: str
    created_at: datetime
    text: str


def add_note(
    session: Session, team: str, brief_id: int, author: str, text: str, now: datetime
) -> NoteView:
    note = TeamNote(team_id=team, brief_id=brief_id, author=author, created_at=now, text=text)
    session.add(note)
    session.flush()
    return _view(note)


def notes_for(session: Session, team: str, brief_ids: Collection[int]) -> dict[int, list[NoteView]]:
    """The team's notes on these briefs, oldest first."""
    if not brief_ids:
        return {}
    found: dict[int, list[NoteView]] = {}
    rows = session.scalars(
        select(TeamNote)
        .where(TeamNote.team_id == team, TeamNote.brief_id.in_(list(brief_ids)))
        .order_by(TeamNote.created_at, TeamNote.id)
    )
    for note in rows:
        found.setdefault(note.brief_id, []).append(_view(note))
    return found


def team_has_notes(session: Session, team: str) -> bool:
    """Whether the team wrote any note: one index lookup (team_id leads an index), no rows."""
    found = session.scalar(select(TeamNote.id).where(TeamNote.team_id == team).limit(1))
    return found is not None


def search_notes(session: Session, team: str, words: Collection[str]) -> list[NoteView]:
    """The team's notes holding every one of the words (as analysed terms), newest first."""
    wanted = {term for word in words for term in terms(word)}
    if not wanted:
        return []
    rows = session.scalars(
        select(TeamNote)
        .where(TeamNote.team_id == team)
        .order_by(TeamNote.created_at.desc(), TeamNote.id.desc())
        .limit(MAX_NOTES_SEARCHED)
    )
    return [_view(note) for note in rows if wanted <= set(terms(note.text))]


def _view(note: TeamNote) -> NoteView:
    return NoteView(note.brief_id, note.author, note.created_at, note.text)
