"""A re-ingested brief whose date was corrected updates the stored brief (same ids, goals
kept) instead of adding a second one; the same title years apart stays a brief of its own.
On SQLite and PostgreSQL, through the writer and the dry-run preview alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.ingest.preview import preview_bytes
from policybot.data.ingest.writer import IngestSummary, ingest_bytes
from policybot.data.models import Brief, Goal

DEMO = Path(__file__).resolve().parents[2] / "data" / "corpus"
DEMO = DEMO / "china-industrial-policy-tracker-2024-11.txt"
DEMO_TEXT = DEMO.read_text(encoding="utf-8")
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
BRIEFS_IN_DEMO = 23
LITHIUM = "The MIIT released guidelines for construction of the national lithium"
STORAGE = "Action Plan for the High-Quality Development of the New Energy Storage%"

Factory = sessionmaker[Session]


def ingest(factory: Factory, text: str, source: str, now: datetime = NOW) -> IngestSummary:
    with factory() as session, session.begin():
        return ingest_bytes(session, text.encode(), source, now)


def stored(factory: Factory, title_like: str) -> list[tuple[int, date | None, list[int]]]:
    """(id, date, goal ids) of every stored brief whose title is like `title_like`."""
    with factory() as session:
        found = session.scalars(
            select(Brief).where(Brief.title.like(title_like)).order_by(Brief.id)
        )
        return [(b.id, b.published_on, [g.id for g in b.goals]) for b in found]


def brief_and_goal_counts(connection: Connection) -> tuple[int, int]:
    briefs = connection.scalar(select(func.count()).select_from(Brief))
    goals = connection.scalar(select(func.count()).select_from(Goal))
    assert briefs is not None and goals is not None
    return briefs, goals


def moved(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def storage_entry() -> str:
    """The energy-storage action plan's entry alone, as a file of one brief."""
    start = DEMO_TEXT.index(
        "At a glance: The Ministry of Industry and Information Technology (MIIT) released"
    )
    return DEMO_TEXT[start : DEMO_TEXT.index("At a glance: The MIIT announced", start)]


def test_a_corrected_news_date_updates_the_brief_and_keeps_its_goals(
    factory: Factory, connection: Connection
) -> None:
    ingest(factory, DEMO_TEXT, DEMO.name)
    [(brief_id, published, goal_ids)] = stored(factory, LITHIUM + "%")
    assert published == date(2024, 11, 15) and goal_ids
    before = brief_and_goal_counts(connection)

    corrected = moved(DEMO_TEXT, "November 15: The MIIT released", "November 16: The MIIT released")
    summary = ingest(factory, corrected, "ndate.txt", now=LATER)

    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, BRIEFS_IN_DEMO - 1)
    assert stored(factory, LITHIUM + "%") == [(brief_id, date(2024, 11, 16), goal_ids)]
    assert brief_and_goal_counts(connection) == before
    [note] = summary.warnings
    assert "date changed from 15 Nov to 16 Nov 2024" in note and f"b{brief_id}" in note
    # The brief now has the corrected identity: the same file again changes nothing.
    again = ingest(factory, corrected, "ndate-again.txt", now=LATER)
    assert (again.added, again.updated, again.warnings) == (0, 0, [])


def test_a_corrected_policy_date_line_updates_the_brief(
    factory: Factory, connection: Connection
) -> None:
    ingest(factory, DEMO_TEXT, DEMO.name)
    [(brief_id, _, goal_ids)] = stored(factory, STORAGE)
    before = brief_and_goal_counts(connection)

    corrected = moved(DEMO_TEXT, "Date: November 6, 2024", "Date: December 2, 2024")
    summary = ingest(factory, corrected, "pdate.txt", now=LATER)

    assert (summary.added, summary.updated) == (0, 1)
    assert stored(factory, STORAGE) == [(brief_id, date(2024, 12, 2), goal_ids)]
    assert brief_and_goal_counts(connection) == before
    assert any("date changed from 6 Nov to 2 Dec 2024" in w for w in summary.warnings)


def test_the_dry_run_shows_the_update_and_writes_nothing(
    factory: Factory, connection: Connection
) -> None:
    ingest(factory, DEMO_TEXT, DEMO.name)
    [(brief_id, _, _)] = stored(factory, LITHIUM + "%")
    before = brief_and_goal_counts(connection)
    corrected = moved(DEMO_TEXT, "November 15: The MIIT released", "November 16: The MIIT released")

    with factory() as session:
        preview = preview_bytes(session, corrected.encode(), "ndate.txt")
        assert not session.new and not session.dirty

    assert (preview.count("add"), preview.count("update")) == (0, 1)
    [update] = [b for b in preview.briefs if b.action == "update"]
    assert update.existing_ref == f"b{brief_id}"
    assert any("date changed from 15 Nov to 16 Nov 2024" in w for w in update.record.warnings)
    assert brief_and_goal_counts(connection) == before
    assert stored(factory, LITHIUM + "%")[0][1] == date(2024, 11, 15)


def test_the_same_title_a_year_apart_is_a_brief_of_its_own(
    factory: Factory, connection: Connection
) -> None:
    ingest(factory, DEMO_TEXT, DEMO.name)
    [(brief_id, _, goal_ids)] = stored(factory, STORAGE)
    briefs, _ = brief_and_goal_counts(connection)
    next_year = moved(storage_entry(), "Date: November 6, 2024", "Date: November 5, 2025")

    with factory() as session:
        preview = preview_bytes(session, next_year.encode(), "plan-2025.txt")
    [added] = [b for b in preview.briefs if b.action == "add"]
    assert any(f"same title as b{brief_id}" in w for w in added.record.warnings)

    summary = ingest(factory, next_year, "plan-2025.txt", now=LATER)
    assert (summary.added, summary.updated, summary.unchanged) == (1, 0, 0)
    assert any(f"same title as b{brief_id}" in w for w in summary.warnings)
    assert brief_and_goal_counts(connection)[0] == briefs + 1
    plans = stored(factory, STORAGE)
    assert plans[0] == (brief_id, date(2024, 11, 6), goal_ids)
    assert plans[1][1] == date(2025, 11, 5) and set(plans[1][2]).isdisjoint(goal_ids)


def test_a_date_first_read_on_a_later_ingest_updates_the_undated_brief(
    factory: Factory, connection: Connection
) -> None:
    unreadable = moved(DEMO_TEXT, "Date: November 6, 2024", "Date: sometime in November")
    ingest(factory, unreadable, "unreadable.txt")
    [(brief_id, published, goal_ids)] = stored(factory, STORAGE)
    assert published is None
    before = brief_and_goal_counts(connection)

    summary = ingest(factory, DEMO_TEXT, DEMO.name, now=LATER)

    assert (summary.added, summary.updated) == (0, 1)
    assert stored(factory, STORAGE) == [(brief_id, date(2024, 11, 6), goal_ids)]
    assert brief_and_goal_counts(connection) == before
    assert any("date set to 6 Nov 2024" in w for w in summary.warnings)


def test_an_entry_next_to_its_own_original_in_one_file_is_not_merged_into_it(
    factory: Factory, connection: Connection
) -> None:
    """The stored brief is already the file's exact entry; a second entry with its title
    and a moved date is added, named in a warning, not folded into the first."""
    ingest(factory, DEMO_TEXT, DEMO.name)
    [(brief_id, _, goal_ids)] = stored(factory, STORAGE)
    moved_entry = moved(storage_entry(), "Date: November 6, 2024", "Date: November 9, 2024")
    both = DEMO_TEXT + "\n" + moved_entry

    summary = ingest(factory, both, "both.txt", now=LATER)

    assert (summary.added, summary.updated) == (1, 0)
    assert any(f"same title as b{brief_id}" in w for w in summary.warnings)
    assert stored(factory, STORAGE)[0] == (brief_id, date(2024, 11, 6), goal_ids)
