"""`note b2 <text>`: a workspace's notes on a brief, shown in `show`, in digests, and found by
the workspace's own searches (never another workspace's)."""

from __future__ import annotations

import textwrap

from sqlalchemy.orm import Session

from ..data.briefs import get_brief, parse_brief_ref
from ..data.errors import UserError
from ..data.notes import (
    MAX_NOTE_CHARS,
    NoteView,
    add_note,
    notes_for,
    search_notes,
    team_has_notes,
)
from .context import Context
from .replies import Button, Line, Person, Reply, Section
from .request import Request

SHOWN_IN_SEARCH = 3
# Workspaces seen with notes (in this process): their searches look in their notes at once.
# Only "has notes" is kept: a workspace without any is asked again on each search (one index
# lookup), so a note written in any process is found by the next search. A kept workspace
# whose notes went since only costs a search that finds none.
_TEAMS_WITH_NOTES: set[str] = set()


def note(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    ref, _, body = text.strip().partition(" ")
    brief_id = parse_brief_ref(ref) if ref else None
    if brief_id is None:
        raise UserError("Which brief? `/policy note b2 Expect a final version in spring.`")
    body = " ".join(body.split())
    if len(body) > MAX_NOTE_CHARS:
        raise UserError(
            f"A note holds up to {MAX_NOTE_CHARS} characters (this one has {len(body)})."
        )
    brief = get_brief(session, brief_id)
    if brief is None:
        raise UserError(f"There is no brief `{ref[:20]}`; `/policy latest` lists recent ones.")
    if not body:
        existing = notes_for(session, ctx.team_id, [brief.id]).get(brief.id, [])
        reply = Reply(
            text=f"{len(existing) or 'No'} team note{'s' if len(existing) != 1 else ''} on {brief.ref}",
            notes=[f"Add one: `/policy note {brief.ref} <text>`."],
        )
        if existing:
            reply.sections.append(notes_section(existing, ctx))
        return reply
    if len(body) > MAX_NOTE_CHARS:
        raise UserError(
            f"A note holds up to {MAX_NOTE_CHARS} characters (this one has {len(body)})."
        )
    add_note(session, ctx.team_id, brief.id, ctx.user_id, body, ctx.now)
    return Reply(
        text=f"Noted on {brief.ref} ({textwrap.shorten(brief.title, 80, placeholder=' …')}): {body}",
        notes=["Only your workspace sees it: in `show`, digests and searches."],
        buttons=[Button(f"Show {brief.ref}", f"show {brief.ref}")],
    )


def notes_section(notes: list[NoteView], ctx: Context) -> Section:
    return Section("Team notes", tuple(note_line(n, ctx) for n in notes))


def note_line(note: NoteView, ctx: Context, prefix: str = "") -> Line:
    """`<who> on 29 Nov 2026: <text>`, the author a Person (a mention in Slack)."""
    when = note.created_at.astimezone(ctx.zone)
    author = Person(note.author, ctx.user_label if note.author == ctx.user_id else "")
    return Line((prefix, author, f" on {when.day} {when:%b %Y}: {note.text}"))


def add_notes_to_show(session: Session, ctx: Context, brief_id: int, reply: Reply) -> None:
    found = notes_for(session, ctx.team_id, [brief_id]).get(brief_id, [])
    if found:
        reply.sections.append(notes_section(found, ctx))
    reply.buttons.append(Button("Add note", f"note b{brief_id}"))


def notes_matching(session: Session, ctx: Context, words: list[str]) -> list[NoteView]:
    """The asking workspace's notes that hold every search word (no other workspace's);
    most workspaces have none, and then their notes are not read at all."""
    if not words:
        return []
    if ctx.team_id not in _TEAMS_WITH_NOTES:
        if not team_has_notes(session, ctx.team_id):
            return []
        _TEAMS_WITH_NOTES.add(ctx.team_id)
    return search_notes(session, ctx.team_id, words)


def add_noted_section(reply: Reply, noted: list[NoteView], ctx: Context) -> None:
    """Briefs the shared text does not rank but the workspace's own notes mention."""
    if not noted:
        return
    lines = []
    for found in noted[:SHOWN_IN_SEARCH]:
        lines.append(note_line(found, ctx, prefix=f"b{found.brief_id} \u2014 "))
    if len(noted) > SHOWN_IN_SEARCH:
        lines.append(Line((f"\u2026and {len(noted) - SHOWN_IN_SEARCH} more notes.",)))
    reply.sections.append(Section("Also in your team's notes", tuple(lines)))
