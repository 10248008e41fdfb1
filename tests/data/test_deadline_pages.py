"""Every page of `deadlines` is the slice of the full listing (soonest deadline first, then
the newest brief, undated briefs last, then the goal's id), whichever way a page is read:
a day sorted whole or walked newest first in small batches, goals read by the window or by
the matched briefs; with ties on the publication day and undated briefs, on both engines."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.corpus import generate_issue
from policybot.data import deadlines
from policybot.data.deadlines import due_goals, due_goals_page
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief
from policybot.data.query.compiler import build_filter
from policybot.data.query.language import parse_query
from policybot.data.search.engines import engine_for
from policybot.data.search.fields import indexed_fields

BRIEFS = 160
START, END = date(2020, 1, 1), date(2040, 1, 1)
# (sorted whole below, walk factor, first walk batch, goals per brief): each way to read.
ROUTES = {
    "sorted": (10**9, 0, 200, 3),
    "walked": (0, 0, 3, 3),
    "walked-by-brief": (0, 0, 5, 10**6),
    "sorted-by-brief": (10**9, 0, 200, 10**6),
}


@pytest.fixture
def filled(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with factory() as session, session.begin():
        raw = generate_issue(BRIEFS, seed=7).encode()
        ingest_bytes(session, raw, "generated.txt", datetime(2026, 11, 1, tzinfo=UTC))
        ids = sorted(session.scalars(select(Brief.id)))
        rng = random.Random(3)
        # Ties on the publication day, and briefs without one (listed last).
        shared = rng.sample(ids, 40)
        session.execute(
            update(Brief).where(Brief.id.in_(shared[:25])).values(published_on=date(2023, 5, 1))
        )
        session.execute(update(Brief).where(Brief.id.in_(shared[25:])).values(published_on=None))
        # Written behind ingestion's back: the briefs' search documents follow, as
        # ingestion's would (the index orders a day's briefs by their publication).
        session.expire_all()
        changed = session.scalars(select(Brief).where(Brief.id.in_(shared)))
        engine_for(session).index(session, [(b.id, indexed_fields(b)) for b in changed])
    return factory


@pytest.fixture(params=list(ROUTES))
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    sorted_day, factor, batch, per_brief = ROUTES[request.param]
    monkeypatch.setattr(deadlines, "_SORTED_DAY", sorted_day)
    monkeypatch.setattr(deadlines, "_WALK_FACTOR", factor)
    monkeypatch.setattr(deadlines, "_WALK_BATCH", batch)
    monkeypatch.setattr(deadlines, "_GOALS_PER_BRIEF", per_brief)
    yield request.param


@pytest.mark.parametrize("text", ["", "storage", "energy -storage", "zzqx"])
def test_every_page_is_the_listing_sliced(
    filled: sessionmaker[Session], route: str, text: str
) -> None:
    with filled() as session:
        where = build_filter(session, parse_query(text))[0] if text else None
        for start, end in ((START, END), (date(2026, 11, 29), date(2028, 11, 29))):
            listed = [d.goal.id for d in due_goals(session, start, end, where)]
            if text in ("", "storage"):
                assert len(listed) > 20, route  # several pages, days of many goals
            elif text == "zzqx":
                assert listed == []
            for size in (1, 7, 25):
                for offset in range(0, len(listed) + size, size):
                    page = due_goals_page(session, start, end, where, limit=size, offset=offset)
                    assert page.total == len(listed)
                    expected = listed[offset : offset + size]
                    assert [d.goal.id for d in page.goals] == expected, (route, text, offset)


def test_the_listing_orders_ties_and_undated_briefs(filled: sessionmaker[Session]) -> None:
    """The oracle itself: within a day, newest brief first, undated last, then goal id."""
    with filled() as session:
        listed = due_goals(session, START, END)
        keys = [
            (
                d.goal.due_on,
                d.brief.published_on is None,
                -(d.brief.published_on or date.min).toordinal(),
                d.goal.id,
            )
            for d in listed
        ]
        assert keys == sorted(keys)
        assert any(d.brief.published_on is None for d in listed)
        assert len({(k[0], k[2]) for k in keys}) < len(keys)  # ties on day and publication
