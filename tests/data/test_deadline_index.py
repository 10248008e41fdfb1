"""The goals' deadlines in the search index (data/search/goals.py) count what the database
counts: `deadlines` pages and the scorecard read from the index equal the database's own
listing and tally after ingestion, a re-ingestion that moves deadlines, a brief forgotten,
and an index rebuilt from scratch; on the shared index (committed data, SQLite file and
PostgreSQL) and on a transaction's private one."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.corpus import generate_issue
from policybot.data.assessments import record_answer
from policybot.data.briefs import BriefFilter, text_matches
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.deadlines import due_goals, due_goals_page
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief, Goal, GoalKind, GoalStatus, brief_bodies
from policybot.data.query.compiler import build_filter
from policybot.data.query.language import parse_query
from policybot.data.scorecard import _split_score_tally, score_tally
from policybot.data.search import goals as goals_index
from policybot.data.search import shared
from policybot.data.search.engines import engine_for
from policybot.data.search.live import SearchView
from policybot.data.search.ranking import Plan

TODAY = date(2026, 11, 29)
WHEN = datetime(2026, 11, 1, tzinfo=UTC)
TEXTS = ("", "storage", "energy -storage", "zzqx")
WINDOWS = ((TODAY, date(2028, 11, 29)), (date(2020, 1, 1), date(2040, 1, 1)))
RAW = generate_issue(80, seed=11).encode()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'deadlines.sqlite3'}"
        made = make_engine(url)
        upgrade(made)
        made.dispose()
    else:
        url = str(request.getfixturevalue("fresh_postgres_url"))
    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        ingest_bytes(session, RAW, "generated.txt", WHEN)
        goal_ids = session.scalars(
            select(Goal.id).where(Goal.due_on.is_not(None)).order_by(Goal.id)
        ).all()
        statuses = list(GoalStatus)[1:]
        for n, goal_id in enumerate(goal_ids[::5]):  # past goals and goals not yet due
            record_answer(session, "TA", goal_id, statuses[n % len(statuses)], "", "U1", WHEN)
    yield engine
    engine.dispose()


def where_of(session: Session, text: str) -> BriefFilter:
    return build_filter(session, parse_query(text))[0] if text else BriefFilter()


def database_past(session: Session, today: date) -> tuple[int, int, Counter[int]]:
    """Past policy goals, briefs with one, and past goals per body id, counted by SQL."""
    past = (Goal.kind == GoalKind.POLICY, Goal.due_on < today)
    goals = session.scalar(select(func.count()).select_from(Goal).where(*past)) or 0
    briefs = session.scalar(select(func.count(func.distinct(Goal.brief_id))).where(*past)) or 0
    per_body: Counter[int] = Counter(
        dict(
            session.execute(
                select(brief_bodies.c.body_id, func.count())
                .join(Goal, Goal.brief_id == brief_bodies.c.brief_id)
                .where(*past)
                .group_by(brief_bodies.c.body_id)
            ).all()
        )
    )
    return goals, briefs, per_body


def check_agreement(session: Session) -> int:
    """The index's counts and pages equal the database's; how many deadlines were listed
    (so that a test can tell it compared something)."""
    searcher = SearchView(session).searcher
    every = searcher.matching_query(Plan(()))
    counted = goals_index.past_goals(
        searcher.searcher, every, "policy", TODAY.toordinal(), by_body=True
    )
    assert (counted.goals, counted.briefs, counted.per_body) == database_past(session, TODAY)
    listed_in_all = 0
    for text in TEXTS:
        where = where_of(session, text)
        for start, end in WINDOWS:
            listed = [d.goal.id for d in due_goals(session, start, end, where)]
            listed_in_all += len(listed)
            for size in (3, 10):
                for offset in range(0, len(listed) + size, size):
                    page = due_goals_page(session, start, end, where, limit=size, offset=offset)
                    assert page.total == len(listed), (text, start)
                    got = [d.goal.id for d in page.goals]
                    assert got == listed[offset : offset + size], (text, start, offset)
        allowed = text_matches(session, where) if text else None
        for team in ("TA", "T1"):
            for first in (0, 3, 25):
                indexed = score_tally(session, team, TODAY, where, first=first)
                database = _split_score_tally(session, team, TODAY, where, allowed, first=first)
                assert indexed == database, (text, team, first)
    return listed_in_all


def reingest_with_moved_deadlines(factory: sessionmaker[Session]) -> None:
    moved = RAW.replace(b"By 2028,", b"By 2024,").replace(b"By 2033,", b"By 2027,")
    assert moved != RAW
    with factory() as session, session.begin():
        ingest_bytes(session, moved, "generated.txt", WHEN)


def forget_some(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        gone = session.scalars(
            select(Brief).where(Brief.goals.any(Goal.due_on < TODAY)).order_by(Brief.id).limit(3)
        ).all()
        assert gone
        engine_for(session).remove(session, [b.id for b in gone])
        for brief in gone:
            session.delete(brief)


def test_the_shared_index_counts_what_the_database_counts(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory() as session:
        assert check_agreement(session) > 50
        before = database_past(session, TODAY)
    reingest_with_moved_deadlines(factory)
    with factory() as session:
        assert database_past(session, TODAY) != before  # deadlines moved into the past
        check_agreement(session)
    forget_some(factory)
    with factory() as session:
        check_agreement(session)
    # Rebuilt from nothing, as after an upgrade of the index's schema.
    handle = shared.shared_index(engine)
    shutil.rmtree(handle.directory)
    shared._REGISTRY.clear()
    with factory() as session:
        check_agreement(session)
    assert shared.shared_index(engine).builds == 1


def test_a_transactions_private_index_counts_its_own_changes(
    factory: sessionmaker[Session],
) -> None:
    """Uncommitted writes are read from the transaction's private index (live.py)."""
    with factory() as session, session.begin():
        ingest_bytes(session, RAW, "generated.txt", WHEN)
        for goal_id in session.scalars(select(Goal.id).order_by(Goal.id)).all()[::7]:
            record_answer(session, "TA", goal_id, GoalStatus.MET, "", "U1", WHEN)
    with factory() as session:
        assert check_agreement(session) > 50
    reingest_with_moved_deadlines(factory)
    with factory() as session:
        check_agreement(session)
    forget_some(factory)
    with factory() as session:
        check_agreement(session)


def test_an_index_of_an_older_schema_is_rebuilt(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index whose state names another schema version (one without the deadline
    fields, say) is rebuilt on first use, not read."""
    from policybot.data.search import index as tindex

    factory = session_factory(engine)
    with factory() as session:
        check_agreement(session)
    old = shared.shared_index(engine)
    assert old.builds == 1
    shared._REGISTRY.clear()
    monkeypatch.setattr(tindex, "SCHEMA_VERSION", tindex.SCHEMA_VERSION + 1)
    with factory() as session:
        check_agreement(session)
    assert shared.shared_index(engine).builds == 1
    assert shared.shared_index(engine).generation != old.generation
