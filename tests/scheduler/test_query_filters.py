"""Standing queries are compiled once and kept across ticks, but never past a change to the
body-name table they were compiled against."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.briefs import BriefFilter
from policybot.data.errors import UserError
from policybot.data.models import BodyAlias
from policybot.scheduler.matching import QueryFilters
from tests.scheduler.conftest import ingest, tracker_issue


def test_a_removed_body_name_is_not_served_from_the_kept_filters(
    factory: sessionmaker[Session],
) -> None:
    ingest(factory, tracker_issue("Known Body Plan"), datetime(2026, 11, 30, tzinfo=UTC))
    with factory() as session:
        first = QueryFilters(session).get("storage body:MIIT")
        again = QueryFilters(session).get("storage body:MIIT")  # a later tick: kept
    assert isinstance(first, BriefFilter) and first.body_ids
    assert again is first
    with factory() as session, session.begin():
        session.execute(delete(BodyAlias).where(BodyAlias.normalized == "miit"))
    with factory() as session:
        after = QueryFilters(session).get("storage body:MIIT")
    assert isinstance(after, UserError)
