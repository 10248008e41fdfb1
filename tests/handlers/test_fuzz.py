"""Fuzz the command layer: thousands of generated command texts, each answered with a reply
that renders to a valid Slack message (and to text). SQLite only, on one database per module
with the demo corpus and one huge brief, so examples need no per-test transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from policybot.bot.blocks import render_blocks
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief, BriefKind, Goal, GoalStatus
from policybot.data.search.engines import engine_for
from policybot.data.search.fields import indexed_fields
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.handlers.replies import Reply
from tests.bot.test_blocks import assert_valid_message, buttons, texts
from tests.conftest import DEMO_CORPUS, NOW

CORPUS_TEXT = DEMO_CORPUS.read_text(encoding="utf-8")
CORPUS_WORDS = sorted(set(re.findall(r"[A-Za-z][A-Za-z'\u2019-]{2,}", CORPUS_TEXT)))[:400]
CORPUS_CHINESE = sorted(
    {
        run[i : i + n]
        for run in re.findall(r"[\u4e00-\u9fff]+", CORPUS_TEXT)
        for n in (1, 2, 3)
        for i in range(0, len(run), 3)
    }
)
HUGE_TITLE = "Huge brief for limits"


def _huge_brief(session: Session) -> int:
    paragraph = (
        "The ministry will support <industrial> upgrading & digital transformation of "
        "manufacturing, with targets for storage, batteries and smart factories. "
    )
    summary = (paragraph * 150)[:20_000]
    brief = Brief(
        identity="fuzz-huge",
        content_hash="fuzz",
        kind=BriefKind.POLICY,
        title=HUGE_TITLE + " " + "with a very long title " * 10,
        title_original="超大简报" * 50,
        published_on=date(2024, 11, 30),
        summary=summary,
        comment=summary,
        links=[f"https://example.com/{n}?a=1&b=<2>" for n in range(30)],
        bodies_more=True,
        source_label="MIIT notice",
        ingested_at=NOW,
        updated_at=NOW,
    )
    brief.goals = [
        Goal(
            position=n,
            text=f"Goal {n}: " + "raise output and exports " * 20,
            due_on=date(2027 + n % 5, 12, 31),
            precision="year",
            status=GoalStatus.OPEN,
        )
        for n in range(60)
    ]
    session.add(brief)
    session.flush()
    engine_for(session).index(session, [(brief.id, indexed_fields(brief))])
    return brief.id


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CommandRunner, int]]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW)
        huge = _huge_brief(session)
    yield CommandRunner(sessions), huge
    engine.dispose()


def check(runner: CommandRunner, text: str) -> Reply:
    """The reply to any text: no exception, a headline, a valid Slack message, text."""
    reply = runner.run(text, Context(now=NOW))
    assert reply.text.strip()
    assert_valid_message(render_blocks(reply))
    rendered = render_text(reply)
    assert rendered.strip()
    return reply


# --- strategies ------------------------------------------------------------------------------

FILTER_KEYS = ["body", "since", "until", "due", "kind", "BODY", "bdy", "title", "page", "near", "x"]
FILTER_VALUES = [
    "MIIT",
    "工信部",
    "MOF",
    "MITT",
    '"Ministry of Industry and Information Technology"',
    "\u201cMinistry of Finance\u201d",
    '"unclosed',
    "",
    "2024",
    "2024-11",
    "2024-11-01",
    "2024-13",
    "2024-02-30",
    "notadate",
    "0000",
    "9999-12-31",
    "2027",
    "99999",
    "news",
    "policy",
    "law",
    "-1",
    "'",
    "*",
    "NEAR(",
    "\U0001f600",
    "1' OR '1'='1",
]
OPERATORS = [
    "NEAR(",
    "NEAR",
    "*",
    '"',
    "AND",
    "OR",
    "NOT",
    "AND OR",
    "^",
    "{",
    "}",
    "(",
    ")",
    ":",
    "-",
    "--",
    "+",
    "''",
    "'",
    "\u201c",
    "\u201d",
    "\u00ab",
    "\u300c",
    "\\",
    "%",
    "_",
    "|",
    "&",
    "<",
    ">",
    "<!channel>",
    "<@U123>",
    "&amp;",
    "*bold*",
    "`code`",
    "```",
    "~",
]
SQL = [
    "'; DROP TABLE briefs; --",
    "1=1",
    "' OR 1=1 --",
    "UNION SELECT * FROM briefs",
    "/* comment */",
    ";",
    "\x00",
    "%00",
    "\\x27",
    "); DELETE FROM goals; --",
]
ODD = [
    "\U0001f600",
    "\U0001f469\u200d\U0001f52c",
    "\U0001f1e8\U0001f1f3",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u202e",
    "\u200b",
    "\u200f",
    "\ufeff",
    "\u00ad",
    "\u2028",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\ud800",
    "\U000e0001",
    "ｓｔｏｒａｇｅ",
    "²",
    "٣",
    "Ⅻ",
    "ﷺ",
    "e\u0301",
    "𝐬𝐭𝐨𝐫𝐚𝐠𝐞",
]
PREFIXES = [
    "",
    "/policy ",
    "/POLICY ",
    "show ",
    "show b",
    "show g",
    "latest ",
    "new ",
    "recent ",
    "deadlines ",
    "deadlines within 18m ",
    "deadlines within ",
    "due ",
    "help ",
    "search ",
    "share ",
    "? ",
]
SUFFIXES = ["", " share", " page:2", " page:0", " page:9999", " share page:2", " page:2 share"]

token = st.one_of(
    st.sampled_from(CORPUS_WORDS),
    st.sampled_from(CORPUS_CHINESE),
    st.builds(
        lambda k, v: f"{k}:{v}", st.sampled_from(FILTER_KEYS), st.sampled_from(FILTER_VALUES)
    ),
    st.builds(lambda w: f"-{w}", st.sampled_from(CORPUS_WORDS + FILTER_VALUES)),
    st.builds(
        lambda w, q: f"{q}{w}{q}",
        st.sampled_from(CORPUS_WORDS),
        st.sampled_from(['"', "\u201c", "'"]),
    ),
    st.sampled_from(OPERATORS),
    st.sampled_from(SQL),
    st.sampled_from(ODD),
    st.integers(min_value=-5, max_value=3_000_000_000).map(str),
    st.text(max_size=12),
)
separator = st.sampled_from([" ", " ", " ", "  ", "", "\n", "\t", "\u3000"])


COMMANDS = ["show", "latest", "new", "deadlines", "deadlines within", "help", "search", "share", ""]
ARGUMENTS = [
    "b1",
    "g5",
    "b0",
    "b-1",
    "b2147483648",
    "g99999999999",
    "0",
    "5",
    "50",
    "51",
    "999",
    "²",
    "٣",
    "５",
    "1.5",
    "18m",
    "3d",
    "0d",
    "999y",
    "18 months",
    "soon",
    "m",
    "b1 b2",
    "",
]
# Digits in other scripts: some are digits to str.isdigit but not to int() (², ①).
DIGIT_SCRIPTS = ["0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "⓪①②③④⑤⑥⑦⑧⑨"]
odd_number = st.builds(
    lambda n, digits, prefix: prefix + str(n).translate(str.maketrans("0123456789", digits)),
    st.integers(0, 3_000_000_000),
    st.sampled_from(DIGIT_SCRIPTS),
    st.sampled_from(["", "b", "g", "page:", "-", "within "]),
)
one_argument = st.builds(
    lambda c, a, s: f"{c} {a}{s}",
    st.sampled_from(COMMANDS),
    st.one_of(
        st.sampled_from(ARGUMENTS),
        odd_number,
        st.sampled_from(ODD + OPERATORS),
        st.sampled_from(FILTER_VALUES),
        token,
    ),
    st.sampled_from(SUFFIXES),
)


@st.composite
def command_texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(token, separator), max_size=12))
    text = draw(st.sampled_from(PREFIXES)) + "".join(t + s for t, s in parts)
    text += draw(st.sampled_from(SUFFIXES))
    if draw(st.integers(0, 30)) == 0:  # now and then, very long
        text = text * draw(st.integers(50, 600)) + draw(st.sampled_from(["", " x" * 5000]))
    return text


# --- the fuzz tests ----------------------------------------------------------------------------


@settings(
    max_examples=800,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=command_texts())
def test_any_command_text_gets_a_valid_reply(
    database: tuple[CommandRunner, int], text: str
) -> None:
    runner, _ = database
    reply = check(runner, text)
    # Pressing the reply's first button runs a command that answers validly too.
    if reply.buttons and len(reply.buttons[0].command) <= 2000:
        check(runner, reply.buttons[0].command)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=one_argument)
def test_any_command_with_one_argument_gets_a_valid_reply(
    database: tuple[CommandRunner, int], text: str
) -> None:
    runner, _ = database
    check(runner, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.characters(codec=None), max_size=300))
def test_any_unicode_text_gets_a_valid_reply(
    database: tuple[CommandRunner, int], text: str
) -> None:
    runner, _ = database
    check(runner, text)
    check(runner, "deadlines " + text)


# --- fixed hostile inputs (the list) --------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x" * 10_000,
        "storage " * 1250,
        '"unbalanced quote',
        "body:",
        "foo:bar",
        "since:notadate",
        "NEAR(",
        "*",
        '"',
        "AND OR",
        "'; DROP TABLE briefs; --",
        "\x00\x01\x02 storage \x7f",
        "\U0001f600\U0001f600",
        "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
        "show " + "9" * 40,
        "latest " + "9" * 40,
        "deadlines within 999y",
        "deadlines within 99999999999m",
        "<!channel> share",
    ],
)
def test_hostile_inputs(database: tuple[CommandRunner, int], text: str) -> None:
    runner, _ = database
    reply = check(runner, text)
    assert "<!channel>" not in texts(render_blocks(reply))


def test_huge_brief_renders_within_the_limits(database: tuple[CommandRunner, int]) -> None:
    runner, huge = database
    reply = check(runner, f"show b{huge}")
    assert reply.detail is not None and reply.detail.title.startswith(HUGE_TITLE)
    assert len(reply.detail.summary) == 20_000 and len(reply.detail.goals) == 60
    payload = render_blocks(reply)
    assert ("Show full brief", f"show b{huge}") in buttons(payload)
    body = texts(payload)
    assert "\u2026" in body
    assert "&lt;industrial&gt; upgrading &amp; digital" in body
    assert len(payload["blocks"]) <= 50
    # The text renderer shows it all.
    assert render_text(reply).count("Goal ") >= 60


def test_huge_brief_in_lists(database: tuple[CommandRunner, int]) -> None:
    runner, huge = database
    for text in ("upgrading exports", "latest 50", "deadlines within 10y", "超大简报"):
        reply = check(runner, text)
        assert not reply.is_error, text
    assert any(b.ref == f"b{huge}" for b in runner.run("超大简报", Context(now=NOW)).briefs)


search_words = st.lists(
    st.one_of(
        st.sampled_from(CORPUS_WORDS),
        st.sampled_from(CORPUS_CHINESE),
        st.sampled_from(
            ["storge", "batery", "zeppelin", "MITT", "OR", "NOT", "manuf*", "due:2027"]
        ),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=search_words)
def test_a_search_never_raises_and_never_offers_a_hint_that_leads_to_nothing(
    database: tuple[CommandRunner, int], text: str
) -> None:
    runner, _ = database
    reply = check(runner, text)
    for button in reply.buttons:
        if button.label.startswith("Search "):
            followed = runner.run(button.command, Context(now=NOW))
            assert followed.briefs, (text, button.command, followed.text)
