"""Deadline exports (handlers.export): the .ics parses back with icalendar with one event per
deadline on the right dates, UIDs survive re-export and re-ingestion, the CSV has its
columns, and the search grammar selects. On SQLite and PostgreSQL; ids differ between
engines (sequences do not roll back), so tests find goals by text."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar, Component
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.calendar_feeds import uid_domain
from policybot.data.errors import UserError
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Goal, GoalAssessment, GoalStatus
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.export import CSV_COLUMNS, csv_bytes, export_deadlines, uid
from policybot.handlers.render_text import render_text
from policybot.handlers.replies import Reply
from tests.conftest import DEMO_CORPUS, NOW

pytestmark = pytest.mark.usefixtures("corpus")

# Future deadlines of the demo corpus at NOW (2026-11-29): text prefix -> (due, window start).
# Policy targets only: Airbus's "by 2026" and Volkswagen's "next five years" are company
# commitments, which deadlines leave out unless asked.
FUTURE = {
    "By 2027, data aggregation": (date(2027, 12, 31), None),
    "Cultivate between three to five": (date(2027, 12, 31), None),
    "Increase new energy storage": (date(2027, 12, 31), None),
    "Promote international cooperation": (date(2027, 12, 31), None),
    "By 2027, over 100 new national": (date(2027, 12, 31), None),
    "Over the next five to ten years": (date(2034, 10, 28), date(2029, 10, 28)),
    "By 2035, the new materials": (date(2035, 12, 31), None),
}
WITHIN_24M = {k for k, (due, _) in FUTURE.items() if due <= date(2028, 11, 29)}
STORAGE_GOALS = {
    "Cultivate between three to five",
    "Increase new energy storage",
    "Promote international cooperation",
}


def ctx(now: datetime = NOW, team_id: str = "T1") -> Context:
    return Context(now=now, team_id=team_id)


def export(factory: sessionmaker[Session], fmt: str, text: str = "", now: datetime = NOW) -> bytes:
    with factory() as session:
        return export_deadlines(session, ctx(now), fmt, text).attachment.content


def goal_ids(factory: sessionmaker[Session]) -> dict[str, int]:
    """Goal id by the FUTURE prefix its text starts with."""
    with factory() as session:
        goals = list(session.scalars(select(Goal)))
    found = {}
    for prefix in FUTURE:
        matches = [g.id for g in goals if g.text.startswith(prefix)]
        assert len(matches) == 1, prefix
        found[prefix] = matches[0]
    return found


def domain(factory: sessionmaker[Session]) -> str:
    """This database's UID domain: `<installation id>.policybot`."""
    with factory() as session:
        return uid_domain(session)


def events(raw: bytes) -> dict[str, Component]:
    calendar = Calendar.from_ical(raw)
    found: dict[str, Component] = {}
    for event in calendar.walk("VEVENT"):
        key = str(event["UID"])
        assert key not in found, f"duplicate UID {key}"
        found[key] = event
    return found


def test_calendar_has_one_event_per_future_deadline_on_its_date(
    factory: sessionmaker[Session],
) -> None:
    raw = export(factory, "ics")
    calendar = Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "policybot deadlines"
    by_uid = events(raw)
    ids = goal_ids(factory)
    assert set(by_uid) == {uid(ids[prefix], domain(factory)) for prefix in FUTURE}
    for prefix, (due, window_start) in FUTURE.items():
        event = by_uid[f"goal-{ids[prefix]}-due@{domain(factory)}"]
        assert event.decoded("DTSTART") == due  # an all-day event (a date, not a datetime)
        assert not isinstance(event.decoded("DTSTART"), datetime)
        assert event.decoded("DTEND") == due + timedelta(days=1)
        assert str(event["SUMMARY"]).endswith("]")
        assert f"g{ids[prefix]}" in str(event["DESCRIPTION"])
        description = str(event["DESCRIPTION"])
        if window_start is not None:
            opens = f"{window_start.day} {window_start:%B %Y}"
            assert f"The window opens {opens} and closes {due.day} {due:%B %Y}" in description
        else:
            assert "window opens" not in description


def test_event_text_names_the_brief(factory: sessionmaker[Session]) -> None:
    ids = goal_ids(factory)
    event = events(export(factory, "ics"))[
        uid(ids["Cultivate between three to five"], domain(factory))
    ]
    summary, description = str(event["SUMMARY"]), str(event["DESCRIPTION"])
    assert summary.startswith("Cultivate between three to five companies worth CNY 100 billion [b")
    assert "Action Plan for the High-Quality Development of the New Energy Storage" in description
    assert "Issued by: MIIT" in description
    assert "Deadline: by end of 2027" in description
    assert "Cultivate between three to five companies worth CNY 100 billion" in description


def test_reexport_is_byte_identical_and_a_new_day_keeps_uids(
    factory: sessionmaker[Session],
) -> None:
    first = export(factory, "ics")
    # Stamped with when each brief last changed (the corpus was ingested at NOW), not when
    # the file was made.
    assert {e.decoded("DTSTAMP") for e in events(first).values()} == {NOW}
    assert export(factory, "ics") == first
    # A day later the same deadlines give the same bytes: nothing depends on "now".
    assert export(factory, "ics", now=NOW + timedelta(days=1)) == first


def test_uids_survive_reingesting_an_edited_file(factory: sessionmaker[Session]) -> None:
    ids = goal_ids(factory)
    before = events(export(factory, "ics"))
    edited = DEMO_CORPUS.read_text(encoding="utf-8").replace(
        "Cultivate between three to five companies worth CNY 100 billion",
        "Cultivate between three to six companies worth CNY 100 billion",
    )
    later = NOW + timedelta(days=3)
    with factory() as session, session.begin():
        summary = ingest_bytes(session, edited.encode(), "tracker-corrected.txt", later)
    assert summary.updated == 1
    after = events(export(factory, "ics", now=later))
    assert set(after) == set(before)
    changed = uid(ids["Cultivate between three to five"], domain(factory))
    assert "three to six companies" in str(after[changed]["SUMMARY"])
    # The edited brief's events carry the new stamp (a calendar sees them as newer)...
    assert after[changed].decoded("DTSTAMP") > before[changed].decoded("DTSTAMP")
    # ...and the other briefs' events are unchanged.
    untouched = uid(ids["By 2035, the new materials"], domain(factory))
    assert after[untouched].to_ical() == before[untouched].to_ical()


def test_within_and_words_select_like_deadlines(factory: sessionmaker[Session]) -> None:
    ids = goal_ids(factory)
    within = events(export(factory, "ics", "within 24m"))
    assert set(within) == {uid(ids[p], domain(factory)) for p in WITHIN_24M}
    storage = events(export(factory, "ics", "storage"))
    assert set(storage) == {uid(ids[p], domain(factory)) for p in STORAGE_GOALS}
    miit_2y = events(export(factory, "ics", "within 2y body:工信部"))
    assert uid(ids["Over the next five to ten years"], domain(factory)) not in miit_2y
    assert uid(ids["Cultivate between three to five"], domain(factory)) in miit_2y
    assert uid(ids["By 2035, the new materials"], domain(factory)) not in miit_2y


def test_bad_filters_are_user_errors(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        with pytest.raises(UserError, match="issuing body"):
            export_deadlines(session, ctx(), "ics", "body:Nowhere")
        with pytest.raises(UserError, match="ics"):
            export_deadlines(session, ctx(), "pdf", "")


def test_csv_columns_rows_and_team_answers(factory: sessionmaker[Session]) -> None:
    ids = goal_ids(factory)
    with factory() as session, session.begin():
        session.add(
            GoalAssessment(
                team_id="T1",
                goal_id=ids["By 2027, over 100 new national"],
                status=GoalStatus.MET,
                answered_by="U1",
                answered_at=NOW,
            )
        )
    raw = export(factory, "csv")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert raw.count(b"\r\n") == len(rows)  # RFC 4180 line ends
    by_goal = {row[0]: dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(by_goal) == {f"g{ids[p]}" for p in FUTURE}
    standards = by_goal[f"g{ids['By 2027, over 100 new national']}"]
    assert standards["deadline"] == "2027-12-31"
    assert standards["precision"] == "year"
    assert standards["days_left"] == "397"
    assert standards["status"] == "met"  # this team's answer
    factories = by_goal[f"g{ids['Over the next five to ten years']}"]
    assert factories["precision"] == "window"
    assert factories["window_start"] == "2029-10-28"
    assert factories["deadline"] == "2034-10-28"
    assert factories["status"] == "open"
    materials = by_goal[f"g{ids['By 2027, data aggregation']}"]
    assert materials["bodies"] == "MIIT, MOF, NDB"
    assert materials["brief_title"].startswith("Issuing the Overall Construction Plan")
    assert materials["goal"].startswith("By 2027, data aggregation")
    # Another team has not answered: it sees the stored status.
    with factory() as session:
        other = export_deadlines(session, ctx(team_id="T2"), "csv", "").attachment.content
    assert b",met\r\n" not in other


def test_csv_cells_never_start_a_formula() -> None:
    class _Body:
        abbreviation = "=HYPERLINK(1)"

    class _Brief:
        ref, title, bodies, bodies_more = "b1", "@SUM(A1)", [_Body()], False

    class _Goal:
        ref, text, due_on, precision, window_start, status = (
            "g1",
            "+1 cmd",
            date(2027, 1, 1),
            "day",
            None,
            "open",
        )
        id = 1

    class _Due:
        goal, brief = _Goal(), _Brief()

    rows = list(csv.reader(io.StringIO(csv_bytes([_Due()], date(2026, 1, 1), {}).decode())))  # type: ignore[list-item]
    assert rows[1][6:9] == ["'+1 cmd", "'@SUM(A1)", "'=HYPERLINK(1)"]


@pytest.fixture
def run(factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    runner = CommandRunner(factory)
    return lambda text: runner.run(text, ctx())


def test_deadlines_ics_command_replies_with_the_file(run) -> None:  # type: ignore[no-untyped-def]
    reply: Reply = run("/policy deadlines ics")
    assert reply.text == "Calendar of 7 deadlines (policybot-deadlines.ics)"
    assert reply.attachment is not None
    assert reply.attachment.filename == "policybot-deadlines.ics"
    assert reply.attachment.mime == "text/calendar"
    assert len(events(reply.attachment.content)) == 7
    text = render_text(reply)
    assert "File: policybot-deadlines.ics (text/calendar" in text

    within = run("/policy deadlines csv within 24m storage")
    assert within.text == (
        "Spreadsheet of 3 deadlines in the next 24 months for storage (policybot-deadlines.csv)"
    )
    assert within.attachment is not None and within.attachment.mime == "text/csv"

    # Airbus's line is a company commitment, not a policy target.
    one = run("/policy deadline ICS airbus")
    assert one.text == "No deadlines ahead for airbus to export."


def test_deadlines_ics_without_matches_has_no_file(run) -> None:  # type: ignore[no-untyped-def]
    reply: Reply = run("/policy deadlines ics storaeg")
    assert reply.attachment is None
    assert reply.text == "No deadlines ahead for storaeg to export."
    assert any("storage" in note for note in reply.notes)  # did you mean
    error = run("/policy deadlines ics body:Nowhere")
    assert error.is_error and error.attachment is None


def test_plain_deadlines_are_unchanged(run) -> None:  # type: ignore[no-untyped-def]
    reply: Reply = run("/policy deadlines")
    assert reply.attachment is None
    assert reply.text == "5 deadlines in the next 24 months"


def _csv_goals(raw: bytes, ids: dict[str, int]) -> set[str]:
    by_ref = {f"g{i}": prefix for prefix, i in ids.items()}
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    return {by_ref[row["goal_id"]] for row in rows}


def _ics_goals(raw: bytes, ids: dict[str, int]) -> set[str]:
    by_id = {i: prefix for prefix, i in ids.items()}
    return {by_id[int(key.split("-")[1])] for key in events(raw)}


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("due:2027", {k for k, (due, _) in FUTURE.items() if due.year == 2027}),
        ("due:2035", {"By 2035, the new materials"}),
        ("materials due:2027", {"By 2027, data aggregation"}),  # its brief also has a 2035 goal
        ("materials due:2035", {"By 2035, the new materials"}),
        ("due:..2030", {k for k, (due, _) in FUTURE.items() if due <= date(2030, 12, 31)}),
        ("due:..2034", {k for k, (due, _) in FUTURE.items() if due <= date(2034, 12, 31)}),
        ("within 12m due:2027", set()),  # 2027's deadlines fall on 31 Dec 2027, past 12 months
        ("within 36m due:2027", {k for k, (due, _) in FUTURE.items() if due.year == 2027}),
        ("due:2025", set()),  # a year already past holds no deadline ahead
    ],
)
def test_a_due_filter_exports_only_the_goals_due_then(
    factory: sessionmaker[Session], text: str, wanted: set[str]
) -> None:
    ids = goal_ids(factory)
    if wanted:
        assert _csv_goals(export(factory, "csv", text), ids) == wanted
        assert _ics_goals(export(factory, "ics", text), ids) == wanted
    runner = CommandRunner(factory)
    for fmt in ("csv", "ics"):
        reply = runner.run(f"deadlines {fmt} {text}", ctx())
        if not wanted:
            assert reply.attachment is None, reply.text
            continue
        assert reply.attachment is not None, reply.text
        found = (_csv_goals if fmt == "csv" else _ics_goals)(reply.attachment.content, ids)
        assert found == wanted
