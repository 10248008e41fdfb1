"""Numeric dates: read where only one order makes a date (30/10/2024, 2024/10/30,
30.10.2024, 10/30/2024), named and not guessed where both do (10/11/2024); every warning
about a brief stored undated names it. Parsing alone, then stored on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.ingest.dates import ambiguous_date, parse_date
from policybot.data.ingest.parser import UNDATED, parse_text
from policybot.data.ingest.single import parse_single_brief
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief

DEMO = Path(__file__).resolve().parents[2] / "data" / "corpus"
DEMO_TEXT = (DEMO / "china-industrial-policy-tracker-2024-11.txt").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
STORAGE_DATE = "Date: November 6, 2024"

Factory = sessionmaker[Session]


@pytest.mark.parametrize(
    "text",
    ["30/10/2024", "2024/10/30", "30.10.2024", "30-10-2024", "10/30/2024", "Date: 30/10/2024"],
)
def test_unambiguous_numeric_dates_are_read(text: str) -> None:
    assert parse_date(text) == date(2024, 10, 30)
    assert ambiguous_date(text) is None


def test_the_same_day_and_month_is_no_ambiguity() -> None:
    assert parse_date("11/11/2024") == date(2024, 11, 11)


@pytest.mark.parametrize("text", ["10/11/2024", "10-11-2024"])
def test_a_date_that_reads_both_ways_is_not_guessed(text: str) -> None:
    assert parse_date(text) is None
    assert ambiguous_date(text) == (text, date(2024, 11, 10), date(2024, 10, 11))


@pytest.mark.parametrize("text", ["31/02/2024", "13/13/2024", "10/11/24"])
def test_impossible_or_short_numeric_dates_are_not_read(text: str) -> None:
    assert parse_date(text) is None and ambiguous_date(text) is None


def test_a_policys_day_first_date_line_is_read() -> None:
    issue = parse_text(DEMO_TEXT.replace(STORAGE_DATE, "Date: 30/10/2024"), "dmy.txt")
    [storage] = [b for b in issue.briefs if b.title.startswith("Action Plan for the High")]
    assert storage.published_on == date(2024, 10, 30)
    assert storage.warnings == []


def test_an_ambiguous_date_line_names_both_readings_and_the_brief() -> None:
    issue = parse_text(DEMO_TEXT.replace(STORAGE_DATE, "Date: 10/11/2024"), "amb.txt")
    [storage] = [b for b in issue.briefs if b.title.startswith("Action Plan for the High")]
    assert storage.published_on is None
    [warning] = storage.warnings
    assert warning == (
        f"brief {storage.title!r} has an ambiguous date '10/11/2024' "
        f"(10 Nov or 11 Oct 2024?), not guessed{UNDATED}"
    )
    assert any(w.endswith(warning) for w in issue.warnings)


def test_an_undated_news_item_is_named_in_its_warning() -> None:
    # No issue header and no other date: the item's year cannot be inferred.
    news = " October 29: The SAMR announced opinions on online platforms. (SAMR notice)\n"
    [item] = parse_text(news, "news.txt").briefs
    assert item.published_on is None
    assert item.warnings == [
        f"news item {item.title!r} has no year, and the issue has no date{UNDATED}"
    ]


def test_pasted_text_with_an_ambiguous_date_says_so() -> None:
    record = parse_single_brief("Notice on robots\nThe MIIT published it on 03/04/2024.")
    assert record.published_on is None
    assert any(
        "ambiguous date '03/04/2024'" in w and "'Notice on robots'" in w for w in record.warnings
    )
    dated = parse_single_brief("Notice on robots\nThe MIIT published it on 23/04/2024.")
    assert dated.published_on == date(2024, 4, 23)


def test_a_day_first_date_is_stored(factory: Factory) -> None:
    with factory() as session, session.begin():
        summary = ingest_bytes(
            session, DEMO_TEXT.replace(STORAGE_DATE, "Date: 30/10/2024").encode(), "dmy.txt", NOW
        )
    assert summary.warnings == []
    with factory() as session:
        storage = session.scalars(
            select(Brief).where(Brief.title.like("Action Plan for the High%"))
        ).one()
        assert storage.published_on == date(2024, 10, 30)
        since = select(Brief.id).where(Brief.published_on >= date(2024, 10, 1))
        assert storage.id in set(session.scalars(since))
