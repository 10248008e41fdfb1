"""A search reads the briefs it shows as plain columns: no ORM brief, goal, body or source
document is loaded on the way (their relationships load by selectin, several statements a
page), and the page costs the same few statements however many bodies and goals its briefs
have. Mapper `load` events count ORM objects; a session event counts the statements."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import ORMExecuteState, Session

from policybot.data.models import Brief, Goal, IssuingBody, SourceDocument, TeamNote
from policybot.data.notes import add_note
from policybot.handlers import briefs
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.handlers.replies import Reply
from policybot.handlers.request import Request
from tests.conftest import NOW

_MAPPED = (Brief, Goal, IssuingBody, SourceDocument)
# The tables a shown page reads (brief_bodies is read with issuing_bodies).
_BRIEF_TABLES = ("briefs", "goals", "brief_bodies", "source_documents")


@dataclass
class Reads:
    loaded: list[str] = field(default_factory=list)  # ORM objects of the brief tables
    brief_statements: int = 0  # statements that name one of the brief tables


@contextmanager
def counting(session: Session) -> Iterator[Reads]:
    reads = Reads()

    def on_load(target: Any, _context: Any) -> None:
        reads.loaded.append(type(target).__name__)

    def on_execute(state: ORMExecuteState) -> None:
        sql = str(state.statement).lower()
        if any(f"from {t}" in sql or f"join {t}" in sql for t in _BRIEF_TABLES):
            reads.brief_statements += 1

    for mapped in _MAPPED:
        event.listen(mapped, "load", on_load)
    event.listen(session, "do_orm_execute", on_execute)
    try:
        yield reads
    finally:
        event.remove(session, "do_orm_execute", on_execute)
        for mapped in _MAPPED:
            event.remove(mapped, "load", on_load)


def _run(session: Session, command: str, text: str, page: int = 1) -> tuple[Reply, Reads]:
    ctx = Context(now=NOW)
    session.expunge_all()  # nothing already in the identity map answers for the search
    with counting(session) as reads:
        if command == "latest":
            reply = briefs.latest(Request(session, ctx, text, page))
        else:
            reply = briefs.search(Request(session, ctx, text, page))
    return reply, reads


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(
    ("command", "text", "page"),
    [
        ("search", "storage", 1),
        ("search", "industrial", 2),
        ("search", "data body:MIIT", 1),
        ("search", "who issued standards", 1),
        ("search", "battery -storage", 1),
        ("latest", "", 1),
        ("latest", "12", 2),
        ("latest", "storage", 1),
        # Emptied by its dates: the hint names the newest brief without them.
        ("search", "body:MIIT since:2031", 1),
    ],
)
def test_a_search_loads_no_orm_brief(session: Session, command: str, text: str, page: int) -> None:
    reply, reads = _run(session, command, text, page)
    shown = reply.briefs or [b for b in (reply.detail,) if b]
    assert shown or "the newest b" in " ".join(reply.notes), reply.text
    assert reads.loaded == []


@pytest.mark.usefixtures("corpus")
def test_a_page_costs_the_same_statements_whatever_it_shows(session: Session) -> None:
    """A page of 5 briefs with their bodies and goals, and a page of 1: the same statements
    (the count, the page's ids, its briefs, their bodies, their goals), never one per brief
    or per relation; a ranked search's count and ids come from the index."""
    five, five_reads = _run(session, "latest", "5")
    one, one_reads = _run(session, "latest", "1")
    assert len(five.briefs) == 5 and len(one.briefs) == 1
    assert five_reads.brief_statements == one_reads.brief_statements <= 5
    ranked, ranked_reads = _run(session, "search", "industrial")
    assert len(ranked.briefs) == 5
    assert sum(len(b.goals) + len(b.bodies) for b in ranked.briefs) > 5
    # The page's briefs, their bodies, their goals, and one id lookup of the index's.
    assert ranked_reads.brief_statements <= 4


def _team_notes_reads(session: Session, ctx: Context, text: str) -> tuple[Reply, list[str]]:
    statements: list[str] = []

    def on_execute(state: ORMExecuteState) -> None:
        sql = str(state.statement).lower()
        if "team_notes" in sql:
            statements.append(sql)

    event.listen(session, "do_orm_execute", on_execute)
    try:
        return briefs.search(Request(session, ctx, text, 1)), statements
    finally:
        event.remove(session, "do_orm_execute", on_execute)


@pytest.mark.usefixtures("corpus")
def test_a_team_without_notes_reads_none_and_sees_a_new_note_at_once(session: Session) -> None:
    """A workspace with no notes costs one index lookup, not a read of notes; once a note is
    written (by any process: here another session), the next search finds it; gone again,
    the search no longer shows it."""
    ctx = Context(now=NOW, team_id=f"T{uuid.uuid4().hex[:10]}", user_id="U1")
    reply, statements = _team_notes_reads(session, ctx, "zanzibarite")
    assert reply.text.startswith("No briefs match")
    assert len(statements) == 1 and "team_notes.text" not in statements[0]
    brief_id = session.scalars(select(Brief.id).limit(1)).one()
    with session.begin_nested():
        add_note(session, ctx.team_id, brief_id, "U1", "watch the zanzibarite quota", NOW)
    reply, _statements = _team_notes_reads(session, ctx, "zanzibarite")
    assert reply.text.startswith("No brief matches zanzibarite; your team's notes do.")
    assert "zanzibarite quota" in render_text(reply)
    other = Context(now=NOW, team_id=f"T{uuid.uuid4().hex[:10]}", user_id="U2")
    assert "your team's notes" not in briefs.search(Request(session, other, "zanzibarite", 1)).text
    session.execute(delete(TeamNote).where(TeamNote.team_id == ctx.team_id))
    reply, _statements = _team_notes_reads(session, ctx, "zanzibarite")
    assert reply.text.startswith("No briefs match")
    assert "zanzibarite quota" not in render_text(reply)
