"""Ranked retrieval through the in-process index, on SQLite and PostgreSQL: partial matches,
operators, normalisation, the thesaurus, query understanding, and the index following the
database across processes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from policybot.data import briefs as briefs_data
from policybot.data.briefs import Page, matching_ids, text_matches
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.deadlines import due_goals
from policybot.data.errors import UserError
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief
from policybot.data.query.compiler import BodyNames, build_filter
from policybot.data.query.language import parse_query
from policybot.data.query.understanding import understand
from policybot.data.search.engines import engine_for
from tests.conftest import DEMO_CORPUS, NOW
from tests.data.test_search import add_brief

TRACKERS = sorted(
    (Path(__file__).resolve().parents[2] / "benchmarks" / "relevance" / "trackers").glob("*.txt")
)


def found(session: Session, text: str) -> Page:
    where, _ = build_filter(session, parse_query(text))
    return briefs_data.search(session, where, 100)


def titles(session: Session, text: str) -> list[str]:
    return [b.title for b in found(session, text).briefs]


def test_when_no_brief_has_every_word_the_best_partial_matches_come(session: Session) -> None:
    battery = add_brief(session, "Battery rules", summary="Cells and packs.")
    grid = add_brief(session, "Grid plan", summary="Transmission lines.")
    page = found(session, "battery transmission")
    assert page.partial and {b.id for b in page.briefs} == {battery.id, grid.id}
    assert page.unmatched == []
    assert not found(session, "battery cells").partial
    # A word no brief has at all is named, so the reply can offer the query without it.
    assert found(session, "battery zeppelin").unmatched == [1]


def test_partial_matches_need_most_of_the_query(session: Session) -> None:
    add_brief(session, "Power grid plan", summary="Power lines and power plants.")
    # "power" is common, "nuclear" unknown: one common word does not answer the question.
    assert found(session, "nuclear power").total == 0


def test_or_not_phrase_and_prefix(session: Session) -> None:
    storage = add_brief(session, "Energy storage plan", summary="Pumped hydro.")
    battery = add_brief(session, "Battery rules", summary="Lithium cells.")
    sodium = add_brief(session, "Sodium battery plant")
    add_brief(session, "Grid plan")
    assert {b.id for b in found(session, "storage OR battery").briefs} == {
        storage.id,
        battery.id,
        sodium.id,
    }
    assert [b.id for b in found(session, "battery NOT lithium").briefs] == [sodium.id]
    assert [b.id for b in found(session, "battery -lithium").briefs] == [sodium.id]
    assert [b.id for b in found(session, '"pumped hydro"').briefs] == [storage.id]
    assert found(session, '"hydro pumped"').total == 0
    assert [b.id for b in found(session, "lith*").briefs] == [battery.id]


def test_spelling_and_hyphen_variants(session: Session) -> None:
    standards = add_brief(session, "Standardization of data centers", summary="Digitalization.")
    commerce = add_brief(
        session, "Online rules", summary="E-commerce platforms and lithium-ion cells."
    )
    for text in ("standardisation", "data centre", "digitalisation", "standards"):
        assert standards.id in {b.id for b in found(session, text).briefs}, text
    for text in ("ecommerce", "e-commerce", "lithium ion", "lithium-ion"):
        assert [b.id for b in found(session, text).briefs] == [commerce.id], text


def test_synonyms_rank_below_the_literal_word(session: Session) -> None:
    synonym = add_brief(
        session,
        "Plan",
        summary="Artificial intelligence in factories.",
        published_on=date(2024, 12, 1),
    )
    literal = add_brief(session, "Plan", summary="AI in factories.", published_on=date(2024, 1, 1))
    chinese = add_brief(session, "Plan", title_original="人工智能", published_on=date(2023, 1, 1))
    assert [b.id for b in found(session, "AI").briefs][:2] == [chinese.id, literal.id]
    assert set(b.id for b in found(session, "AI").briefs) == {synonym.id, literal.id, chinese.id}
    # Cross-lingual: English finds the Chinese-only brief, and the reverse.
    assert chinese.id in {b.id for b in found(session, "artificial intelligence").briefs}
    assert synonym.id in {b.id for b in found(session, "人工智能").briefs}


def test_targets_find_goals(session: Session) -> None:
    goals = add_brief(session, "Battery plan", summary="Goals include capacity.")
    assert [b.id for b in found(session, "battery targets").briefs] == [goals.id]


def test_ranking_is_exact_over_the_whole_store(session: Session) -> None:
    # The best match is the oldest brief among many newer weak ones: it still comes first.
    best = add_brief(session, "Storage storage", summary="storage", published_on=date(2000, 1, 1))
    for n in range(60):
        add_brief(session, f"Plan {n}", comment="storage", published_on=date(2024, 1, 1 + n % 28))
    page = found(session, "storage")
    assert page.total == 61 and page.briefs[0].id == best.id


def test_question_words_become_filters(session: Session, corpus: None) -> None:
    names = BodyNames(session)
    today = date(2025, 2, 15)
    query = parse_query("what did NDRC publish")
    reading = understand(query, today, names)
    assert reading.notes == ("body:NDRC",) and list(reading.query.words) == []
    assert list(query.words) == ["what", "did", "NDRC", "publish"]  # a new value: the parse is kept
    assert understand(parse_query("what is due next year"), today, names).notes == ("due:2026",)
    reading = understand(parse_query("targets for 2027 storage"), today, names)
    assert reading.notes == ("due:2027",) and list(reading.query.words) == ["storage"]
    reading = understand(parse_query("battery since October"), today, names)
    assert reading.query.since == date(2024, 10, 1) and list(reading.query.words) == ["battery"]
    reading = understand(parse_query("storage last month"), today, names)
    assert (reading.query.since, reading.query.until) == (date(2025, 1, 1), date(2025, 1, 31))
    assert not understand(parse_query("Made in China 2025"), today, names).changed


def _ranked_pages(
    factory: sessionmaker[Session], texts: list[str]
) -> dict[str, list[tuple[str, str | None]]]:
    out = {}
    with factory() as session:
        for text in texts:
            where, _ = build_filter(session, parse_query(text))
            out[text] = [
                (b.title, b.title_original) for b in briefs_data.search(session, where, 10).briefs
            ]
    return out


def test_sqlite_and_postgres_rank_alike(tmp_path: Path, fresh_postgres_url: str) -> None:
    texts = [
        "storage",
        "battery",
        "manufacturing",
        "smart factory",
        "储能",
        "AI",
        "data OR chips",
        "energy -battery",
        "standards 2027",
    ]
    pages = []
    for url in (f"sqlite:///{tmp_path / 'same.sqlite3'}", fresh_postgres_url):
        engine = make_engine(url)
        upgrade(engine)
        factory = session_factory(engine)
        for path in (DEMO_CORPUS, *TRACKERS):
            with factory() as session, session.begin():
                ingest_bytes(session, path.read_bytes(), path.name, NOW)
        pages.append(_ranked_pages(factory, texts))
        engine.dispose()
    assert pages[0] == pages[1]
    assert all(pages[0][t] for t in texts)


def test_every_process_follows_the_database(tmp_path: Path) -> None:
    """Two engines stand for two replicas: each one's index notices the other's changes."""
    path = tmp_path / "replicas.sqlite3"
    (tmp_path / "link.sqlite3").symlink_to(path)  # another name: another process's index
    first, second = (
        make_engine(f"sqlite:///{path}"),
        make_engine(f"sqlite:///{tmp_path / 'link.sqlite3'}"),
    )
    upgrade(first)
    ones, twos = session_factory(first), session_factory(second)
    with ones() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW)
    with twos() as session:
        assert titles(session, "储能")  # built from the database on first use
    with ones() as session, session.begin():
        brief = add_brief(session, "Zeppelin storage plan")
        brief_id = brief.id
    with twos() as session:
        assert titles(session, "zeppelin") == ["Zeppelin storage plan"]
    with ones() as session, session.begin():
        engine_for(session).remove(session, [brief_id])
        session.delete(session.get_one(Brief, brief_id))
    with twos() as session:
        assert titles(session, "zeppelin") == []
    first.dispose()
    second.dispose()


def test_among_matches_only_the_given_briefs(session: Session) -> None:
    a = add_brief(session, "Storage plan")
    b = add_brief(session, "Battery storage")
    add_brief(session, "Storage rules")
    where, _ = build_filter(session, parse_query("storage -battery"))
    assert engine_for(session).among(session, where.include, where.exclude, [a.id, b.id]) == {a.id}
    assert matching_ids(session, where, only_ids=[a.id, b.id]) == [a.id]


def test_due_year_is_the_same_for_search_and_deadlines(session: Session) -> None:
    from policybot.data.models import Goal, GoalStatus

    brief = add_brief(session, "Window storage")
    brief.goals.append(
        Goal(
            position=0,
            text="five years",
            due_on=date(2029, 12, 31),
            precision="window",
            window_start=date(2025, 1, 1),
            status=GoalStatus.OPEN,
        )
    )
    session.flush()
    engine_for(session).index(
        session,
        [
            (
                brief.id,
                __import__("policybot.data.search.fields", fromlist=["x"]).indexed_fields(brief),
            )
        ],
    )
    for year, expected in ((2027, []), (2029, [brief.id])):
        where, _ = build_filter(session, parse_query(f"storage due:{year}"))
        assert [b.id for b in briefs_data.search(session, where, 10).briefs] == expected
        due = due_goals(session, date(2025, 1, 1), date(2035, 1, 1), where)
        assert [d.brief.id for d in due] == expected
    assert datetime.now(UTC)


# --- the index at its edges: segments, phrases, backfill, highlighting -----------------------


def test_a_phrase_is_found_from_a_rare_or_a_common_first_word(session: Session) -> None:
    """Both ways a phrase is checked: binary search from a rare word's few positions, and the
    stream bitmap when both words are common."""
    for i in range(20):
        add_brief(session, f"Storage note {i}", summary="storage storage new storage")
    energy = add_brief(session, "Energy storage plan", summary="New energy storage.")
    apart = add_brief(session, "Energy and then storage", summary="energy policy, storage")
    assert [b.id for b in found(session, '"energy storage"').briefs] == [energy.id]
    assert apart.id not in {b.id for b in found(session, '"energy storage"').briefs}
    common = found(session, '"new storage"')
    assert common.total == 20 and energy.id not in {b.id for b in common.briefs}


def test_a_replaced_brief_is_scored_once_with_its_new_text(session: Session) -> None:
    from policybot.data.search.fields import indexed_fields

    brief = add_brief(session, "Battery rules", summary="Cells.")
    other = add_brief(session, "Battery plan", summary="Packs.")
    brief.title, brief.summary = "Grid rules", "Transmission."
    session.flush()
    engine_for(session).index(session, [(brief.id, indexed_fields(brief))])
    assert [b.id for b in found(session, "battery").briefs] == [other.id]
    assert [b.id for b in found(session, "transmission").briefs] == [brief.id]


def test_briefs_stored_before_search_documents_are_found_and_backfilled_once(
    session: Session,
) -> None:
    from sqlalchemy import delete, select, update

    from policybot.data.models import SearchDocument
    from policybot.data.search.analysis import ANALYSIS_VERSION
    from policybot.data.search.backfill import (
        briefs_without_documents,
        write_missing_documents,
    )

    old = add_brief(session, "Hydrogen roadmap", summary="Electrolysers.")
    stale = add_brief(session, "Hydrogen pipelines", summary="Transport.")
    kept = add_brief(session, "Grid plan", summary="Lines.")
    session.execute(delete(SearchDocument).where(SearchDocument.brief_id == old.id))
    session.execute(
        update(SearchDocument).where(SearchDocument.brief_id == stale.id).values(analysis=1)
    )
    assert briefs_without_documents(session) == [old.id, stale.id]
    assert write_missing_documents(session) == 2
    assert briefs_without_documents(session) == []
    assert write_missing_documents(session) == 0
    rows = session.execute(select(SearchDocument.brief_id, SearchDocument.analysis))
    analyses = {brief_id: analysis for brief_id, analysis in rows}
    assert analyses == {
        old.id: ANALYSIS_VERSION,
        stale.id: ANALYSIS_VERSION,
        kept.id: ANALYSIS_VERSION,
    }
    assert {b.id for b in found(session, "hydrogen").briefs} == {old.id, stale.id}


def test_the_page_says_which_terms_each_brief_matched(session: Session) -> None:
    both = add_brief(session, "Energy storage plan", summary="Stored power for the grid.")
    one = add_brief(session, "Storage rules", summary="Warehouses.")
    page = found(session, "storage grid")
    assert page.briefs[0].id == both.id
    assert {"storag", "grid"} <= page.matched_terms[both.id]
    partial = found(session, "warehouses hydrogen")
    assert partial.matched_terms == {} or "hydrogen" not in partial.matched_terms.get(one.id, set())
    chinese = add_brief(session, "Plan", title_original="新型储能行动方案")
    assert "储能" in found(session, "储能").matched_terms[chinese.id]


def test_a_committed_brief_without_a_document_is_found_before_the_backfill(
    tmp_path: Path,
) -> None:
    from sqlalchemy import delete

    from policybot.data.models import SearchDocument
    from policybot.data.search.ranking import Searcher
    from policybot.data.search.shared import shared_index

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        brief_id = add_brief(session, "Hydrogen roadmap", summary="Electrolysers.").id
    with session_factory(engine)() as session, session.begin():
        session.execute(delete(SearchDocument))  # as a database from before migration 0007
    with session_factory(engine)() as session:
        assert [b.id for b in found(session, "hydrogen").briefs] == [brief_id]
        shared = shared_index(engine).searcher
        assert shared is not None and Searcher(shared).documents == 1
    engine.dispose()


def test_due_by_runs_from_today_to_the_end_of_the_year(session: Session) -> None:
    """`due:..2030` read with a today: a deadline already passed is not "by 2030", one at
    the end of 2030 is; search and deadlines agree."""
    passed = add_brief(session, "Passed storage", goals=[("by mid 2026", date(2026, 6, 30))])
    ahead = add_brief(session, "Ahead storage", goals=[("by 2030", date(2030, 12, 31))])
    later = add_brief(session, "Later storage", goals=[("by 2031", date(2031, 12, 31))])
    today = date(2026, 11, 29)
    where, _ = build_filter(session, parse_query("storage due:..2030"), today=today)
    assert [b.id for b in briefs_data.search(session, where, 10).briefs] == [ahead.id]
    assert text_matches(session, where) == {ahead.id}
    due = due_goals(session, today, date(2035, 1, 1), where)
    assert [d.brief.id for d in due] == [ahead.id]
    # Without a today (a subscription's filter) every deadline up to then counts.
    where, _ = build_filter(session, parse_query("storage due:..2030"))
    assert {b.id for b in briefs_data.search(session, where, 10).briefs} == {passed.id, ahead.id}
    assert later.id not in matching_ids(session, where)


def test_dotted_acronyms_are_one_word_and_a_lone_letter_is_not_searched(session: Session) -> None:
    zones = add_brief(session, "Four zones upgraded", summary="Zones, i.e. parks, in Jiangxi.")
    ai = add_brief(session, "A.I. chips", summary="Artificial intelligence hardware.")
    written_out = add_brief(session, "Artificial intelligence plan")
    states = add_brief(session, "Export rules", summary="Talks with the United States.")
    union = add_brief(session, "Tariff talks", summary="The E.U. and China met.")
    for text in ("A.I.", "a.i.", "AI", "A.I"):
        assert {b.id for b in found(session, text).briefs} == {ai.id, written_out.id}, text
    assert [b.id for b in found(session, "i.e.").briefs] == [zones.id]
    assert [b.id for b in found(session, "U.S.").briefs] == [states.id]
    assert [b.id for b in found(session, "EU").briefs] == [union.id]
    assert [b.id for b in found(session, "European Union").briefs] == [union.id]
    # "i" alone would find every "i.e." and "I": it is not a search term.
    with pytest.raises(UserError):
        build_filter(session, parse_query("i"))
    assert [b.id for b in found(session, "zones i").briefs] == [zones.id]


def test_exclusions_expand_like_inclusions(session: Session) -> None:
    english = add_brief(session, "Storage plan", summary="Lithium batteries and pumped hydro.")
    chinese = add_brief(session, "Storage rules", summary="锂电池 and flywheels.")
    plain = add_brief(session, "Storage pilot", summary="Compressed air.")
    assert {b.id for b in found(session, "锂电池").briefs} == {english.id, chinese.id}
    for text in ("storage -锂电池", "storage NOT 锂电池", 'storage -"lithium battery"'):
        assert [b.id for b in found(session, text).briefs] == [plain.id], text


def test_thesaurus_names_plurals_regions_and_spellings(session: Session) -> None:
    smes = add_brief(session, "Platform rules", summary="Support SMEs in going digital.")
    europe = add_brief(session, "R&D centre", summary="A lab in Europe.")
    european = add_brief(session, "Chip venture", summary="A European chipmaker.")
    gas = add_brief(session, "Gas deal", summary="Two million tons of liquefied natural gas.")
    assert [b.id for b in found(session, "small businesses").briefs] == [smes.id]
    assert {b.id for b in found(session, "Europe").briefs} == {europe.id, european.id}
    assert {b.id for b in found(session, "European").briefs} == {europe.id, european.id}
    for text in ("liquified", "liquified natural gas", "LNG"):
        assert [b.id for b in found(session, text).briefs] == [gas.id], text
