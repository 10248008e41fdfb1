"""Tests for data.search (analysis and both engines) and the store's search, on SQLite and
PostgreSQL. Briefs are built here, small and synthetic, so each test shows what it ranks."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policybot.data import briefs as briefs_data
from policybot.data.bodies import BodyRegistry, body_names, resolve_body
from policybot.data.briefs import (
    BriefFilter,
    get_brief,
    get_brief_of_goal,
    matching_ids,
    parse_brief_ref,
    parse_goal_ref,
)
from policybot.data.models import Brief, BriefKind, Goal, GoalStatus
from policybot.data.search.analysis import (
    TermQuery,
    any_phrase_query,
    cjk_bigrams,
    index_terms,
    phrase_query,
    terms,
    word_query,
)
from policybot.data.search.engines import IndexedFields, engine_for
from policybot.data.search.fields import indexed_fields
from tests.conftest import NOW

_ids = itertools.count()


def add_brief(
    session: Session,
    title: str,
    *,
    summary: str = "",
    comment: str = "",
    title_original: str | None = None,
    kind: BriefKind = BriefKind.POLICY,
    published_on: date | None = date(2024, 11, 1),
    bodies: Sequence[str] = (),
    goals: Sequence[tuple[str, date | None]] = (),
) -> Brief:
    """A brief, stored and indexed as ingestion would."""
    registry = BodyRegistry(session)
    registry.ensure_known()
    brief = Brief(
        identity=f"test-{next(_ids)}-{title[:20]}",
        content_hash="test",
        kind=kind,
        title=title,
        title_original=title_original,
        published_on=published_on,
        summary=summary,
        comment=comment,
        links=[],
        bodies_more=False,
        source_label=None,
        ingested_at=NOW,
        updated_at=NOW,
    )
    brief.bodies = [registry.resolve(name, {}) for name in bodies]
    brief.goals = [
        Goal(position=i, text=t, due_on=d, precision="day" if d else None, status=GoalStatus.OPEN)
        for i, (t, d) in enumerate(goals)
    ]
    session.add(brief)
    session.flush()
    engine_for(session).index(session, [(brief.id, indexed_fields(brief))])
    return brief


def ids(session: Session, *queries: TermQuery | None, **filters: object) -> list[int]:
    include = tuple(q for q in queries if q is not None)
    where = BriefFilter(include=include, **filters)  # type: ignore[arg-type]
    return [b.id for b in briefs_data.search(session, where, 100).briefs]


def w(word: str) -> TermQuery:
    query = word_query(word)
    assert query is not None
    return query


# --- analysis (no database) ----------------------------------------------------------------


def test_terms_stem_english_and_fold_case_and_width() -> None:
    assert terms("Stored STORAGE factories Factory") == ["store", "storag", "factori", "factori"]
    assert terms("\uff33\uff54\uff4f\uff52\uff41\uff47\uff45") == ["storag"]  # full width
    assert terms("China's plan") == ["china", "plan"]


def test_cjk_runs_become_bigrams() -> None:
    assert terms("新型储能制造业") == ["新型", "型储", "储能", "能制", "制造", "造业"]
    assert cjk_bigrams("储") == ["储"]
    assert terms("5G网络 storage") == ["5g", "网络", "storag"]


def test_index_terms_add_the_last_character_of_each_run_after_the_terms() -> None:
    assert index_terms("锂电池 and 储能") == ["锂电", "电池", "and", "储能", "池", "能"]
    assert index_terms("储 storage") == ["储", "storag"]  # a one-character run is there already


def test_word_query_expands_derivations() -> None:
    assert set(w("storage").alternatives) == {("storag",), ("store",)}
    assert set(w("stored").alternatives) >= {("store",), ("storag",)}
    assert w("factory").alternatives[0] == ("factori",)
    assert word_query("the") is None
    assert word_query("\U0001f600") is None
    assert word_query("*") is None


def test_word_query_for_cjk() -> None:
    assert w("储能") == TermQuery((("储能",),))
    assert w("储能制造") == TermQuery((("储能", "能制", "制造"),))
    assert w("储") == TermQuery((("储",),), prefix=True)


def test_very_long_words_are_capped_alike_in_documents_and_queries() -> None:
    word = "a" * 3000
    assert terms(word) == [w(word).alternatives[0][0]]
    assert len(terms(word)[0]) == 200


def test_any_phrase_query_drops_duplicates_and_empties() -> None:
    query = any_phrase_query(["MIIT", "miit", "", "\U0001f600", "工信部"])
    assert query == TermQuery((("miit",), ("工信", "信部")))
    assert any_phrase_query(["", "!!"]) is None


HOSTILE_TERMS = [
    'a" OR "b',
    "NEAR(a b)",
    "*",
    "a:*",
    "' | '",
    "!x & y",
    "\\",
    "'; DROP TABLE briefs; --",
    "title:x",
    "x''",
    "<->",
    "^",
]


@pytest.mark.parametrize("term", HOSTILE_TERMS)
def test_engines_take_any_term_literally(session: Session, term: str) -> None:
    add_brief(session, "Storage rules", summary="or not near title")
    for query in (TermQuery(((term,),)), TermQuery(((term,),), prefix=True)):
        assert ids(session, query) == []


@pytest.mark.parametrize(
    "alternatives", [(), ((),), (("",),), (("a\x00b",),), (("ok",), ("ok", ""))]
)
def test_a_term_query_refuses_what_no_engine_can_quote(
    alternatives: tuple[tuple[str, ...], ...],
) -> None:
    with pytest.raises(ValueError, match="not a searchable TermQuery"):
        TermQuery(alternatives)


# --- stemming, Chinese, single characters ---------------------------------------------------


def test_stemming_storage_and_stored(session: Session) -> None:
    stored = add_brief(session, "Grain reserves", summary="Grain is stored in state depots.")
    storage = add_brief(session, "Energy plan", summary="Battery storage capacity will grow.")
    stores = add_brief(session, "Retail", summary="Stores sell more.")
    add_brief(session, "Unrelated", summary="Nothing about it here.")
    expected = {stored.id, storage.id, stores.id}
    assert set(ids(session, w("storage"))) == expected
    assert set(ids(session, w("stored"))) == expected
    assert set(ids(session, w("store"))) == expected


def test_stemming_factory_and_factories(session: Session) -> None:
    plural = add_brief(session, "Smart factories", summary="Upgrade plants.")
    singular = add_brief(session, "Pilot", summary="One factory per province.")
    add_brief(session, "Other", summary="Fact sheets.")
    assert set(ids(session, w("factory"))) == {plural.id, singular.id}
    assert set(ids(session, w("factories"))) == {plural.id, singular.id}


def test_chinese_two_character_word(session: Session) -> None:
    plan = add_brief(
        session, "Energy storage plan", title_original="新型储能制造业高质量发展行动方案"
    )
    add_brief(session, "Materials", title_original="新材料大数据中心总体建设方案")
    add_brief(session, "Reserves", summary="储备能力")  # 储 and 能 apart: not 储能
    assert ids(session, w("储能")) == [plan.id]


def test_chinese_three_and_more_characters(session: Session) -> None:
    plan = add_brief(
        session, "Energy storage plan", title_original="新型储能制造业高质量发展行动方案"
    )
    materials = add_brief(session, "Materials", title_original="新材料大数据中心总体建设方案")
    assert ids(session, w("制造业")) == [plan.id]
    assert ids(session, w("新材料")) == [materials.id]
    assert ids(session, w("储能制造业")) == [plan.id]
    assert ids(session, w("材料新")) == []  # the characters, but not in this order
    assert set(ids(session, w("方案"))) == {plan.id, materials.id}


def test_single_cjk_character_anywhere_in_a_word(session: Session) -> None:
    battery = add_brief(session, "Battery rules", title_original="锂电池行业规范")
    cell = add_brief(session, "Cells", summary="锂电池")  # 池 ends the run
    add_brief(session, "Other", title_original="新材料")
    assert set(ids(session, w("池"))) == {battery.id, cell.id}
    assert set(ids(session, w("锂"))) == {battery.id, cell.id}
    assert ids(session, w("规")) == [battery.id]
    assert ids(session, w("料")) != []
    assert ids(session, w("鱼")) == []


def test_chinese_phrase_does_not_match_across_a_gap(session: Session) -> None:
    add_brief(session, "Gap", title_original="储 能")  # two one-character runs
    joined = add_brief(session, "Joined", title_original="储能")
    assert ids(session, w("储能")) == [joined.id]


# --- phrases, fields, exclusion ----------------------------------------------------------------


def test_phrase_needs_adjacent_words(session: Session) -> None:
    adjacent = add_brief(session, "Smart factory levels", summary="Basic and advanced.")
    apart = add_brief(session, "Smart rules", summary="For every factory.")
    assert ids(session, phrase_query("smart factory")) == [adjacent.id]
    assert set(ids(session, w("smart"), w("factory"))) == {adjacent.id, apart.id}
    assert ids(session, phrase_query("smart factories")) == [adjacent.id]  # stemmed too


def test_phrase_does_not_run_from_one_field_into_the_next(session: Session) -> None:
    add_brief(session, "Rules for smart", summary="factory owners")
    assert ids(session, phrase_query("smart factory")) == []


def test_exclusion(session: Session) -> None:
    both = add_brief(session, "Storage", summary="Battery storage.")
    only = add_brief(session, "Storage", summary="Pumped hydro storage.")
    assert ids(session, w("storage"), exclude=(w("battery"),)) == [only.id]
    assert set(ids(session, w("storage"))) == {both.id, only.id}


def test_exclusion_only(session: Session) -> None:
    battery = add_brief(session, "Battery storage")
    hydro = add_brief(session, "Pumped hydro")
    grid = add_brief(session, "Grid")
    assert set(ids(session, exclude=(w("battery"),))) == {hydro.id, grid.id}
    assert battery.id not in ids(session, exclude=(w("battery"),))
    # Excluding any of several words.
    assert ids(session, exclude=(w("battery"), w("hydro"))) == [grid.id]


@pytest.mark.parametrize(
    "text",
    [
        "NEAR(",
        "*",
        '"',
        "AND OR",
        "storage OR",
        "NOT storage",
        "'; DROP TABLE briefs; --",
        "1' OR '1'='1",
        '" OR ""="',
        "storage) OR (1=1",
        "%",
        "_",
        "\\",
        "title:storage",
        "{title body}: x",
        "^storage",
        "storage*",
    ],
)
def test_fts_and_sql_syntax_never_raise_nor_match_everything(session: Session, text: str) -> None:
    for n in range(4):
        add_brief(session, f"Brief {n} about storage", summary="Plans and targets.")
    total = session.scalar(select(func.count()).select_from(Brief)) or 0
    queries = [q for q in (phrase_query(text), *(word_query(t) for t in text.split())) if q]
    found = ids(session, *queries) if queries else []
    excluded = ids(session, exclude=tuple(queries)) if queries else []
    assert len(found) < total or all(
        "storag" in q.alternatives[0] or "brief" in q.alternatives[0] for q in queries
    )
    assert len(excluded) <= total
    assert session.scalar(select(func.count()).select_from(Brief)) == total  # nothing dropped


# --- ranking ------------------------------------------------------------------------------------


def test_title_outranks_body_and_comment_on_both_engines(session: Session) -> None:
    # The body-text brief is newer and says "storage" many times: the title still wins.
    in_comment = add_brief(
        session, "Comment only", comment="storage", published_on=date(2024, 12, 3)
    )
    in_body = add_brief(
        session,
        "Body text only",
        summary=" ".join(["Storage targets and storage capacity."] * 10),
        published_on=date(2024, 12, 2),
    )
    in_title = add_brief(
        session,
        "Notice on the storage of strategic grain reserves in provincial depots and the "
        "upgrading of warehouses, cold chains and logistics across the central regions",
        summary="Unrelated words.",
        published_on=date(2024, 1, 1),
    )
    in_original = add_brief(
        session, "Plan", title_original="储能 storage 方案", published_on=date(2023, 1, 1)
    )
    order = ids(session, w("storage"))
    assert set(order[:2]) == {in_title.id, in_original.id}
    assert order[2:] == [in_body.id, in_comment.id]


def test_body_field_ranks_between_title_and_text(session: Session) -> None:
    text_mention = add_brief(
        session,
        "A plan",
        summary="The Ministry of Finance (MOF) and partners.",
        published_on=date(2024, 12, 1),
    )
    issued = add_brief(session, "Another plan", bodies=["MOF"], published_on=date(2024, 11, 1))
    titled = add_brief(session, "MOF notice on tax", published_on=date(2024, 10, 1))
    assert ids(session, w("MOF")) == [titled.id, issued.id, text_mention.id]


def test_a_body_named_in_the_title_outranks_all_its_names_in_the_text(session: Session) -> None:
    in_text = add_brief(
        session,
        "Plan for industry",
        summary="The Ministry of Industry and Information Technology (MIIT), also called "
        "工信部 or 工业和信息化部, and the Ministry of Industry and IT.",
        bodies=["MIIT"],
        published_on=date(2024, 12, 1),
    )
    in_title = add_brief(session, "MIIT notice", published_on=date(2024, 1, 1))
    body = resolve_body(session, "MIIT")
    assert body is not None
    assert ids(session, any_phrase_query(body_names(body))) == [in_title.id, in_text.id]


def test_newest_first_among_equal_matches_and_without_text(session: Session) -> None:
    old = add_brief(session, "Storage", published_on=date(2024, 1, 1))
    new = add_brief(session, "Storage", published_on=date(2024, 6, 1))
    undated = add_brief(session, "Storage", published_on=None)
    assert ids(session, w("storage")) == [new.id, old.id, undated.id]
    assert ids(session) == [new.id, old.id, undated.id]


# --- filters, aliases, paging -------------------------------------------------------------------


def test_structured_filters(session: Session) -> None:
    miit_news = add_brief(
        session, "A", kind=BriefKind.NEWS, bodies=["MIIT"], published_on=date(2024, 11, 5)
    )
    mof_policy = add_brief(
        session,
        "B",
        bodies=["MOF"],
        published_on=date(2024, 10, 1),
        goals=[("By 2027", date(2027, 12, 31))],
    )
    both = add_brief(
        session,
        "C",
        bodies=["MIIT", "MOF"],
        published_on=date(2024, 12, 31),
        goals=[("By 2030", date(2030, 12, 31))],
    )
    miit = resolve_body(session, "MIIT")
    mof = resolve_body(session, "MOF")
    assert miit is not None and mof is not None
    assert ids(session, kind=BriefKind.NEWS) == [miit_news.id]
    assert ids(session, body_ids=(frozenset({miit.id}),)) == [both.id, miit_news.id]
    assert ids(session, body_ids=(frozenset({miit.id}), frozenset({mof.id}))) == [both.id]
    assert ids(session, exclude_body_ids=frozenset({miit.id})) == [mof_policy.id]
    assert ids(session, since=date(2024, 11, 5)) == [both.id, miit_news.id]
    assert ids(session, until=date(2024, 11, 4)) == [mof_policy.id]
    assert ids(session, since=date(2024, 11, 6), until=date(2024, 12, 30)) == []
    assert ids(session, due_year=2027) == [mof_policy.id]
    assert ids(session, due_year=2028) == []


def test_due_year_of_a_window_is_the_year_it_closes(session: Session) -> None:
    brief = add_brief(session, "Window")
    goal = brief.goals  # empty; add a window goal directly
    assert goal == []
    brief.goals.append(
        Goal(
            position=0,
            text="2025-2029",
            due_on=date(2029, 12, 31),
            precision="window",
            window_start=date(2025, 1, 1),
            status=GoalStatus.OPEN,
        )
    )
    session.flush()
    # A deadline in that year: a window's deadline is when it closes.
    assert ids(session, due_year=2029) == [brief.id]
    assert ids(session, due_year=2027) == []
    assert ids(session, due_year=2030) == []


def test_body_names_resolve_to_one_body_and_find_the_same_briefs(session: Session) -> None:
    by_abbreviation = add_brief(session, "The MIIT said", published_on=date(2024, 11, 3))
    by_chinese = add_brief(
        session, "Notice", title_original="工信部关于储能的通知", published_on=date(2024, 11, 2)
    )
    by_link = add_brief(session, "Plan", bodies=["MIIT"], published_on=date(2024, 11, 1))
    add_brief(session, "The MOF said")
    names = [
        "MIIT",
        "Ministry of Industry and Information Technology",
        "工信部",
        "miit",
        "The MIIT",
    ]
    bodies = {name: resolve_body(session, name) for name in names}
    assert len({b.id for b in bodies.values() if b is not None}) == 1
    assert all(bodies.values())
    body = bodies["MIIT"]
    assert body is not None
    query = any_phrase_query(body_names(body))
    assert set(ids(session, query)) == {by_abbreviation.id, by_chinese.id, by_link.id}
    assert resolve_body(session, "Ministry of Magic") is None
    assert resolve_body(session, "") is None


def test_paging(session: Session) -> None:
    made = [add_brief(session, f"Storage {n}", published_on=date(2024, 1, n + 1)) for n in range(7)]
    where = BriefFilter(include=(w("storage"),))
    first = briefs_data.search(session, where, 5, 0)
    second = briefs_data.search(session, where, 5, 5)
    assert first.total == second.total == 7
    assert first.has_more and not second.has_more
    assert [b.id for b in first.briefs + second.briefs] == [b.id for b in reversed(made)]


def test_reindexing_replaces_and_remove_drops(session: Session) -> None:
    brief = add_brief(session, "Storage plan")
    engine = engine_for(session)
    fields = IndexedFields(title="Hydrogen plan", bodies="", text="", comment="")
    engine.index(session, [(brief.id, fields)])
    engine.index(session, [(brief.id, fields)])  # twice: still one entry
    assert ids(session, w("storage")) == []
    assert ids(session, w("hydrogen")) == [brief.id]
    engine.remove(session, [brief.id])
    assert ids(session, w("hydrogen")) == []


def test_a_word_longer_than_postgres_allows_is_indexed_and_found(session: Session) -> None:
    word = "x" * 2500
    brief = add_brief(session, "Long", summary=f"{word} and more")
    assert ids(session, w(word)) == [brief.id]


def test_ids_beyond_the_integer_column_are_not_found(session: Session) -> None:
    assert get_brief(session, 2**31) is None
    assert get_brief(session, 99999999999) is None
    assert get_brief_of_goal(session, 2**40) is None
    assert get_brief(session, 0) is None
    assert parse_brief_ref(" B12 ") == 12
    assert parse_goal_ref("g5") == 5
    assert parse_brief_ref("g5") is None


def test_suggest_close_words_and_bodies(session: Session) -> None:
    from policybot.data.ingest.writer import IssueWriter

    brief = add_brief(session, "Energy storage manufacturing", summary="Battery storage.")
    IssueWriter(session, NOW)._add_vocabulary([brief])
    suggestions = briefs_data.suggest(session, ["storge", "battery", "MITT"])
    assert "storage" in suggestions.terms
    assert suggestions.for_word["storge"][0] == "storage"
    assert "battery" not in suggestions.for_word  # it occurs: nothing to suggest
    assert "MIIT" in suggestions.bodies
    assert briefs_data.suggest(session, ["zzzzqqq"]).terms == []


def test_a_title_match_outranks_newer_text_matches_of_several_words(session: Session) -> None:
    titled = add_brief(session, "Storage notice", comment="battery", published_on=date(2020, 1, 1))
    texts = [
        add_brief(
            session,
            f"Plan {n}",
            summary="storage battery storage battery",
            published_on=date(2024, 1, n + 1),
        )
        for n in range(3)
    ]
    order = ids(session, w("storage"), w("battery"))
    assert order[0] == titled.id
    assert set(order[1:]) == {b.id for b in texts}


def test_matching_ids_among_new_briefs(session: Session) -> None:
    from datetime import timedelta

    old = add_brief(session, "Storage old", summary="battery")
    new_match = add_brief(session, "Storage new", summary="hydro")
    new_excluded = add_brief(session, "Storage battery new")
    new_other = add_brief(session, "Grid new")
    later = NOW + timedelta(hours=1)
    for brief in (new_match, new_excluded, new_other):
        brief.ingested_at = later
    session.flush()
    storage = BriefFilter(include=(w("storage"),))
    assert matching_ids(session, storage, ingested_after=NOW) == [
        new_match.id,
        new_excluded.id,
    ]
    assert matching_ids(session, storage, ingested_after=NOW, ingested_until=NOW) == []
    without_battery = BriefFilter(include=(w("storage"),), exclude=(w("battery"),))
    assert matching_ids(session, without_battery, ingested_after=NOW) == [new_match.id]
    only_exclusion = BriefFilter(exclude=(w("battery"),))
    assert matching_ids(session, only_exclusion, ingested_after=NOW) == [
        new_match.id,
        new_other.id,
    ]
    assert matching_ids(session, storage, only_ids=[old.id, new_other.id]) == [old.id]
    assert matching_ids(session, storage, only_ids=[]) == []
    assert set(matching_ids(session, storage)) == {old.id, new_match.id, new_excluded.id}


# --- highlighting (no database) --------------------------------------------------------------


def test_emphasise_marks_the_words_whose_terms_matched() -> None:
    from policybot.data.search.highlight import emphasise

    text = "Standardisation of stored energy, storage and 新型储能电池."
    marked = emphasise(text, frozenset({"standard", "storag", "储能"}))
    assert marked == "*Standardisation* of stored energy, *storage* and 新型*储能*电池."
    assert emphasise(text, frozenset()) == text
    assert emphasise("Grids &amp; lines", frozenset({"amp", "grid"}), "_") == "_Grids_ &amp; lines"
    assert emphasise("储能电池", frozenset({"储能", "能电"})) == "*储能电*池"
