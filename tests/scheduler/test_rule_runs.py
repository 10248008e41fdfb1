"""Rule runs (one ledger row for a rule's alerts of one plan interval) posted by the real
ticker, both engines: each alert once, whatever is added, edited or removed between the
plan and the items being fixed (`prepare`), or between that and the post; two rules, or a
per-alert row and a run, on one goal make one alert; follow-up runs likewise.

The runs are written as planning writes them (tests/scheduler/runs.py, docs/ledger-unit.md
section 8); the rest of the planner (first plans, changed goals) runs as in production."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.briefs import undelivered_of_brief
from policybot.data.models import AlertItem, Brief, Delivery, DeliveryStatus, Goal, ReminderRule
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.scheduler import ledger
from policybot.scheduler.kinds.alerts import Edge, reminder_key
from policybot.scheduler.kinds.alerts_facts import Rule, search_revision
from policybot.scheduler.kinds.alerts_runs import derive, read_plans
from policybot.scheduler.kinds.finalised import _told_of
from policybot.scheduler.kinds.followup import followup_key
from policybot.scheduler.messages import (
    AlertBatch,
    DeliveryError,
    Digest,
    FailureKind,
    FollowUp,
)
from policybot.scheduler.ticker import Ticker
from tests.conftest import NOW
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue
from tests.scheduler.reference_planner import PythonReminderPlanner
from tests.scheduler.runs import forget_brief, items_of, plan_runs

T0 = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
DUE = b"By March 2027,"  # 2027-03-31
FIRE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # its 30-day lead, at 09:00 UTC
SEVEN = datetime(2027, 3, 24, 9, 0, tzinfo=UTC)  # its 7-day lead
TITLES = ("Run Plan A", "Run Plan B", "Run Plan C")


def ctx(now: datetime) -> Context:
    return Context(now=now, team_id="T1", channel_id="C1", user_id="U1")


@pytest.fixture
def poster() -> RecordingPoster:
    return RecordingPoster()


@pytest.fixture
def ticker(factory: sessionmaker[Session], poster: RecordingPoster) -> Ticker:
    return Ticker(factory, poster, worker_id="runs", max_workers=1)


def issue(title: str, due: bytes = DUE, comment: bytes = b"A comment") -> bytes:
    raw = tracker_issue(title, published=date(2026, 12, 1)).replace(b"By 2028,", due)
    return raw.replace(b"MERICS comment: A comment", b"MERICS comment: " + comment)


def set_up(
    factory: sessionmaker[Session], ticker: Ticker, *rules: str
) -> tuple[list[int], dict[str, bytes]]:
    """Rules made at T0, the three briefs ingested an hour later (one goal each), and a tick
    that plans the rules for the first time (nothing is due yet). Returns the rules' ids and
    each title's issue text (to edit it later)."""
    with factory() as session, session.begin():
        for text in rules or ("leads 30,7 tz UTC",):
            remind(Request(session, ctx(T0), text, 1))
    raws = {title: issue(title) for title in TITLES}
    for raw in raws.values():
        ingest(factory, raw, T0 + timedelta(hours=1))
    assert ticker.tick(T0 + timedelta(hours=2)).sent == 0
    with factory() as session:
        rule_ids = list(session.scalars(select(ReminderRule.id).order_by(ReminderRule.id)))
    return rule_ids, raws


def goal_of(factory: sessionmaker[Session], title: str) -> int:
    with factory() as session:
        found = session.scalar(
            select(Goal.id).join(Brief, Goal.brief_id == Brief.id).where(Brief.title == title)
        )
    assert found is not None, title
    return found


def brief_of(factory: sessionmaker[Session], title: str) -> int:
    with factory() as session:
        found = session.scalar(select(Brief.id).where(Brief.title == title))
    assert found is not None
    return found


def alerted(poster: RecordingPoster) -> Counter[tuple[int, int | None, bool]]:
    """(goal id, lead, newly tracked) of every alert posted, counted."""
    found: Counter[tuple[int, int | None, bool]] = Counter()
    for _, _, message in poster.posts:
        if isinstance(message, AlertBatch | Digest):
            found.update((a.goal.id, a.lead_days, a.newly_tracked) for a in message.alerts)
    return found


def goals_alerted(poster: RecordingPoster) -> Counter[int]:
    return Counter(goal for (goal, _, _), n in alerted(poster).items() for _ in range(n))


def status(factory: sessionmaker[Session], delivery_id: int) -> str:
    with factory() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        return row.status


def test_a_run_posts_its_alerts_once_from_its_items(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    (rule,), _ = set_up(factory, ticker)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    (run,) = plan_runs(factory, rule, FIRE)
    report = ticker.tick(FIRE)
    assert report.messages == 1 and report.sent == 1
    assert alerted(poster) == Counter({(g, 30, False): 1 for g in goals})
    assert items_of(factory, run) == [(g, "due", 30, True) for g in goals]
    assert status(factory, run) == DeliveryStatus.SENT
    (message,) = [m for _, _, m in poster.posts]
    assert isinstance(message, AlertBatch) and message.delivery_ids == (run,)
    assert ticker.tick(FIRE + timedelta(minutes=1)).messages == 0
    # The next plan's run: the 7-day lead, once.
    (later,) = plan_runs(factory, rule, SEVEN)
    ticker.tick(SEVEN)
    assert alerted(poster) == Counter(
        {**{(g, 30, False): 1 for g in goals}, **{(g, 7, False): 1 for g in goals}}
    )
    assert status(factory, later) == DeliveryStatus.SENT


def change(factory: sessionmaker[Session], raws: dict[str, bytes], how: str, at: datetime) -> None:
    """Brief A edited (deadline kept, or moved a month), removed; or a fourth brief added."""
    if how == "kept":
        ingest(factory, raws["Run Plan A"].replace(b"A comment", b"An edited comment"), at)
    elif how == "moved":
        ingest(factory, raws["Run Plan A"].replace(DUE, b"By April 2027,"), at)
    elif how == "removed":
        forget_brief(factory, brief_of(factory, "Run Plan A"))
    else:
        ingest(factory, issue("Run Plan D"), at)


CHANGES = ["kept", "moved", "removed", "added"]


def expected_alerts(
    factory: sessionmaker[Session], how: str
) -> Counter[tuple[int, int | None, bool]]:
    """What the channel reads at the 30-day lead after `how`: each goal once."""
    found: dict[tuple[int, int | None, bool], int] = {
        (goal_of(factory, t), 30, False): 1 for t in TITLES[1:]
    }
    if how in ("kept", "added"):
        found[(goal_of(factory, "Run Plan A"), 30, False)] = 1
    if how == "added":  # arrived after its 30-day lead's time: "newly tracked"
        found[(goal_of(factory, "Run Plan D"), None, True)] = 1
    return Counter(found)


@pytest.mark.parametrize("how", CHANGES)
def test_a_change_between_planning_and_prepare(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster, how: str
) -> None:
    (rule,), raws = set_up(factory, ticker)
    (run,) = plan_runs(factory, rule, FIRE)
    change(factory, raws, how, FIRE + timedelta(seconds=10))
    ticker.tick(FIRE + timedelta(minutes=1))
    assert alerted(poster) == expected_alerts(factory, how)
    assert len(poster.posts) == 1  # one message for the run and the changed goal's row
    # The run carries only goals at its plan's revision: an edited or added goal is the
    # changed-goal path's (a per-alert row), never both.
    run_goals = {g for g, _, _, _ in items_of(factory, run)}
    assert run_goals == {goal_of(factory, t) for t in TITLES[(0 if how == "added" else 1) :]}
    assert status(factory, run) == DeliveryStatus.SENT
    if how == "moved":
        # The moved deadline (2027-04-30) comes due on its own 30-day lead, once.
        for day in (2, 15, 31):
            ticker.tick(datetime(2027, 3, day, 9, 0, tzinfo=UTC))
        moved = goal_of(factory, "Run Plan A")
        assert goals_alerted(poster)[moved] == 1
        assert alerted(poster)[(moved, 30, False)] == 1


@pytest.mark.parametrize("how", CHANGES)
def test_a_change_between_prepare_and_post(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster, how: str
) -> None:
    """The first post is refused (429) after the items were fixed; the change lands before
    the retry: the retry posts the items fixed before (less a removed goal), and the
    changed-goal path finds an edited goal's alert in them and plans it not again."""
    (rule,), raws = set_up(factory, ticker)
    (run,) = plan_runs(factory, rule, FIRE)
    poster.fail_with = [DeliveryError(FailureKind.RETRY, "ratelimited", retry_after=60)]
    assert ticker.tick(FIRE).retried == 1
    fixed = items_of(factory, run)
    assert len(fixed) == 3 and poster.posts == []
    a = goal_of(factory, "Run Plan A")
    change(factory, raws, how, FIRE + timedelta(seconds=10))
    ticker.tick(FIRE + timedelta(minutes=2))
    expected = expected_alerts(factory, how)
    if how == "moved":
        expected[(a, 30, False)] = 1  # fixed before the move: posted as planned
    assert alerted(poster) == expected
    assert len(poster.posts) == 1
    assert items_of(factory, run) == [i for i in fixed if how != "removed" or i[0] != a]
    assert status(factory, run) == DeliveryStatus.SENT
    for minutes in (3, 60, 600):  # nothing is planned or posted again
        ticker.tick(FIRE + timedelta(minutes=minutes))
    assert alerted(poster) == expected


def test_a_run_whose_goals_were_all_removed_is_gone_not_posted(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    (rule,), _ = set_up(factory, ticker)
    (run,) = plan_runs(factory, rule, FIRE)
    poster.fail_with = [DeliveryError(FailureKind.RETRY, "ratelimited", retry_after=60)]
    ticker.tick(FIRE)
    for title in TITLES:
        forget_brief(factory, brief_of(factory, title))
    ticker.tick(FIRE + timedelta(minutes=2))
    assert poster.posts == []
    assert items_of(factory, run) == []
    with factory() as session:
        row = session.get(Delivery, run)
        assert row is not None and (row.status, row.message_ts) == ("sent", "gone")


def test_two_rules_in_one_channel_on_one_goal_make_one_alert(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    rules, _ = set_up(factory, ticker, "leads 30 tz UTC", "storage leads 30,7 tz UTC")
    runs = [run for rule in rules for run in plan_runs(factory, rule, FIRE)]
    ticker.tick(FIRE)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster) == Counter({(g, 30, False): 1 for g in goals})
    (message,) = [m for _, _, m in poster.posts]
    assert isinstance(message, AlertBatch) and sorted(message.delivery_ids) == sorted(runs)
    assert all(status(factory, run) == DeliveryStatus.SENT for run in runs)


def test_a_per_alert_row_and_a_run_on_one_goal_make_one_alert(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """A rule made an hour before the alert time plans per-alert rows (its first plan); the
    older rule's run covers the same goals in the same slot: one alert each."""
    (old,), _ = set_up(factory, ticker, "leads 30 tz UTC")
    (run,) = plan_runs(factory, old, FIRE)
    with factory() as session, session.begin():
        remind(Request(session, ctx(FIRE - timedelta(hours=1)), "storage leads 30 tz UTC", 1))
    ticker.tick(FIRE)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster) == Counter({(g, 30, False): 1 for g in goals})
    with factory() as session:
        rows = session.scalars(
            select(Delivery.status).where(Delivery.goal_id.in_(goals), Delivery.kind == "reminder")
        ).all()
    assert sorted(rows) == ["sent"] * 3 and status(factory, run) == DeliveryStatus.SENT


def test_a_goal_alerted_within_the_day_is_recorded_not_shown(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """The 10:00 rule's run comes an hour after the 09:00 rule's was posted: its items are
    recorded as covered (shown false), and the run is folded, not posted."""
    rules, _ = set_up(factory, ticker, "leads 30 tz UTC", "storage leads 30 at 10:00 tz UTC")
    (first,) = plan_runs(factory, rules[0], FIRE)
    ticker.tick(FIRE)
    (second,) = plan_runs(factory, rules[1], FIRE + timedelta(hours=1))
    ticker.tick(FIRE + timedelta(hours=1))
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster) == Counter({(g, 30, False): 1 for g in goals})
    assert items_of(factory, second) == [(g, "due", 30, False) for g in goals]
    assert status(factory, first) == DeliveryStatus.SENT
    assert status(factory, second) == DeliveryStatus.FOLDED


def test_a_follow_up_run_asks_each_goal_once(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """A follow-up run over a deadline passed a week ago, beside a newer rule's per-alert
    follow-up of the same goal (its first plan): one question per goal."""
    with factory() as session, session.begin():
        remind(Request(session, ctx(T0), "leads 7 tz UTC", 1))
    for title in TITLES:
        ingest(factory, issue(title, due=b"By January 2027,"), T0 + timedelta(hours=1))
    ticker.tick(T0 + timedelta(hours=2))
    with factory() as session:
        (rule,) = session.scalars(select(ReminderRule.id)).all()
    asked_at = datetime(2027, 2, 7, 9, 0, tzinfo=UTC)  # 2027-01-31 + 7 days
    # The lead alerts of January were planned before: the run starts after them.
    with factory() as session, session.begin():
        row = session.get(ReminderRule, rule)
        assert row is not None
        row.checked_until = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    # The deadlines passed: the plan has follow-ups and no alert, so only a follow-up run.
    (followups_run,) = plan_runs(factory, rule, asked_at, ("reminder", "followup"))
    with factory() as session, session.begin():
        remind(Request(session, ctx(T0 + timedelta(hours=3)), "storage leads 7 tz UTC", 1))
    ticker.tick(asked_at)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    follow_ups = [m for _, _, m in poster.posts if isinstance(m, FollowUp)]
    assert len(follow_ups) == 1
    assert sorted(g.goal.id for g in follow_ups[0].goals) == goals
    assert items_of(factory, followups_run) == [(g, "due", None, True) for g in goals]
    assert status(factory, followups_run) == DeliveryStatus.SENT
    assert followups_run in follow_ups[0].delivery_ids
    ticker.tick(asked_at + timedelta(days=1))
    assert len([m for _, _, m in poster.posts if isinstance(m, FollowUp)]) == 1


EQUIVALENCE_RULES = (
    "tz UTC",
    "leads 90,30,7 tz Asia/Shanghai",
    "storage leads 365,30 at 07:30 tz America/New_York",
    "battery leads 14,1 at 23:30 tz Pacific/Auckland",
    "leads 365,180,90,60,30,14,7,3,1 at 00:15 tz Europe/Berlin",
)


class _RowPerAlertPlanner(PythonReminderPlanner):
    """The Python planner writing a ledger row per alert (as before rule runs): the
    reference a run's derived items are compared with."""

    def _runs_for(self, rule: Rule) -> None:
        return None


@pytest.mark.usefixtures("corpus")
def test_run_items_are_what_the_planner_plans_pending(factory: sessionmaker[Session]) -> None:
    """Over the demo corpus, for rules in several zones, leads and queries and intervals from
    an hour to a year: a run's items are exactly the alerts ReminderPlanner's
    `_plan_interval` plans PENDING (and the follow-ups it plans) for the same interval."""
    with factory() as session, session.begin():
        for text in EQUIVALENCE_RULES:
            remind(Request(session, ctx(NOW), text, 1))
    # Intervals of an hour to a few weeks (ticks, downtime) over four years, and one of a year.
    marks = [NOW + timedelta(hours=1)]
    for step in itertools.islice(itertools.cycle((1, 19, 170, 400, 23, 700)), 180):
        marks.append(marks[-1] + timedelta(hours=step))
    marks.append(marks[-1] + timedelta(days=365))
    compared = Counter[str]()
    for after, until in itertools.pairwise(marks):
        with factory() as session:  # rolled back when it closes
            revision = search_revision(session)
            session.execute(
                update(ReminderRule).values(checked_until=after, checked_revision=revision)
            )
            planner = _RowPerAlertPlanner(session, until)
            planner.plan()
            expected: set[tuple[object, ...]] = set()
            for row in planner.rows:
                key = str(row["dedupe_key"]).split(":")
                if row["kind"] == "followup":
                    expected.add(
                        (row["reminder_id"], "followup", row["goal_id"], "due", key[4], None)
                    )
                elif row["status"] == DeliveryStatus.PENDING:
                    expected.add(
                        (
                            row["reminder_id"],
                            "reminder",
                            row["goal_id"],
                            key[4],
                            key[5],
                            row["lead_days"],
                        )
                    )
            runs = []
            for rule in session.scalars(select(ReminderRule)):
                for kind in ("reminder", "followup"):
                    run = Delivery(
                        dedupe_key=f"{kind}-run:{rule.id}:{after.isoformat()}",
                        kind=kind,
                        team_id=rule.team_id,
                        channel_id=rule.channel_id,
                        reminder_id=rule.id,
                        status=DeliveryStatus.PENDING,
                        created_at=until,
                        next_attempt_at=until,
                        attempts=0,
                        covers_after=max(after, rule.created_at),
                        covers_until=until,
                        revision_floor=revision,
                        plan_query=rule.query_text,
                        plan_leads=",".join(str(x) for x in sorted(set(rule.leads), reverse=True)),
                        plan_zone=rule.timezone,
                        plan_minute=rule.at_minute,
                    )
                    session.add(run)
                    runs.append(run)
            session.flush()
            plans = read_plans(session, [run.id for run in runs])
            derived = derive(session, plans)
            got: set[tuple[object, ...]] = {
                (plan.rule_id, str(plan.kind), i.goal_id, i.edge, i.edge_on.isoformat(), i.lead)
                for plan in plans
                for i in derived[plan.id]
            }
            assert got == expected, (after, until)
            compared.update(str(entry[1]) for entry in expected)
            session.rollback()
    assert compared["reminder"] > 40 and compared["followup"] > 10, compared


def test_readers_of_alert_rows_see_a_runs_items(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """`/policy forget`'s count of undelivered alerts, and which channels were told of a
    draft (for its finalisation), read a run's items as they read per-alert rows."""
    (rule,), _ = set_up(factory, ticker)
    (run,) = plan_runs(factory, rule, FIRE)
    brief = brief_of(factory, "Run Plan A")
    with factory() as session:
        assert undelivered_of_brief(session, brief) == 0  # items not fixed yet
        assert _told_of(session, brief) == {}
    poster.fail_with = [DeliveryError(FailureKind.RETRY, "ratelimited", retry_after=60)]
    ticker.tick(FIRE)
    with factory() as session:
        assert undelivered_of_brief(session, brief) == 1
        assert _told_of(session, brief) == {("T1", "C1"): (None, rule)}
    ticker.tick(FIRE + timedelta(minutes=2))
    assert status(factory, run) == DeliveryStatus.SENT
    with factory() as session:
        assert undelivered_of_brief(session, brief) == 0
        assert _told_of(session, brief) == {("T1", "C1"): (None, rule)}


def test_a_runs_items_count_as_the_keys_of_the_alerts_they_stand_for(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """What the changed-goal path and first plans check against: a run's items, in any
    status once fixed, as the per-alert keys (reminder_key, followup_key) they stand for."""
    (rule,), _ = set_up(factory, ticker)
    (run,) = plan_runs(factory, rule, FIRE)
    goals = {goal_of(factory, t) for t in TITLES}
    with factory() as session:
        assert ledger.alert_keys_for_goals(session, goals) == set()  # not fixed yet
    poster.fail_with = [DeliveryError(FailureKind.RETRY, "ratelimited", retry_after=60)]
    ticker.tick(FIRE)  # fixed, not posted
    keys = {reminder_key("T1", "C1", g, Edge("due", date(2027, 3, 31)), 30) for g in goals}
    with factory() as session:
        assert ledger.alert_keys_for_goals(session, goals) == keys
    with factory() as session, session.begin():
        followups = Delivery(
            dedupe_key="followup-run:test",
            kind="followup",
            team_id="T1",
            channel_id="C1",
            reminder_id=rule,
            status=DeliveryStatus.SENT,
            created_at=FIRE,
            next_attempt_at=FIRE,
            attempts=1,
            covers_after=FIRE,
            covers_until=FIRE,
        )
        session.add(followups)
        session.flush()
        goal = min(goals)
        session.add(
            AlertItem(delivery_id=followups.id, goal_id=goal, edge="due", edge_on=date(2027, 3, 31))
        )
    with factory() as session:
        found = ledger.alert_keys_for_goals(session, {goal})
    assert found == {
        reminder_key("T1", "C1", goal, Edge("due", date(2027, 3, 31)), 30),
        followup_key("T1", "C1", goal, date(2027, 3, 31)),
    }
    assert status(factory, run) == DeliveryStatus.PENDING


def test_after_downtime_a_run_alerts_the_latest_lead_of_edges_not_passed(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """Nine days without planning: the run over them carries, of each edge, only the latest
    lead that came due (3 days, not 7), and no alert for a deadline passed meanwhile."""
    with factory() as session, session.begin():
        remind(Request(session, ctx(T0), "leads 7,3,1 tz UTC", 1))
    ingest(factory, issue("Run Plan A"), T0 + timedelta(hours=1))  # due 2027-03-31
    ingest(factory, issue("Run Plan B", due=b"By March 27, 2027,"), T0 + timedelta(hours=1))
    ticker.tick(T0 + timedelta(hours=2))
    with factory() as session, session.begin():
        (rule,) = session.scalars(select(ReminderRule)).all()
        rule.checked_until = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
        rule_id = rule.id
    (run,) = plan_runs(factory, rule_id, datetime(2027, 3, 29, 9, 0, tzinfo=UTC))
    with factory() as session:
        b_due = session.scalar(select(Goal.due_on).where(Goal.id == goal_of(factory, "Run Plan B")))
    assert b_due == date(2027, 3, 27)
    ticker.tick(datetime(2027, 3, 29, 9, 0, tzinfo=UTC))
    a = goal_of(factory, "Run Plan A")
    assert alerted(poster) == Counter({(a, 3, False): 1})
    assert items_of(factory, run) == [(a, "due", 3, True)]


def test_a_run_that_cannot_be_prepared_waits_claimed_and_the_rest_is_posted(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """A run whose items cannot be worked out (here: a zone that does not exist) is not
    posted and not dropped: it stays claimed, so after its lease the channel's history
    decides, as after a crash. The other channel's run goes out."""
    rules, _ = set_up(factory, ticker)
    with factory() as session, session.begin():
        remind(Request(session, Context(T0, "T1", "C2", "U1"), "leads 30 tz UTC", 1))
    ticker.tick(T0 + timedelta(hours=3))
    with factory() as session:
        other = session.scalar(select(ReminderRule.id).where(ReminderRule.channel_id == "C2"))
    assert other is not None
    (broken,) = plan_runs(factory, rules[0], FIRE)
    (fine,) = plan_runs(factory, other, FIRE)
    with factory() as session, session.begin():
        row = session.get(Delivery, broken)
        assert row is not None
        row.plan_zone = "Nowhere/Atlantis"
    ticker.tick(FIRE)
    assert [channel for _, channel, _ in poster.posts] == ["C2"]
    assert status(factory, fine) == DeliveryStatus.SENT
    assert status(factory, broken) == DeliveryStatus.CLAIMED
    assert items_of(factory, broken) == []
