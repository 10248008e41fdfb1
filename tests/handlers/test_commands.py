"""Tests for the `/policy` commands (handlers.commands, handlers.briefs) on the demo corpus,
on SQLite and PostgreSQL. Brief and goal ids differ between engines (PostgreSQL sequences
do not roll back), so tests find them by title."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.blocks import render_blocks
from policybot.data.models import Brief, BriefKind, Goal
from policybot.handlers.commands import COMMANDS, CommandRunner, parse_command
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.handlers.replies import Reply, Visibility
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("corpus")

STORAGE_PLAN = "Action Plan for the High-Quality Development of the New Energy Storage"
SMART_FACTORIES = "Notice on Carrying out the Gradient Cultivation Action of Smart Factories"
MATERIALS = "Issuing the Overall Construction Plan for the New Materials Big Data"
TECHNOLOGIES = "Notice on the Selection of Advanced and Applicable Technologies"
BIOMANUFACTURING = "Notice on the Collection of Typical Application Cases of Smart"
AIRBUS = "Airbus announced"
BATTERY_STANDARDS = "The MIIT released guidelines for construction of the national lithium"


@pytest.fixture
def run(factory: sessionmaker[Session]) -> object:
    runner = CommandRunner(factory)

    def run(text: str, now: object = NOW, **context: object) -> Reply:
        return runner.run(text, Context(now=now, **context))  # type: ignore[arg-type]

    return run


@pytest.fixture
def briefs(factory: sessionmaker[Session]) -> list[Brief]:
    with factory() as session:
        return list(session.scalars(select(Brief).order_by(Brief.id)))


def ref(briefs: list[Brief], title: str) -> str:
    matches = [b.ref for b in briefs if b.title.startswith(title)]
    assert len(matches) == 1, title
    return matches[0]


def refs(reply: Reply) -> list[str]:
    return [b.ref for b in reply.briefs]


def all_pages(run, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    reply = run(text)
    found = refs(reply)
    for _ in range(20):
        more = [b for b in reply.buttons if b.label == "More"]
        if not more:
            return found
        reply = run(more[0].command)
        assert not reply.is_error
        found += refs(reply)
    raise AssertionError("paging did not end")


# --- search: words --------------------------------------------------------------------------


def test_search_storage(run, briefs) -> None:  # type: ignore[no-untyped-def]
    reply = run("/policy storage")
    assert not reply.is_error
    assert refs(reply) == [ref(briefs, STORAGE_PLAN)]
    assert reply.text == "1 brief for storage"
    assert reply.visibility is Visibility.EPHEMERAL
    assert reply.buttons == []


@pytest.mark.parametrize(
    "word", ["stored", "STORAGE", "Storage", "\uff53\uff54\uff4f\uff52\uff41\uff47\uff45"]
)
def test_search_stems_and_folds(run, briefs, word: str) -> None:  # type: ignore[no-untyped-def]
    assert refs(run(word)) == [ref(briefs, STORAGE_PLAN)]


def test_search_factory_finds_factories(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert refs(run("factory")) == [ref(briefs, SMART_FACTORIES)]
    assert refs(run("factories")) == [ref(briefs, SMART_FACTORIES)]


def test_search_chinese_two_character_word(run, briefs) -> None:  # type: ignore[no-untyped-def]
    reply = run("/policy 储能")
    assert refs(reply) == [ref(briefs, STORAGE_PLAN)]
    assert reply.briefs[0].title_original and "储能" in reply.briefs[0].title_original


def test_search_chinese_longer_word_and_single_character(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert refs(run("新材料")) == [ref(briefs, MATERIALS)]
    assert refs(run("智能工厂")) == [ref(briefs, SMART_FACTORIES)]
    assert ref(briefs, STORAGE_PLAN) in refs(run("储"))


def test_titles_rank_first(run, briefs) -> None:  # type: ignore[no-untyped-def]
    # "smart" is in two titles and, many times, in the body of a third brief.
    found = refs(run("smart"))
    assert set(found[:2]) == {ref(briefs, SMART_FACTORIES), ref(briefs, BIOMANUFACTURING)}
    assert found[2:] == [ref(briefs, TECHNOLOGIES)]
    # "technology" is in three titles; briefs that only have it in their text come after.
    found = all_pages(run, "technology")
    titled = {b.ref for b in briefs if "technolog" in b.title.lower()}
    assert len(titled) == 3 and set(found[:3]) == titled and len(found) > 3


@pytest.mark.parametrize(
    "name",
    ["MIIT", "miit", "Ministry of Industry and Information Technology", "工信部", "工业和信息化部"],
)
def test_alias_search_finds_the_same_briefs(run, briefs, name: str) -> None:  # type: ignore[no-untyped-def]
    miit = sorted(b.ref for b in briefs if "MIIT" in [x.abbreviation for x in b.bodies])
    assert len(miit) == 8
    assert sorted(all_pages(run, name)) == miit
    assert run(name).text.startswith("8 briefs for ")


def test_alias_search_orders_alike(run) -> None:  # type: ignore[no-untyped-def]
    first = all_pages(run, "MIIT")
    assert all_pages(run, "工信部") == first
    assert all_pages(run, "Ministry of Industry and Information Technology") == first


def test_alias_with_other_words(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert refs(run("工信部 storage")) == [ref(briefs, STORAGE_PLAN)]
    assert refs(run("Ministry of Finance materials")) == [ref(briefs, MATERIALS)]


# --- search: phrases, exclusions -------------------------------------------------------------


def test_phrase(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert refs(run('"smart factory"')) == [ref(briefs, SMART_FACTORIES)]
    assert refs(run("\u201csmart factory\u201d")) == [ref(briefs, SMART_FACTORIES)]
    assert refs(run('"factory smart"')) == []


def test_exclude_word(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert set(refs(run("smart -factory"))) == {
        ref(briefs, BIOMANUFACTURING),
        ref(briefs, TECHNOLOGIES),
    }


def test_exclude_phrase(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert set(refs(run('smart -"smart factory"'))) == {
        ref(briefs, BIOMANUFACTURING),
        ref(briefs, TECHNOLOGIES),
    }


def test_exclude_only(run, briefs) -> None:  # type: ignore[no-untyped-def]
    found = all_pages(run, "-smart")
    assert len(found) == len(briefs) - 3
    assert ref(briefs, SMART_FACTORIES) not in found


def test_exclude_a_body_by_any_name(run, briefs) -> None:  # type: ignore[no-untyped-def]
    without = set(all_pages(run, "-MIIT"))
    assert without == set(all_pages(run, "-工信部"))
    assert without == set(all_pages(run, '-"Ministry of Industry and Information Technology"'))
    assert without | set(all_pages(run, "MIIT")) == {b.ref for b in briefs}
    assert not without & set(all_pages(run, "MIIT"))
    not_issued = {b.ref for b in briefs if "MIIT" not in [x.abbreviation for x in b.bodies]}
    assert set(all_pages(run, "-body:MIIT")) == not_issued
    assert set(all_pages(run, "-body:工信部 kind:policy")) == {
        b.ref for b in briefs if b.ref in not_issued and b.kind == BriefKind.POLICY
    }


# --- search: filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["MIIT", "工信部", '"Ministry of Industry and Information Technology"', "miit"]
)
def test_body_filter_by_any_name(run, briefs, body: str) -> None:  # type: ignore[no-untyped-def]
    expected = sorted(b.ref for b in briefs if "MIIT" in [x.abbreviation for x in b.bodies])
    assert sorted(all_pages(run, f"body:{body}")) == expected


def test_body_filter_with_words(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert refs(run("materials body:MOF")) == [ref(briefs, MATERIALS)]
    assert refs(run("storage body:MOF")) == []


def test_since_until(run, briefs) -> None:  # type: ignore[no-untyped-def]
    since = all_pages(run, "since:2024-11-15")
    assert sorted(since) == sorted(
        b.ref for b in briefs if b.published_on and b.published_on >= date(2024, 11, 15)
    )
    until = all_pages(run, "until:2024-10-29")
    assert sorted(until) == sorted(
        b.ref for b in briefs if b.published_on and b.published_on <= date(2024, 10, 29)
    )
    month = all_pages(run, "since:2024-10 until:2024-10")
    assert sorted(month) == sorted(
        b.ref for b in briefs if b.published_on and b.published_on.month == 10
    )
    assert all_pages(run, "since:2025") == []


def test_due_year(run, briefs) -> None:  # type: ignore[no-untyped-def]
    found = all_pages(run, "due:2027")
    expected = {b.ref for b in briefs if any(g.due_on and g.due_on.year == 2027 for g in b.goals)}
    assert set(found) == expected
    assert ref(briefs, STORAGE_PLAN) in found and ref(briefs, AIRBUS) not in found
    # due:YEAR is a deadline in that year; a window's deadline is when it closes: the
    # Volkswagen window (2024-2029) is due in 2029, not in 2026.
    assert set(refs(run("due:2026"))) == {ref(briefs, AIRBUS)}
    assert ref(briefs, "Volkswagen") in set(refs(run("due:2029")))


def test_kind(run, briefs) -> None:  # type: ignore[no-untyped-def]
    news = all_pages(run, "kind:news")
    policy = all_pages(run, "kind:policy")
    assert sorted(news) == sorted(b.ref for b in briefs if b.kind == BriefKind.NEWS)
    assert sorted(policy) == sorted(b.ref for b in briefs if b.kind == BriefKind.POLICY)
    assert len(policy) == 5


def test_filters_combine(run, briefs) -> None:  # type: ignore[no-untyped-def]
    reply = run("battery body:MIIT kind:news since:2024-11-01 until:2024-12-31 due:2027")
    assert refs(reply) == [ref(briefs, BATTERY_STANDARDS)]
    assert reply.text == (
        "1 brief for battery body:MIIT since:2024-11-01 until:2024-12-31 due:2027 kind:news"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("body:", "`body:` needs a value"),
        ("storage since:notadate", "`notadate` is not a date"),
        ("storage bdy:MIIT", "Did you mean `body:`?"),
        ("since:2025 until:2024", "is after"),
        ("due:twenty", "`due:` takes a year"),
        ("kind:law", "`kind:` is `kind:policy` or `kind:news` (the kind of brief)"),
        ("body:Hogwarts", "I don't know an issuing body called `Hogwarts`"),
    ],
)
def test_bad_filters_are_friendly_errors(run, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(text)
    assert reply.is_error
    assert message in reply.text
    assert render_text(reply).startswith("Sorry: ")


def test_unknown_body_lists_bodies_with_briefs(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("body:Hogwarts")
    assert "Bodies with briefs:" in reply.text and "`body:MIIT`" in reply.text


def test_only_stopwords_or_symbols(run) -> None:  # type: ignore[no-untyped-def]
    assert run("the").is_error and "too common" in run("the").text
    assert run("\U0001f600 *").is_error and "nothing I can search for" in run("\U0001f600 *").text
    reply = run("the kind:policy")
    assert not reply.is_error and len(all_pages(run, "the kind:policy")) == 5
    assert any("left out `the`" in note for note in reply.notes)


def test_search_without_anything_to_look_for(run) -> None:  # type: ignore[no-untyped-def]
    for text in ['""', "-", "search"]:
        reply = run(text)
        assert reply.is_error or reply.help, text


# --- no result, did you mean ---------------------------------------------------------------------


def test_no_result_suggests_a_word_and_its_button_searches_it(run, briefs) -> None:  # type: ignore[no-untyped-def]
    reply = run("storge")
    assert not reply.is_error
    assert reply.briefs == []
    assert reply.text == "No briefs match storge."
    assert any("Did you mean: `storage`" in note for note in reply.notes)
    button = reply.buttons[0]
    assert button.command == "search storage"
    assert refs(run(button.command)) == [ref(briefs, STORAGE_PLAN)]


def test_suggestion_keeps_the_rest_of_the_query(run, briefs) -> None:  # type: ignore[no-untyped-def]
    reply = run("storge since:2024-11")
    assert reply.buttons[0].command == "search storage since:2024-11"
    assert refs(run(reply.buttons[0].command)) == [ref(briefs, STORAGE_PLAN)]


def test_did_you_mean_a_body(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("body:MITT")
    assert reply.is_error
    assert "Did you mean `body:MIIT`?" in reply.text
    free = run("MITT")
    assert any("`body:MIIT`" in note for note in free.notes)


def test_no_result_without_suggestions(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("xqzvwk")
    assert reply.text == "No briefs match xqzvwk."
    assert any("/policy latest" in note for note in reply.notes)
    assert reply.buttons == []


def test_a_word_that_exists_is_not_corrected(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("storage xqzvwk")
    assert reply.briefs == []
    assert not any("Did you mean" in note for note in reply.notes)


# --- paging, share ---------------------------------------------------------------------------


def test_paging_five_at_a_time_with_a_more_button(run) -> None:  # type: ignore[no-untyped-def]
    first = run("MIIT")
    assert len(first.briefs) == 5
    assert "Showing 1\u20135 of 8." in first.notes
    (more,) = first.buttons
    assert more.label == "More" and more.command == "search MIIT page:2"
    second = run(more.command)
    assert len(second.briefs) == 3 and second.buttons == []
    assert "Showing 6\u20138 of 8." in second.notes
    assert not set(refs(first)) & set(refs(second))
    assert "[More] type: more" in render_text(first)
    blocks = render_blocks(first)["blocks"]
    # The reply's own buttons close the message (each brief has its Show/Source/menu row).
    closing = [b for b in blocks if b["type"] == "actions"][-1]
    assert [e.get("value") for e in closing["elements"]] == ["search MIIT page:2"]


def test_more_on_a_search_that_starts_with_a_command_word(run, factory) -> None:  # type: ignore[no-untyped-def]
    from tests.data.test_search import add_brief

    with factory() as session, session.begin():
        for n in range(6):
            add_brief(session, f"Latest rules {n}", summary="Zebra crossings.")
    first = run("search latest zebra")
    assert len(first.briefs) == 5 and first.buttons[0].command == "search latest zebra page:2"
    second = run(first.buttons[0].command)
    assert len(second.briefs) == 1 and second.text == "6 briefs for latest zebra"


def test_page_past_the_end(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("MIIT page:9")
    assert reply.briefs == [] and reply.text == "No more results for body:MIIT."
    assert reply.notes == [
        "I read this as `body:MIIT`.",
        "Page 9 is past the end: there are 8 in all.",
    ]


def test_long_query_more_button_fits_in_a_button(run) -> None:  # type: ignore[no-untyped-def]
    text = "MIIT " + " ".join(["-xqzvwk"] * 400)
    reply = run(text)
    (more,) = reply.buttons
    assert len(more.command) <= 530
    assert refs(run(more.command)) == refs(run("MIIT page:2"))


@pytest.mark.parametrize(
    "text",
    [
        "storage share",
        "share storage",
        "/policy storage share",
        "storage share page:1",
        "storage page:1 share",
    ],
)
def test_share_posts_in_channel(run, briefs, text: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(text)
    assert reply.visibility is Visibility.IN_CHANNEL
    assert refs(reply) == [ref(briefs, STORAGE_PLAN)]
    assert render_blocks(reply)["response_type"] == "in_channel"


def test_errors_are_never_shared(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("since:notadate share")
    assert reply.is_error and reply.visibility is Visibility.EPHEMERAL


# --- show --------------------------------------------------------------------------------------


def test_show_a_brief_in_full(run, briefs) -> None:  # type: ignore[no-untyped-def]
    brief_ref = ref(briefs, STORAGE_PLAN)
    reply = run(f"show {brief_ref}")
    assert not reply.is_error
    detail = reply.detail
    assert detail is not None and detail.ref == brief_ref
    assert detail.title_original and "储能" in detail.title_original
    assert detail.bodies == ("MIIT",)
    assert detail.published_on == date(2024, 11, 6)
    assert detail.summary.startswith("The Ministry of Industry and Information Technology (MIIT)")
    assert detail.comment.startswith("New energy storage")
    assert len(detail.links) == 6
    assert [g.days_left for g in detail.goals] == [397, 397, 397]
    text = render_text(reply)
    for part in (
        "At a glance:",
        "Goals:",
        "MERICS comment:",
        "Coverage:",
        "From: China Industrial Policy Tracker, Nov 2024",
        "397 days left",
        "6 Nov 2024",
        "MIIT",
    ):
        assert part in text
    assert run(f"show {brief_ref[1:]}").detail == detail  # the bare number works too
    assert run(f"show {brief_ref.upper()}").detail == detail


def test_show_a_goal_id_shows_its_brief(run, briefs, factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session:
        goal = session.scalars(select(Goal).where(Goal.text.like("Cultivate between%"))).one()
        goal_ref = goal.ref
    reply = run(f"show {goal_ref}")
    assert reply.detail is not None and reply.detail.ref == ref(briefs, STORAGE_PLAN)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("", "Which brief?"),
        ("b999999", "There is no brief `b999999`"),
        ("g999999", "There is no brief `g999999`"),
        ("b99999999999", "There is no brief"),  # beyond PostgreSQL's integer
        ("2147483648", "There is no brief"),
        ("zzz", "`zzz` is not a brief id"),
        ("b1 b2", "is not a brief id"),
        ("'; DROP TABLE briefs; --", "is not a brief id"),
        ("b-1", "is not a brief id"),
    ],
)
def test_show_bad_ids(run, argument: str, message: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(f"show {argument}")
    assert reply.is_error and message in reply.text


# --- latest --------------------------------------------------------------------------------------


def test_latest_newest_first(run, briefs) -> None:  # type: ignore[no-untyped-def]
    reply = run("latest")
    newest = sorted(briefs, key=lambda b: (b.published_on, b.id), reverse=True)
    assert refs(reply) == [b.ref for b in newest[:5]]
    assert reply.text == "The 5 newest briefs" and reply.buttons == []


def test_latest_n_pages(run, briefs) -> None:  # type: ignore[no-untyped-def]
    newest = sorted(briefs, key=lambda b: (b.published_on, b.id), reverse=True)
    reply = run("latest 7")
    assert refs(reply) == [b.ref for b in newest[:5]]
    assert reply.buttons[0].command == "latest 7 page:2"
    second = run(reply.buttons[0].command)
    assert refs(second) == [b.ref for b in newest[5:7]] and second.buttons == []


@pytest.mark.parametrize("argument", ["0", "999", "51", "-1", "1.5", "ten", "\u00b2"])
def test_latest_bad_numbers(run, argument: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(f"latest {argument}")
    assert reply.is_error and "`latest` takes a number from 1 to 50" in reply.text


def test_latest_aliases_and_search_words(run, briefs) -> None:  # type: ignore[no-untyped-def]
    assert len(run("new 3").briefs) == 3 and run("new 3").text == "The 3 newest briefs"
    assert run("recent").text == "The 5 newest briefs"
    # "new" and "recent" as the first word of a search are words, not the command.
    assert refs(run("new energy storage")) == [ref(briefs, STORAGE_PLAN)]
    assert not run("recent opening").is_error
    assert run("search latest").text == "No briefs match latest."


# --- deadlines --------------------------------------------------------------------------------


def test_deadlines_within_18_months(run, briefs) -> None:  # type: ignore[no-untyped-def]
    reply = run("deadlines within 18m")
    # Policy targets only: Airbus's "by 2026" (32 days left) is a company commitment.
    assert reply.text == "5 deadlines in the next 18 months"
    shown = list(reply.deadlines)
    shown += run(reply.buttons[0].command).deadlines if reply.buttons else []
    assert len(shown) == 5
    assert ref(briefs, AIRBUS) not in {d.brief.ref for d in shown}
    assert {d.goal.due_on for d in shown} == {date(2027, 12, 31)}
    assert all(d.goal.days_left == 397 for d in shown)  # 2026-11-29 -> 2027-12-31
    assert "397 days left" in render_text(reply)
    assert {d.brief.ref for d in shown} == {
        ref(briefs, STORAGE_PLAN),
        ref(briefs, MATERIALS),
        ref(briefs, BATTERY_STANDARDS),
    }


def test_deadlines_window_words(run) -> None:  # type: ignore[no-untyped-def]
    assert run("deadlines within 18 months").text == "5 deadlines in the next 18 months"
    assert run("deadlines within 2y").text == "5 deadlines in the next 2 years"
    assert run("deadlines").text == "5 deadlines in the next 24 months"
    assert run("deadlines within 5w").text == "No deadlines in the next 5 weeks."
    assert run("deadlines within 10y").text == "7 deadlines in the next 10 years"


def test_deadlines_within_3_days_none(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("deadlines within 3d")
    assert not reply.is_error
    assert reply.text == "No deadlines in the next 3 days."
    assert reply.deadlines == []
    assert any("within 5y" in note for note in reply.notes)


def test_deadlines_with_words_and_filters(run, briefs) -> None:  # type: ignore[no-untyped-def]
    storage = run("deadlines within 18m storage")
    assert {d.brief.ref for d in storage.deadlines} == {ref(briefs, STORAGE_PLAN)}
    assert len(storage.deadlines) == 3
    assert storage.text == "3 deadlines in the next 18 months for storage"
    miit = run("deadlines within 2y body:MIIT")
    assert len(miit.deadlines) == 5 and ref(briefs, AIRBUS) not in {
        d.brief.ref for d in miit.deadlines
    }
    assert len(run("deadlines within 2y 工信部").deadlines) == 5


def test_deadlines_did_you_mean(run) -> None:  # type: ignore[no-untyped-def]
    reply = run("deadlines within 18m storge")
    assert reply.deadlines == []
    assert any("`storage`" in note for note in reply.notes)
    assert reply.buttons[0].command == "deadlines within 18m storage"
    assert len(run(reply.buttons[0].command).deadlines) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deadlines within", "`within` needs a period"),
        ("deadlines within 0d", "at least one day"),
        ("deadlines within soon", "not a period I know"),
        ("deadlines the", "too common"),
        ("deadlines since:never", "not a date"),
    ],
)
def test_deadlines_bad_input(run, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(text)
    assert reply.is_error and message in reply.text


def test_deadlines_count_from_the_injected_clock(run) -> None:  # type: ignore[no-untyped-def]
    later = NOW + timedelta(days=396)  # 2027-12-30
    reply = run("deadlines within 3d", now=later)
    assert len(reply.deadlines) == 5 and reply.buttons == []
    assert {d.goal.days_left for d in reply.deadlines} == {1}
    assert "1 day left" in render_text(reply)
    # Past deadlines are not "due in the window".
    assert run("deadlines within 3d", now=NOW + timedelta(days=400)).deadlines == []


def test_days_left_follow_the_askers_time_zone(run) -> None:  # type: ignore[no-untyped-def]
    # 2026-11-29 23:30 UTC is already 30 November in Shanghai: one day fewer.
    from zoneinfo import ZoneInfo

    late = NOW.replace(hour=23, minute=30)
    in_utc = run("deadlines within 18m storage", now=late)
    assert {d.goal.days_left for d in in_utc.deadlines} == {397}
    in_shanghai = run("deadlines within 18m storage", now=late, tz=ZoneInfo("Asia/Shanghai"))
    assert {d.goal.days_left for d in in_shanghai.deadlines} == {396}


# --- help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "/policy help", "", "/policy", "?", "--help", "share"])
def test_help_from_the_command_table(run, text: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(text)
    assert not reply.is_error
    assert [e.usage for e in reply.help] == [spec.usage for spec in COMMANDS]
    assert [e.examples for e in reply.help] == [spec.examples for spec in COMMANDS]
    rendered = render_text(reply)
    for spec in COMMANDS:
        assert spec.usage in rendered
        assert all(example in rendered for example in spec.examples)


def test_every_help_example_runs(run) -> None:  # type: ignore[no-untyped-def]
    for spec in COMMANDS:
        if spec.name not in ("search", "show", "latest", "deadlines", "help"):
            continue  # commands that change settings are tested with their modules
        for example in spec.examples:
            reply = run(example)
            if spec.name == "show":  # ids differ between databases
                assert reply.detail is not None or "There is no brief" in reply.text
                continue
            assert not reply.is_error, (example, reply.text)
            assert reply.briefs or reply.deadlines or reply.help or reply.attachment, example


def test_parse_command() -> None:
    parsed = parse_command("/policy  latest 7 page:2 share")
    assert (parsed.spec.name, parsed.argument, parsed.page, parsed.share) == (
        "latest",
        "7",
        2,
        True,
    )
    parsed = parse_command("new energy")
    assert (parsed.spec.name, parsed.argument) == ("search", "new energy")
    parsed = parse_command("search show b2")
    assert (parsed.spec.name, parsed.argument) == ("search", "show b2")
    assert parse_command("deadline within 3d").spec.name == "deadlines"
    assert parse_command("storage page:0").page == 1
    assert parse_command("storage page:3").page == 3
    assert parse_command("x" * 10_000).argument == "x" * 4000


def test_repeated_words_are_searched_once(factory) -> None:  # type: ignore[no-untyped-def]
    from policybot.data.query.compiler import build_filter
    from policybot.data.query.language import parse_query

    with factory() as session:
        where, _ = build_filter(session, parse_query("storage Storage storage -pilot -pilot"))
        assert len(where.include) == 1 and len(where.exclude) == 1


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("help subscribe", "subscribe"),
        ("help deadlines ics", "deadlines ics"),
        ("/policy help  Deadlines   CSV", "deadlines csv"),
        ("help /policy remind off", "remind off"),
        ("help unsubscribe all", "unsubscribe all"),
        ("help new", "latest"),  # an alias names its command
        ("? subs", "subscriptions"),
        ("help search", "search"),
        ("help help", "help"),
    ],
)
def test_help_for_one_command_shows_only_its_entry(run, text: str, name: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(text)
    spec = next(s for s in COMMANDS if s.name == name)
    assert not reply.is_error, reply.text
    assert [(e.usage, e.summary, e.examples) for e in reply.help] == [
        (spec.usage, spec.summary, spec.examples)
    ]
    rendered = render_text(reply)
    assert spec.usage in rendered
    assert all(other.usage not in rendered for other in COMMANDS if other.usage != spec.usage)


@pytest.mark.parametrize("text", ["help subscrbe", "help deadlines pdf", "help 储能", "help <b>"])
def test_help_for_an_unknown_command_says_so_and_lists_them(run, text: str) -> None:  # type: ignore[no-untyped-def]
    reply = run(text)
    assert reply.is_error and not reply.help
    assert "There is no command" in reply.text
    assert all(f"`{spec.name}`" in reply.text for spec in COMMANDS)
    assert "help <command>" in " ".join(reply.notes)
