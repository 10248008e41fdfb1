"""Questions as analysts type them in Slack, answered through the command runner on the demo
corpus (and, for concepts, the composed trackers), both engines: the issue's six cases and
their families of phrasings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.ingest.writer import ingest_bytes
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.handlers.replies import Reply
from tests.conftest import NOW
from tests.data.test_search import add_brief

pytestmark = pytest.mark.usefixtures("corpus")
TRACKERS = Path(__file__).resolve().parents[2] / "benchmarks" / "relevance" / "trackers"
TEAM = Context(now=NOW, team_id="TA", channel_id="C1", user_id="UA")

Run = Callable[[str], Reply]


@pytest.fixture
def run(factory: sessionmaker[Session]) -> Run:
    runner = CommandRunner(factory)
    return lambda text: runner.run(text, TEAM)


def refs(reply: Reply) -> list[str]:
    return [b.ref for b in reply.briefs]


def goals(reply: Reply) -> list[str]:
    return [d.goal.ref for d in reply.deadlines]


def shown(reply: Reply) -> str:
    return render_text(reply)


# --- 1. targets due in 2027 = due:2027 --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "targets due in 2027",
        "2027 targets",
        "Which goals fall due in 2027?",
        "due in 2027: which targets",
        "2027年 目标",
        "objectives for 2027",
    ],
)
def test_a_deadline_year_finds_what_due_finds(run: Run, text: str) -> None:
    expected = refs(run("/policy due:2027"))
    reply = run(f"/policy {text}")
    assert len(expected) == 3 and refs(reply) == expected, (text, reply.text)
    assert "I read this as `due:2027`." in reply.notes


# --- 2. what are the deadlines for batteries = deadlines matching batteries --------------------


@pytest.mark.parametrize(
    "text",
    [
        "what are the deadlines for batteries",
        "What are the deadlines for batteries?",
        "batteries deadlines",
        "for batteries, what are the deadlines?",
        "any upcoming deadlines on batteries?",
        "when are the batteries targets due",
        "deadlines for batteries",
    ],
)
def test_a_deadline_question_lists_the_deadlines(run: Run, text: str) -> None:
    expected = goals(run("/policy deadlines batteries"))
    reply = run(f"/policy {text}")
    assert expected and goals(reply) == expected, (text, reply.text, reply.notes)
    page = shown(reply)
    assert "what are the for" not in page and "Without `deadlines`" not in page


def test_deadlines_and_latest_take_the_words_and_filters_of_search(run: Run) -> None:
    assert goals(run("/policy deadlines from MIIT")) == goals(run("/policy deadlines body:MIIT"))
    assert goals(run("/policy deadlines what MIIT targets are due in 2027")) == goals(
        run("/policy deadlines body:MIIT due:2027")
    )
    newest = run("/policy latest body:MIIT since:2024-10-01")
    assert refs(newest) == refs(run("/policy latest MIIT since October 2024"))
    assert newest.text == "The 5 newest of 8 briefs for body:MIIT since:2024-10-01"


def test_a_deadline_question_with_a_window(run: Run) -> None:
    reply = run("/policy what are the deadlines within 2 years for storage")
    assert goals(reply) == goals(run("/policy deadlines within 2y storage"))
    assert "in the next 2 years" in reply.text


def test_deadlines_beyond_the_default_window_are_shown_as_later(
    run: Run, factory: sessionmaker[Session]
) -> None:
    with factory() as session, session.begin():
        add_brief(session, "Zeppelin plan", goals=[("Fly 10 airships", NOW.date().replace(2031))])
    reply = run("/policy what are the deadlines for zeppelins")
    assert len(reply.deadlines) == 1 and "none in the next 24 months" in reply.text
    assert not run("/policy deadlines within 1y zeppelins").deadlines  # a window said is kept


# --- 3. latest from the State Council = the newest briefs with that body ------------------------


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("", "latest from the State Council"),
        ("", "State Council latest"),
        ("", "what's new from the State Council?"),
        ("", "most recent State Council briefs"),
        ("", "国务院 最新"),
        ("", "the newest from the State Council"),
        ("latest ", "from the State Council"),
        ("latest ", "国务院"),
    ],
)
def test_latest_with_a_body_is_the_newest_of_that_body(
    run: Run, factory: sessionmaker[Session], command: str, text: str
) -> None:
    with factory() as session, session.begin():
        for day in (2, 9):  # two newer State Council briefs than the demo's b8
            add_brief(
                session,
                f"State Council notice {day}",
                bodies=["State Council"],
                published_on=NOW.date().replace(day=day),
            )
    reply = run(f"/policy {command}{text}")
    assert not reply.is_error, reply.text
    assert [b.title for b in reply.briefs][:2] == [
        "State Council notice 9",
        "State Council notice 2",
    ]
    assert len(reply.briefs) == 3 and all("State Council" in b.bodies for b in reply.briefs)
    assert reply.text == 'The 3 newest briefs for body:"State Council"'


def test_latest_keeps_its_number_and_its_errors(run: Run) -> None:
    assert len(run("/policy latest 2 from MIIT").briefs) == 2
    assert len(run("/policy latest from MIIT 2").briefs) == 2
    assert run("/policy latest 99 from MIIT").is_error
    assert run("/policy latest ten").is_error


# --- 4. an exclusion that empties the answer says so -------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["battery -lithium", "battery NOT lithium", "batteries -lithium", "latest battery -lithium"],
)
def test_an_exclusion_that_empties_the_answer_says_so(run: Run, text: str) -> None:
    reply = run(f"/policy {text}")
    assert not reply.briefs
    page = shown(reply)
    assert "No brief mentions" not in page, page
    assert "but your exclusion (`-lithium`) removed every one" in page, page
    commands = [b.command for b in reply.buttons]
    assert {"search battery", "search batteries"} & set(commands), commands


# --- 5. concepts, not only words -----------------------------------------------------------------


@pytest.fixture
def trackers(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        for path in sorted(TRACKERS.glob("*.txt")):
            ingest_bytes(session, path.read_bytes(), path.name, NOW)


@pytest.mark.usefixtures("trackers")
@pytest.mark.parametrize(
    ("texts", "title"),
    [
        (
            ("一带一路", "Belt and Road", "BRI", "belt and road initiative"),
            "Action Plan for the High-Quality Development of the New Energy Storage",
        ),
        (("专精特新", "little giants"), "Notice on Carrying out the Gradient Cultivation Action"),
        (
            ("中小企业", "SMEs", "small and medium-sized enterprises"),
            "Implementation Plan for the Digital Transformation of Small",
        ),
        (
            ("碳达峰", "carbon peak", "dual carbon", "双碳"),
            "The NDRC and others announced opinions on implementing renewable",
        ),
        (
            ("碳中和", "carbon neutrality", "net zero"),
            "The NDRC and others announced opinions on implementing renewable",
        ),
        (
            ("新能源汽车", "NEV", "new energy vehicles", "electric cars"),
            "Guidelines on Strengthening the Recycling of Power Batteries",
        ),
        (
            ("人工智能", "AI", "artificial intelligence"),
            "Implementation Plan for Artificial Intelligence Empowering",
        ),
        (
            ("芯片", "chips", "semiconductors", "集成电路", "integrated circuits"),
            "Notice on the Establishment of Phase III",
        ),
        (
            ("5G", "fifth-generation mobile", "第五代移动通信"),
            "The MIIT set a target of 2,000 5G factories",
        ),
        (
            ("全国统一大市场", "national unified market"),
            "The State Council approved a plan to build a national unified market",
        ),
        (
            ("中医药", "TCM", "traditional Chinese medicine"),
            "The National Health Commission released a plan",
        ),
    ],
)
def test_each_name_of_a_concept_finds_it(run: Run, texts: tuple[str, ...], title: str) -> None:
    for text in texts:
        reply = run(f"/policy {text}")
        titles = [b.title for b in reply.briefs]
        assert any(t.startswith(title) for t in titles), (text, reply.text, titles)
        assert not reply.text.startswith("No brief has all"), (text, reply.text)


@pytest.mark.parametrize("text", ["SOEs", "state-owned enterprises", "国企", "国有企业", "央企"])
def test_state_owned_enterprises_by_any_name(
    run: Run, factory: sessionmaker[Session], text: str
) -> None:
    assert not run(f"/policy {text}").briefs  # the demo has none
    with factory() as session, session.begin():
        add_brief(session, "Reform of state-owned enterprises", summary="SOE mixed ownership.")
        add_brief(session, "国有企业改革深化提升行动方案")
    titles = {b.title for b in run(f"/policy {text}").briefs}
    assert titles == {"Reform of state-owned enterprises", "国有企业改革深化提升行动方案"}


# --- 6. a search answered only by team notes says so -------------------------------------------


def test_a_search_answered_only_by_team_notes_says_so(run: Run) -> None:
    (storage_plan,) = refs(run("/policy body:MIIT 储能"))  # ids differ between engines
    run(f"/policy note {storage_plan} Final version expected in March.")
    reply = run("/policy March")
    page = shown(reply)
    assert "your team's notes do" in reply.text and "Final version expected in March" in page
    assert "No brief mentions" not in page and "/policy subscribe March" not in page


# --- who, which ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "who issued the lithium battery standards",
        "which bodies issued the lithium battery standards?",
        "lithium battery standards: who published them",
    ],
)
def test_who_names_the_issuing_bodies(run: Run, text: str) -> None:
    reply = run(f"/policy {text}")
    assert reply.briefs and "Issued by: MIIT (1 brief)." in reply.notes, (text, reply.notes)


# --- suggestions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "storage qqxyzzy",
        "what are the deadlines for storage qqxyzzy",
        "deadlines storage qqxyzzy",
        "deadlines storage qqxyzzy body:NDRC",
        "deadlines storag body:NDRC",
        "latest storage qqxyzzy",
        "latest 3 storag qqxyzzy",
    ],
)
def test_every_suggestion_finds_something_and_keeps_the_words_briefs_have(
    run: Run, text: str
) -> None:
    reply = run(f"/policy {text}")
    assert not reply.briefs and not reply.deadlines, reply.text
    for button in reply.buttons:
        found = run(f"/policy {button.command}")
        assert found.briefs or found.deadlines, (text, button.command, found.text)
        assert "storag" in button.command, button.command  # never offered away
    assert "Without `storage`" not in shown(reply)
