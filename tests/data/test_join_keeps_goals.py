"""A document joining a tracker's entry on it (or the other way round) loses nothing and keeps
every goal's identity: the tracker's paraphrase of a step and the document's step are one
goal that keeps the stored id (a team's answer, the reminder ledger and the calendar UID
point at it); a goal only one source states stays; re-ingesting either source changes
nothing; `show` lists each target once."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.ingest.deadlines import Deadline, Precision
from policybot.data.ingest.primary import read_primary
from policybot.data.ingest.records import GoalRecord
from policybot.data.ingest.same_document import joined_goals, pair_goals
from policybot.data.ingest.single import single_issue
from policybot.data.ingest.writer import IngestSummary, IssueWriter, ingest_bytes
from policybot.data.models import Brief, Delivery, Goal, GoalAssessment, GoalStatus
from policybot.data.novelty import Novelty
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster

Factory = sessionmaker[Session]
START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
AIMS_ZH = ["培育领军企业{n}家", "建成示范工厂{n}个", "新型储能装机达到{n}吉瓦", "建设标准{n}项"]
AIMS_EN = ["foster {n} leading firms", "build {n} demonstration factories",
           "reach {n} GW of new storage", "set {n} standards"]  # fmt: skip


@dataclass(frozen=True)
class Step:
    year: int
    month: int | None  # a month deadline ("2027年3月底前"), else the year's end
    figure: int  # the number only this step states: how the test knows which goal is which
    aim: int


@dataclass(frozen=True)
class Pair:
    """A policy document and a tracker's entry on it: the tracker paraphrases the steps in
    its own order and adds one goal the document does not state."""

    name: str
    document: str
    url: str
    tracker: str
    steps: list[Step]
    tracker_only: str

    def due(self, step: Step) -> date:
        if step.month is None:
            return date(step.year, 12, 31)
        following = date(step.year + step.month // 12, step.month % 12 + 1, 1)
        return following - timedelta(days=1)


def make_pair(rng: random.Random, serial: int) -> Pair:
    name = f"储能电站并网行动方案{serial}"
    published = date(2027, 2, rng.randint(10, 20))
    month = rng.randint(3, 5)
    month_step = Step(2027, month, rng.randint(2, 9) * 1000 + serial, 0)
    years = [rng.choice([2028, 2030]) for _ in range(rng.randint(2, 4))]  # years shared
    figures = rng.sample(range(11, 999), len(years))
    steps = [month_step] + [
        Step(year, None, figure, rng.randrange(len(AIMS_ZH)))
        for year, figure in zip(years, figures, strict=True)
    ]
    sentences = [f"{month_step.year}年{month}月底前，完成并网评估{month_step.figure}项。"]
    sentences.append(
        "；".join(f"到{s.year}年，{AIMS_ZH[s.aim].format(n=s.figure)}" for s in steps[1:]) + "。"
    )
    document = "\n".join(
        [
            f"工业和信息化部关于印发《{name}》的通知",
            "各省、自治区、直辖市工业和信息化主管部门：",
            f"现将《{name}》印发给你们，请认真贯彻落实。",
            f"{published.year}年{published.month}月{published.day}日",
            "为推动储能电站并网，制定本方案。",
            *sentences,
        ]
    )
    paraphrases = [
        f"By {MONTHS[month - 1]} {month_step.year}, complete "
        f"{month_step.figure} grid-connection reviews"
    ] + [f"By {s.year}, {AIMS_EN[s.aim].format(n=s.figure)}" for s in steps[1:]]
    rng.shuffle(paraphrases)
    tracker_only = f"By 2029, train storage engineers in plan {serial}"
    paraphrases.insert(rng.randrange(len(paraphrases) + 1), tracker_only)
    tracked = published + timedelta(days=rng.randint(1, 10))
    tracker = "\n".join(
        [
            f"At a glance: The MIIT released storage plan {serial} on grid connection. "
            "Important goals include:",
            *(f"\u2022 {p}" for p in paraphrases),
            f"MERICS comment: Storage plan {serial} matters for grid operators.",
            f"Article: Storage Grid Plan {serial} (关于印发《{name}》的通知) (Link)",
            "Issuing bodies: MIIT",
            f"Date: {MONTHS[tracked.month - 1]} {tracked.day}, {tracked.year}",
            "",
        ]
    )
    url = f"https://www.miit.gov.cn/zwgk/zcwj/art_{serial}.html"
    return Pair(name, document, url, tracker, steps, tracker_only)


def _primary(factory: Factory, pair: Pair, now: datetime) -> IngestSummary:
    record = read_primary(pair.document, url=pair.url)
    digest = hashlib.sha256((pair.document + pair.url).encode()).hexdigest()
    with factory() as session, session.begin():
        return IssueWriter(session, now).write(single_issue(record, pair.url), digest, Novelty.NEW)


def _tracker(factory: Factory, pair: Pair, now: datetime) -> IngestSummary:
    with factory() as session, session.begin():
        return ingest_bytes(session, pair.tracker.encode(), "tracker.txt", now, Novelty.NEW)


def _goals(factory: Factory, pair: Pair) -> list[tuple[int, str, date | None]]:
    with factory() as session:
        brief = (
            session.scalars(
                select(Brief).where(
                    Brief.document_key.is_not(None), Brief.title.contains("Storage")
                )
            ).one_or_none()
            or session.scalars(select(Brief).where(Brief.title == pair.name)).one()
        )
        return [(g.id, g.text, g.due_on) for g in brief.goals]


def _which_step(pair: Pair, text: str) -> Step | None:
    found = [s for s in pair.steps if str(s.figure) in text]
    return found[0] if len(found) == 1 else None


@pytest.mark.parametrize("tracker_first", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_a_join_keeps_every_goal_and_its_id(
    factory: Factory, tracker_first: bool, seed: int
) -> None:
    pair = make_pair(random.Random(seed), seed)
    first, second = (_tracker, _primary) if tracker_first else (_primary, _tracker)
    first(factory, pair, START)
    before = _goals(factory, pair)
    second(factory, pair, START)
    after = _goals(factory, pair)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Brief)) == 1

    # Each step once, in the document's words, plus the goal only the tracker states.
    steps = [_which_step(pair, text) for _, text, _ in after]
    assert sorted(s.figure for s in steps if s) == sorted(s.figure for s in pair.steps)
    assert steps.count(None) == 1  # the tracker's own goal
    for (_, text, due), step in zip(after, steps, strict=True):
        if step is None:
            assert text == pair.tracker_only and due == date(2029, 12, 31)
        else:
            assert due == pair.due(step) and ("到" in text or "底前" in text)
    # Every goal stored before the join is still there, under its id, as the same step.
    ids_after = {goal_id: _which_step(pair, text) for goal_id, text, _ in after}
    for goal_id, text, _ in before:
        assert goal_id in ids_after
        assert ids_after[goal_id] == _which_step(pair, text)

    # Again, either source, in either order: nothing changes.
    for again in (first, second, first):
        summary = again(factory, pair, START + timedelta(hours=1))
        assert (summary.added, summary.updated, summary.kept, summary.removed) == (0, 0, [], [])
    assert _goals(factory, pair) == after


@pytest.mark.parametrize("tracker_first", [True, False])
def test_an_answered_and_alerted_goal_keeps_its_answer_and_id(
    factory: Factory, tracker_first: bool
) -> None:
    pair = make_pair(random.Random(11), 11)
    context = Context(now=START, team_id="T1", channel_id="CRULE", user_id="U1")
    runner = CommandRunner(factory)
    first, second = (_tracker, _primary) if tracker_first else (_primary, _tracker)
    first(factory, pair, START)
    assert "Reminders on" in runner.run("remind body:MIIT tz UTC", context).text
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="t", max_workers=1)
    ticker.tick(START + timedelta(hours=2))
    month_step = pair.steps[0]
    (goal_id,) = [i for i, text, _ in _goals(factory, pair) if str(month_step.figure) in text]
    assert "marked met" in runner.run(f"status g{goal_id} met confirm", context).text
    with factory() as session:
        alerted = sorted(
            session.scalars(select(Delivery.dedupe_key).where(Delivery.goal_id == goal_id))
        )
    assert alerted, "the rule alerted the goal before the join"
    posts = len(poster.posts)

    second(factory, pair, START + timedelta(hours=3))
    ticker.tick(START + timedelta(hours=4))  # the same morning: no lead of its falls due

    with factory() as session:
        goal = session.get(Goal, goal_id)
        assert goal is not None and goal.due_on == pair.due(month_step)
        assert str(month_step.figure) in goal.text and "底前" in goal.text  # the document's words
        answer = session.scalars(select(GoalAssessment).where(GoalAssessment.goal_id == goal_id))
        assert [(a.team_id, a.status) for a in answer] == [("T1", GoalStatus.MET)]
        assert (
            sorted(session.scalars(select(Delivery.dedupe_key).where(Delivery.goal_id == goal_id)))
            == alerted
        )
        # No other goal of that deadline appeared, to be alerted anew.
        same_due = session.scalars(select(Goal.id).where(Goal.due_on == pair.due(month_step)))
        assert list(same_due) == [goal_id]
    assert len(poster.posts) == posts, "nothing alerted twice"

    shown = render_text(runner.run(f"show g{goal_id}", context))
    for step in pair.steps:
        assert shown.count(f"{step.figure}") >= 1
    refs = [line for line in shown.splitlines() if f"g{goal_id}" in line]
    assert len(refs) == 1, shown


def _goal(text: str, due: date, precision: Precision = Precision.YEAR) -> GoalRecord:
    return GoalRecord(text, Deadline(due, precision))


@pytest.mark.parametrize("count", [2, 3, 4])
def test_goals_of_one_deadline_pair_by_figures_then_in_order(count: int) -> None:
    rng = random.Random(count)
    due = date(2030, 12, 31)
    figures = rng.sample(range(11, 999), count)
    document = [_goal(f"到2030年，建成示范工厂{n}个", due) for n in figures]
    shuffled = rng.sample(figures, count)
    tracker = [_goal(f"By 2030, build {n} demonstration factories", due) for n in shuffled]
    pairs = pair_goals(document, tracker)
    assert {t: figures.index(shuffled[t]) for t in range(count)} == pairs
    # Without figures the order decides: the tracker lists the steps as the document does.
    plain_document = [_goal(f"到2030年，{aim}", due) for aim in ["体系初步建成", "进入世界前列"]]
    plain_tracker = [_goal(f"By 2030, {aim}", due) for aim in ["build the system", "lead"]]
    assert pair_goals(plain_document, plain_tracker) == {0: 0, 1: 1}


def test_a_rounded_deadline_pairs_only_when_the_goals_share_a_figure() -> None:
    document = [_goal("2027年6月底前，完成并网评估30项", date(2027, 6, 30), Precision.MONTH)]
    same = [_goal("By 2027, complete 30 grid-connection reviews", date(2027, 12, 31))]
    other = [_goal("By 2027, train storage engineers", date(2027, 12, 31))]
    assert pair_goals(document, same) == {0: 0}
    assert pair_goals(document, other) == {}
    joined = joined_goals(document, other)  # two targets, both kept, the document's first
    assert [j.goal for j in joined] == [*document, *other]


@pytest.mark.parametrize("replace_facts", [False, True])
def test_a_goal_neither_source_states_any_more_is_kept_until_replace(
    factory: Factory, replace_facts: bool
) -> None:
    pair = make_pair(random.Random(21), 21)
    _tracker(factory, pair, START)
    _primary(factory, pair, START)
    (kept_id,) = [i for i, text, _ in _goals(factory, pair) if text == pair.tracker_only]
    # The tracker's next issue drops its own goal: a loss, not the join's doing.
    shorter = pair.tracker.replace(f"\u2022 {pair.tracker_only}\n", "")
    with factory() as session, session.begin():
        summary = ingest_bytes(
            session, shorter.encode(), "tracker-2.txt", START, Novelty.NEW, replace_facts
        )
    named = summary.removed if replace_facts else summary.kept
    assert len(named) == 1 and f"g{kept_id}" in named[0]
    ids = [i for i, _, _ in _goals(factory, pair)]
    assert (kept_id in ids) is not replace_facts
    assert len(ids) == len(pair.steps) + (0 if replace_facts else 1)
