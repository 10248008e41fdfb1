"""Tests for data.ingest.writer on SQLite and PostgreSQL: idempotent, one transaction per
file, briefs deduplicated, bad files refused with the database left exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.bodies import body_ids_for
from policybot.data.ingest import writer
from policybot.data.ingest.text import ParseError
from policybot.data.ingest.writer import IngestSummary, ingest_bytes, ingest_paths
from policybot.data.models import Brief, BriefKind, Goal, IssuingBody, SourceDocument

DEMO = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "corpus"
    / ("china-industrial-policy-tracker-2024-11.txt")
)
DEMO_TEXT = DEMO.read_text(encoding="utf-8")
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
BRIEFS_IN_DEMO = 23  # 5 policy briefs and 18 news items

Factory = sessionmaker[Session]


def counts(connection: Connection) -> dict[str, int]:
    """Rows of every table, the search index (and on SQLite its FTS5 shadow tables)
    included."""
    tables = inspect(connection).get_table_names()
    assert "search_documents" in tables
    return {
        name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
        for name in sorted(tables)
    }


def ingest(
    factory: Factory, raw: bytes, source: str = DEMO.name, now: datetime = NOW
) -> IngestSummary:
    with factory() as session, session.begin():
        return ingest_bytes(session, raw, source, now)


def briefs(factory: Factory) -> list[Brief]:
    with factory() as session:
        return list(session.scalars(select(Brief).order_by(Brief.id)))


def _between(start: str, end: str | None) -> str:
    """The part of the demo text from the line that starts with `start` to `end`."""
    first = DEMO_TEXT.index(start)
    return DEMO_TEXT[first : DEMO_TEXT.index(end, first + 1) if end else None]


# ---------------------------------------------------------------------------------------
# Idempotence, updates, deduplication
# ---------------------------------------------------------------------------------------


def test_ingest_twice_changes_nothing(factory: Factory, connection: Connection) -> None:
    first = ingest(factory, DEMO.read_bytes())
    assert (first.added, first.updated, first.unchanged) == (BRIEFS_IN_DEMO, 0, 0)
    before = counts(connection)
    assert before["briefs"] == BRIEFS_IN_DEMO and before["search_documents"] == BRIEFS_IN_DEMO
    stored = [(b.id, b.content_hash, b.updated_at) for b in briefs(factory)]

    second = ingest(factory, DEMO.read_bytes(), now=LATER)
    assert (second.added, second.updated, second.unchanged) == (0, 0, BRIEFS_IN_DEMO)
    assert counts(connection) == before
    assert [(b.id, b.content_hash, b.updated_at) for b in briefs(factory)] == stored


def test_edited_brief_is_updated_not_duplicated(factory: Factory, connection: Connection) -> None:
    ingest(factory, DEMO.read_bytes())
    with factory() as session:
        storage = session.scalars(select(Brief).where(Brief.title.like("Action Plan for%"))).one()
        goal_ids = [g.id for g in storage.goals]
        brief_id = storage.id
    before = counts(connection)

    edited = DEMO_TEXT.replace(
        "Cultivate between three to five companies worth CNY 100 billion",
        "Cultivate between three to six companies worth CNY 100 billion",
    ).replace("is already a booming industry.", "is already a thriving industry.")
    assert edited != DEMO_TEXT
    summary = ingest(factory, edited.encode(), "tracker-2024-11-corrected.txt", now=LATER)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, BRIEFS_IN_DEMO - 1)

    after = counts(connection)
    assert after["source_documents"] == before["source_documents"] + 1  # the new file
    # FTS5 keeps its own bookkeeping in brief_search_* shadow tables; brief_search counts.
    same = [k for k in before if k != "source_documents" and not k.startswith("brief_search_")]
    assert {k: after[k] for k in same} == {k: before[k] for k in same}
    with factory() as session:
        storage = session.get_one(Brief, brief_id)
        assert [g.id for g in storage.goals] == goal_ids
        assert storage.goals[0].text.startswith("Cultivate between three to six companies")
        assert storage.goals[0].due_on == date(2027, 12, 31)
        assert "a thriving industry" in storage.comment
        updated = storage.updated_at  # SQLite hands back naive UTC
        assert (updated if updated.tzinfo else updated.replace(tzinfo=UTC)) == LATER
        # The search index follows the edit.
        index = session.execute(text("SELECT count(*) FROM search_documents")).scalar_one()
        assert index == BRIEFS_IN_DEMO


def test_same_brief_in_two_files_is_stored_once(factory: Factory, connection: Connection) -> None:
    storage_only = _between(
        "At a glance: The Ministry of Industry and Information Technology (MIIT) released",
        "At a glance: The MIIT announced",
    )
    first = ingest(factory, storage_only.encode(), "storage-excerpt.txt")
    assert (first.added, first.unchanged) == (1, 0)
    second = ingest(factory, DEMO.read_bytes())
    assert (second.added, second.updated, second.unchanged) == (BRIEFS_IN_DEMO - 1, 0, 1)
    assert counts(connection)["briefs"] == BRIEFS_IN_DEMO
    with factory() as session:
        titles = session.scalars(select(Brief.title).where(Brief.kind == BriefKind.POLICY))
        assert len(list(titles)) == 5


def test_duplicate_brief_within_one_file_is_stored_once(factory: Factory) -> None:
    doubled = (
        DEMO_TEXT
        + "\n"
        + _between("At a glance: The MIIT announced", "At a glance: The MIIT issued")
    )
    summary = ingest(factory, doubled.encode(), "doubled-2024-11.txt")
    assert summary.added == BRIEFS_IN_DEMO and summary.unchanged == 1


def test_utf16_file_ingests_like_utf8(factory: Factory, connection: Connection) -> None:
    summary = ingest(factory, DEMO_TEXT.encode("utf-16"), "tracker-utf16-2024-11.txt")
    assert summary.added == BRIEFS_IN_DEMO
    again = ingest(factory, DEMO.read_bytes())
    assert (again.added, again.updated, again.unchanged) == (0, 0, BRIEFS_IN_DEMO)


# ---------------------------------------------------------------------------------------
# What the demo corpus stores
# ---------------------------------------------------------------------------------------


def test_demo_bodies_with_full_names_in_order(session: Session, corpus: None) -> None:
    plan = session.scalars(select(Brief).where(Brief.title.like("Issuing the Overall%"))).one()
    assert [(b.abbreviation, b.full_name) for b in plan.bodies] == [
        ("MIIT", "Ministry of Industry and Information Technology"),
        ("MOF", "Ministry of Finance"),
        ("NDB", "National Data Bureau"),
    ]
    factories = session.scalars(select(Brief).where(Brief.title.like("Notice on Carrying%"))).one()
    assert [b.abbreviation for b in factories.bodies] == ["MIIT"]
    assert factories.bodies_more is True


def test_demo_aliases_resolve(session: Session, corpus: None) -> None:
    miit = session.scalars(select(IssuingBody).where(IssuingBody.abbreviation == "MIIT")).one()
    for alias in ("工信部", "MIIT", "miit", "Ministry of Industry and Information Technology"):
        assert body_ids_for(session, alias) == [miit.id]
    assert body_ids_for(session, "Reuters") == []


@pytest.mark.parametrize(
    ("starts", "bodies"),
    [
        ("The State Administration for Market Regulation", ["SAMR"]),
        ("The NDRC and others", ["NDRC"]),
        ("The State Council approved", ["State Council"]),
        ("The Ministry of Ecology", ["MEE"]),
        ("The MIIT released guidelines", ["MIIT"]),  # "(MIIT Notice)"
        ("The Cyberspace Administration", ["CAC"]),
        ("BioNTech is purchasing", []),  # "(Reuters)"
        ("Siemens Healthineers", []),  # "(Yicai Global)"
        ("China surpassed Germany", []),  # "(SCMP)"
    ],
)
def test_demo_news_bodies_from_labels(
    session: Session, corpus: None, starts: str, bodies: list[str]
) -> None:
    news = session.scalars(select(Brief).where(Brief.summary.like(f"{starts}%"))).one()
    assert news.kind == BriefKind.NEWS
    assert [b.abbreviation for b in news.bodies] == bodies


def test_demo_goals_and_document(session: Session, corpus: None) -> None:
    due = {
        (g.brief.title[:25], g.position): (g.due_on, g.precision, g.window_start)
        for g in session.scalars(select(Goal).where(Goal.due_on.is_not(None)))
    }
    assert due == {
        ("Issuing the Overall Const", 0): (date(2027, 12, 31), "year", None),
        ("Issuing the Overall Const", 1): (date(2035, 12, 31), "year", None),
        ("Action Plan for the High-", 0): (date(2027, 12, 31), "year", None),
        ("Action Plan for the High-", 1): (date(2027, 12, 31), "year", None),
        ("Action Plan for the High-", 2): (date(2027, 12, 31), "year", None),
        ("Notice on Carrying out th", 0): (date(2034, 10, 28), "window", date(2029, 10, 28)),
        ("The MIIT released guideli", 0): (date(2027, 12, 31), "year", None),
        ("Volkswagen has entered in", 0): (date(2029, 11, 12), "window", date(2024, 11, 12)),
        ("Airbus announced it will ", 0): (date(2026, 12, 31), "year", None),
    }
    assert session.scalar(select(func.count()).select_from(Goal)) == 3 + 3 + 4 + 3 + 4 + 3
    (document,) = session.scalars(select(SourceDocument))
    assert document.issue_date == date(2024, 11, 1)
    assert document.brief_count == BRIEFS_IN_DEMO
    assert document.unassigned_links == []  # every news link placed
    assert document.publication == "China Industrial Policy Tracker"
    kinds = {
        g.brief.title[:25]: g.kind for g in session.scalars(select(Goal)) if g.brief.kind == "news"
    }
    assert kinds == {
        "The MIIT released guideli": "policy",
        "Volkswagen has entered in": "company",
        "Airbus announced it will ": "company",
    }
    authors = {b.comment_author for b in session.scalars(select(Brief)) if b.kind == "policy"}
    assert authors == {"MERICS"}


def test_bodies_keep_the_order_of_the_latest_edit(factory: Factory) -> None:
    def issue(bodies: str) -> bytes:
        return (
            "At a glance: A joint notice on data centres.\n"
            "Article: Notice on Data Centres (关于数据中心的通知) (Link)\n"
            f"Issuing bodies: {bodies}\n"
            "Date: October 1, 2024\n"
        ).encode()

    ingest(factory, issue("MIIT, MOF, NDB"), "a-2024-10.txt")
    summary = ingest(factory, issue("NDB, MOF, MIIT"), "b-2024-10.txt", now=LATER)
    assert summary.updated == 1
    with factory() as session:
        (brief,) = session.scalars(select(Brief))
        assert [b.abbreviation for b in brief.bodies] == ["NDB", "MOF", "MIIT"]


def test_full_names_from_the_bodies_line_and_the_summary(factory: Factory) -> None:
    issue = (
        "At a glance: The State Taxation Administration and the National Bureau of Statistics\n"
        "(NBS) issued rules on reporting.\n"
        "Article: Rules on Reporting (报告规则) (Link)\n"
        "Issuing bodies: State Taxation Administration (STA), NBS\n"
        "Date: October 1, 2024\n"
    )
    ingest(factory, issue.encode(), "rules-2024-10.txt")
    with factory() as session:
        (brief,) = session.scalars(select(Brief))
        assert [(b.abbreviation, b.full_name) for b in brief.bodies] == [
            ("STA", "State Taxation Administration"),
            ("NBS", "National Bureau of Statistics"),
        ]
        sta = brief.bodies[0]
        assert body_ids_for(session, "State Taxation Administration") == [sta.id]


# ---------------------------------------------------------------------------------------
# Bad files: a clear error naming the file (and line), the database unchanged
# ---------------------------------------------------------------------------------------


def _truncated_after_glance() -> bytes:
    end = DEMO_TEXT.index("Important goals for 2027 include:")
    return DEMO_TEXT[: DEMO_TEXT.index("\n", end)].encode()


def _truncated_in_news() -> bytes:
    return DEMO_TEXT[: DEMO_TEXT.index("focusing on preclinical research")].encode()


def _truncated_in_title() -> bytes:
    start = DEMO_TEXT.index("Article: Notice on the Selection")
    return DEMO_TEXT[: DEMO_TEXT.index("\n", start)].encode()


def _truncated_before_date() -> bytes:
    start = DEMO_TEXT.index("Issuing body: MIIT  ")
    return DEMO_TEXT[: DEMO_TEXT.index("\n", start)].encode()


def _line_of(needle: str) -> int:
    return DEMO_TEXT[: DEMO_TEXT.index(needle)].count("\n") + 1


BAD_FILES: dict[str, tuple[Callable[[], bytes], str, Callable[[], int | None]]] = {
    # name: (content, message part, expected line)
    "binary": (
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "binary",
        lambda: 3,
    ),
    "nul in text": (
        lambda: DEMO.read_bytes()[:500] + b"\x00" + DEMO.read_bytes()[500:],
        "binary",
        lambda: DEMO_TEXT[:500].count("\n") + 1,
    ),
    "cp1252": (
        lambda: DEMO_TEXT.encode("cp1252", errors="replace"),
        "not UTF-8",
        lambda: _line_of("\u201c1+N"),
    ),
    "latin-1": (
        lambda: "Date: 30. Oktober 2024, M\u00fcnchen\n".encode("latin-1"),
        "not UTF-8",
        lambda: 1,
    ),
    "gb18030": (lambda: DEMO_TEXT.encode("gb18030"), "not UTF-8", lambda: _line_of("\u201c1+N")),
    "mojibake": (
        lambda: DEMO_TEXT.encode().decode("cp1252", errors="replace").encode(),
        "mis-encoded",
        lambda: _line_of("\u201c1+N"),
    ),
    "cut inside a character": (
        lambda: DEMO.read_bytes()[: DEMO.read_bytes().index("关于".encode()) + 1],
        "truncated",
        lambda: _line_of("System (关于"),
    ),
    "cut after at a glance": (
        _truncated_after_glance,
        "no 'Article:'",
        lambda: _line_of(
            "At a glance: The Ministry of Industry and Information Technology (MIIT) released"
        ),
    ),
    "cut inside a news item": (
        _truncated_in_news,
        "truncated",
        lambda: _line_of("Chinese companies, focusing"),
    ),
    "cut inside a title": (
        _truncated_in_title,
        "truncated",
        lambda: _line_of("Article: Notice on the Selection"),
    ),
    "cut before the date": (
        _truncated_before_date,
        "truncated",
        lambda: _line_of("Issuing body: MIIT  "),
    ),
    "empty": (lambda: b"", "no briefs found", lambda: None),
    "blank lines only": (lambda: b" \n\n\t\r\n", "no briefs found", lambda: None),
    "bom only": (lambda: b"\xef\xbb\xbf", "no briefs found", lambda: None),
    "text without briefs": (
        lambda: b"Dear reader,\n\nthis month's issue is delayed. We will send it next week.\n",
        "no briefs found",
        lambda: None,
    ),
    "markdown list": (
        lambda: b"# Notes\n\n- buy milk\n- call Li Wei\n",
        "no briefs found",
        lambda: None,
    ),
    "pdf": (lambda: b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\n", "PDF", lambda: 1),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_file_is_refused_and_changes_nothing(
    factory: Factory, connection: Connection, corpus: None, kind: str
) -> None:
    content, message, line = BAD_FILES[kind]
    raw = content()
    before = counts(connection)
    assert before["briefs"] == BRIEFS_IN_DEMO and before["search_documents"] == BRIEFS_IN_DEMO
    source = f"bad-{kind.replace(' ', '-')}.txt"
    with pytest.raises(ParseError) as info:
        ingest(factory, raw, source)
    error = info.value
    assert error.source == source and str(error).startswith(source)
    assert message in error.message
    assert error.line == line()
    if error.line is not None:
        assert str(error).startswith(f"{source}, line {error.line}: ")
    assert counts(connection) == before


def test_bad_files_refused_on_an_empty_database_too(
    factory: Factory, connection: Connection
) -> None:
    before = counts(connection)
    for content, _, _ in BAD_FILES.values():
        with pytest.raises(ParseError):
            ingest(factory, content(), "bad.txt")
    assert counts(connection) == before


def test_ingest_paths_stores_good_files_and_reports_bad_ones(
    factory: Factory, connection: Connection, tmp_path: Path
) -> None:
    good = tmp_path / "good-2024-11.txt"
    good.write_bytes(DEMO.read_bytes())
    # A bad file whose first brief is fine: none of it may be stored.
    bad = tmp_path / "bad-2024-12.txt"
    bad.write_text(
        _between("At a glance: The MIIT announced", "At a glance: The MIIT issued").replace(
            "Notice on Carrying out the Gradient", "Notice on Launching the Gradient"
        )
        + _truncated_after_glance().decode()[:2000],
        encoding="utf-8",
    )
    missing = tmp_path / "missing.txt"
    before = counts(connection)
    seen: list[Path] = []
    results = ingest_paths(factory, [bad, good, missing], NOW, on_file=lambda p, _r: seen.append(p))

    assert seen == [bad, good, missing]
    bad_result, good_result, missing_result = results
    assert isinstance(bad_result, ParseError) and bad_result.source == str(bad)
    assert str(bad) in str(bad_result) and bad_result.line is not None
    assert isinstance(good_result, IngestSummary) and good_result.added == BRIEFS_IN_DEMO
    assert isinstance(missing_result, ParseError) and "cannot read" in str(missing_result)
    assert str(missing) in str(missing_result)

    after = counts(connection)
    assert after["briefs"] == before["briefs"] + BRIEFS_IN_DEMO
    assert after["source_documents"] == before["source_documents"] + 1
    with factory() as session:
        assert (
            session.scalars(select(Brief).where(Brief.title.like("Notice on Launching%"))).all()
            == []
        )


def test_a_failure_while_writing_rolls_the_whole_file_back(
    factory: Factory, connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = counts(connection)

    def fail(self: writer.IssueWriter, changed: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer.IssueWriter, "_add_vocabulary", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_paths(factory, [DEMO], NOW)
    assert counts(connection) == before


def test_goal_ids_follow_their_text_when_a_goal_is_inserted(
    factory: sessionmaker[Session],
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from policybot.data.ingest.writer import ingest_bytes
    from policybot.data.models import Goal

    def issue(*goals: str) -> bytes:
        bullets = "\n\n".join(f"\uf0a1 {g}" for g in goals)
        return (
            "At a glance: The MIIT issued a robot plan. Key goals include:\n\n"
            f"{bullets}\n\n"
            "Article: Humanoid Robot Plan (人形机器人计划) (Link)\n\n"
            "Issuing body: MIIT\n\nDate: December 2, 2024\n\nhttps://example.org/robots\n"
        ).encode()

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with factory() as session, session.begin():
        ingest_bytes(
            session,
            issue("Mass-produce humanoid robots by 2027", "Build 3 test fields"),
            "a.txt",
            now,
        )
    with factory() as session:
        before = {g.text: g.id for g in session.scalars(select(Goal))}
    with factory() as session, session.begin():
        ingest_bytes(
            session,
            issue(
                "Set up an innovation center",
                "Mass-produce humanoid robots by 2027",
                "Build 3 test fields.",
            ),
            "b.txt",
            now,
        )
    with factory() as session:
        after = {g.text: g.id for g in session.scalars(select(Goal))}
    assert (
        after["Mass-produce humanoid robots by 2027"]
        == before["Mass-produce humanoid robots by 2027"]
    )
    assert after["Build 3 test fields."] == before["Build 3 test fields"]  # edited: same id
    assert after["Set up an innovation center"] not in before.values()


def test_the_comments_author_is_searchable(factory: Factory, corpus: None) -> None:
    """ "MERICS comment:" keeps MERICS as the author, and `/policy MERICS` finds them."""
    from policybot.handlers.commands import CommandRunner
    from policybot.handlers.context import Context

    with factory() as session:
        policy = {b.ref for b in session.scalars(select(Brief)) if b.kind == "policy"}
        authors = {b.comment_author for b in session.scalars(select(Brief)) if b.kind == "policy"}
    assert authors == {"MERICS"}
    reply = CommandRunner(factory).run("MERICS", Context(now=NOW))
    found = {b.ref for b in reply.briefs}
    while reply.buttons and "page:" in reply.buttons[0].command:
        reply = CommandRunner(factory).run(reply.buttons[0].command, Context(now=NOW))
        found |= {b.ref for b in reply.briefs}
    assert policy <= found
