"""Attacks on rule runs through the real planner (`Ticker.tick` plans with ReminderPlanner),
the real handlers and the real ingestion writer, both engines: each scenario counts the
alerts the channel reads and compares them, where it helps, with what the product posted
before rule runs (the planner writing a ledger row per alert, `_row_per_alert`).

A channel reads each (goal, edge, lead) once, and a goal at most once a day (two rules of
one channel on one goal: one alert), whatever fails, is edited or is retried between the
plan and the post."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.db import make_engine, session_factory
from policybot.data.models import Delivery, DeliveryStatus, ReminderRule
from policybot.handlers.reminders import edit_rule, remind, remind_off
from policybot.handlers.request import Request
from policybot.scheduler import registry
from policybot.scheduler import ticker as ticker_module
from policybot.scheduler.kinds import alerts_planner
from policybot.scheduler.kinds.alerts_facts import Rule
from policybot.scheduler.messages import DeliveryError, FailureKind, FollowUp, Outgoing
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest
from tests.scheduler.reference_planner import PythonReminderPlanner
from tests.scheduler.runs import forget_brief
from tests.scheduler.test_rule_runs import (
    FIRE,
    SEVEN,
    T0,
    TITLES,
    alerted,
    brief_of,
    ctx,
    goal_of,
    issue,
)


class _RowPerAlert(PythonReminderPlanner):
    """The planner as before rule runs: a ledger row per alert."""

    def _runs_for(self, rule: Rule) -> None:
        return None


def _row_per_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ticker plans alerts a row each (the old semantics), everything else as is."""

    def plan(session: Session, now: datetime) -> int:
        return _RowPerAlert(session, now).plan()

    planners = tuple(plan if p is alerts_planner.plan_reminders else p for p in registry.PLANNERS)
    monkeypatch.setattr(ticker_module, "PLANNERS", planners)


@pytest.fixture(params=["runs", "rows"])
def unit(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each scenario under rule runs (production) and under a row per alert (before)."""
    if request.param == "rows":
        _row_per_alert(monkeypatch)
    return str(request.param)


RAWS: dict[str, bytes] = {}  # each title's issue text as set_up ingested it (to edit it)


def set_up(factory: sessionmaker[Session], *rules: str, claim_batch: int = 500) -> Ticker:
    """Rules made at T0 in C1, the three briefs an hour later (due 2027-03-31), and a tick
    that plans the rules for the first time (nothing due yet)."""
    with factory() as session, session.begin():
        for text in rules:
            remind(Request(session, ctx(T0), text, 1))
    RAWS.clear()
    for title in TITLES:
        RAWS[title] = issue(title)
        ingest(factory, RAWS[title], T0 + timedelta(hours=1))
    poster = KillingPoster()
    ticker = Ticker(factory, poster, worker_id="attack", max_workers=1, claim_batch=claim_batch)
    assert ticker.tick(T0 + timedelta(hours=2)).sent == 0
    return ticker


class _Killed(BaseException):
    """The process dies (SIGKILL) at the post: nothing after it runs, the claim stays."""


@dataclass
class KillingPoster(RecordingPoster):
    """Dies at the next `kills` posts (the crash test's `before_post` point, in-process)."""

    kills: int = 0

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        if self.kills:
            self.kills -= 1
            raise _Killed
        return super().post(team_id, channel_id, message)


def poster_of(ticker: Ticker) -> KillingPoster:
    poster = ticker.poster
    assert isinstance(poster, KillingPoster)
    return poster


def runs_written(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return len(
            list(session.scalars(select(Delivery.id).where(Delivery.covers_after.is_not(None))))
        )


def test_a_run_retried_after_another_rule_alerted_its_goal_is_not_shown_again(
    factory: sessionmaker[Session], unit: str
) -> None:
    """Two rules of one channel alert the same goals at the same time; the claim batch splits
    them. The first rule's post fails (a 5xx: retried later, the channel's other batches
    still tried); the second rule's goes out. When the first is retried its goals were
    alerted within the day: not shown again (a row per alert was folded at its retry)."""
    ticker = set_up(factory, "leads 30 tz UTC", "storage leads 30 tz UTC", claim_batch=1)
    poster = poster_of(ticker)
    poster.fail_with.append(DeliveryError(FailureKind.RETRY, "internal_error"))
    ticker.tick(FIRE)
    for minutes in (5, 30, 90):
        ticker.tick(FIRE + timedelta(minutes=minutes))
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster) == Counter({(g, 30, False): 1 for g in goals})
    assert (runs_written(factory) > 0) == (unit == "runs")
    assert unsettled(factory) == []


def tick_killed(ticker: Ticker, now: datetime) -> None:
    """A tick whose process dies at its first post (its claim and prepare committed)."""
    poster_of(ticker).kills = 1
    with pytest.raises(_Killed):
        ticker.tick(now)


def test_a_run_recovered_after_a_crash_does_not_repeat_what_another_rule_alerted(
    factory: sessionmaker[Session], unit: str
) -> None:
    """The 09:00 rule's claim is prepared and the process dies before its post; the 09:02
    rule's alerts on the same goals go out at 09:02 (the dead claim holds no channel); at
    09:06 the dead claim's lease is over and it is recovered: its goals were alerted four
    minutes earlier, so they are recorded, not shown again (as a row per alert was folded
    when recovered)."""
    ticker = set_up(factory, "leads 30 tz UTC", "storage leads 30 at 09:02 tz UTC")
    tick_killed(ticker, FIRE)
    ticker.tick(FIRE + timedelta(minutes=2))
    ticker.tick(FIRE + timedelta(minutes=6))
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster_of(ticker)) == Counter({(g, 30, False): 1 for g in goals})
    assert (runs_written(factory) > 0) == (unit == "runs")
    assert unsettled(factory) == []


def unsettled(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                select(Delivery.status).where(
                    Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.CLAIMED])
                )
            )
        )


def plan_only(factory: sessionmaker[Session], now: datetime, unit: str) -> None:
    """The alert planner's transaction of a tick whose claim comes later (the process died
    after planning, or the channel waits for a Retry-After)."""
    with factory() as session, session.begin():
        if unit == "rows":
            _RowPerAlert(session, now).plan()
        else:
            alerts_planner.plan_reminders(session, now)


ASKED = datetime(2027, 2, 7, 9, 0, tzinfo=UTC)  # 2027-01-31 + the follow-up delay


def test_follow_ups_planned_before_a_rule_is_updated_are_still_asked(
    factory: sessionmaker[Session], unit: str
) -> None:
    """Deadlines of 2027-01-31: their follow-ups are planned at 2027-02-07 09:00; before they
    are claimed, the channel updates its rule (`/policy remind` with new leads: it watches
    from now). The follow-ups planned still go out once (a row per follow-up did); the
    update does not make the deadlines look as if they passed before the rule watched."""
    with factory() as session, session.begin():
        remind(Request(session, ctx(T0), "leads 7 tz UTC", 1))
    for title in TITLES:
        ingest(factory, issue(title, due=b"By January 2027,"), T0 + timedelta(hours=1))
    ticker = Ticker(factory, KillingPoster(), worker_id="attack", max_workers=1)
    ticker.tick(T0 + timedelta(hours=2))
    ticker.tick(datetime(2027, 1, 24, 9, 0, tzinfo=UTC))  # the 7-day lead
    ticker.tick(ASKED - timedelta(days=1))
    plan_only(factory, ASKED, unit)
    with factory() as session, session.begin():
        remind(Request(session, ctx(ASKED + timedelta(seconds=20)), "leads 7,1 tz UTC", 1))
    ticker.tick(ASKED + timedelta(minutes=1))
    ticker.tick(ASKED + timedelta(days=1))
    goals = sorted(goal_of(factory, t) for t in TITLES)
    asked = Counter(
        g.goal.id for _, _, m in poster_of(ticker).posts if isinstance(m, FollowUp) for g in m.goals
    )
    assert asked == Counter({g: 1 for g in goals})
    assert alerted(poster_of(ticker)) == Counter({(g, 7, False): 1 for g in goals})
    assert (runs_written(factory) > 0) == (unit == "runs")


# 09:00 on 2027-03-01 (the 30-day lead of 2027-03-31) at UTC+14 and 25 hours later at UTC-11.
EAST = datetime(2027, 2, 28, 19, 0, tzinfo=UTC)
WEST = datetime(2027, 3, 1, 20, 0, tzinfo=UTC)


def test_two_rules_of_a_channel_in_zones_a_day_apart_alert_a_lead_once(
    factory: sessionmaker[Session], unit: str
) -> None:
    """Two rules of one channel, at 09:00 in Pacific/Kiritimati (UTC+14) and in
    Pacific/Pago_Pago (UTC-11), on the same goals and lead: the second's 30-day lead comes
    25 hours after the first's, past the day's quiet time. The channel reads each (goal,
    edge, lead) once, as a row per alert (one ledger key per channel, goal, edge, lead) had
    it: the second is recorded, not shown."""
    ticker = set_up(
        factory, "leads 30 tz Pacific/Kiritimati", "storage leads 30 tz Pacific/Pago_Pago"
    )
    for now in (EAST, EAST + timedelta(hours=12), WEST, WEST + timedelta(days=1)):
        ticker.tick(now)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster_of(ticker)) == Counter({(g, 30, False): 1 for g in goals})
    assert (runs_written(factory) > 0) == (unit == "runs")
    assert unsettled(factory) == []


def test_a_rule_moved_to_a_zone_a_day_behind_does_not_alert_a_lead_again(
    factory: sessionmaker[Session], unit: str
) -> None:
    """The channel's rule alerts the 30-day lead at 09:00 in Pacific/Kiritimati; an hour
    later the channel moves it to Pacific/Pago_Pago, where 09:00 on that day is 25 hours
    after the post. The lead is not alerted again."""
    ticker = set_up(factory, "leads 30,7 tz Pacific/Kiritimati")
    ticker.tick(EAST)
    with factory() as session, session.begin():
        remind(
            Request(session, ctx(EAST + timedelta(hours=1)), "leads 30,7 tz Pacific/Pago_Pago", 1)
        )
    for now in (EAST + timedelta(hours=12), WEST, WEST + timedelta(days=1)):
        ticker.tick(now)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster_of(ticker)) == Counter({(g, 30, False): 1 for g in goals})
    assert (runs_written(factory) > 0) == (unit == "runs")


def test_a_brief_removed_and_added_again_between_plan_and_post(
    factory: sessionmaker[Session], unit: str
) -> None:
    """Brief A is removed (`/policy forget`) after the 30-day lead was planned and before it
    is claimed, and ingested again with the same text: a new brief, a new goal, known only
    after its lead came due: "newly tracked", once; B and C at their lead, once."""
    ticker = set_up(factory, "leads 30 tz UTC")
    plan_only(factory, FIRE, unit)
    forget_brief(factory, brief_of(factory, "Run Plan A"))
    ingest(factory, RAWS["Run Plan A"], FIRE + timedelta(seconds=10))
    for now in (FIRE + timedelta(minutes=1), FIRE + timedelta(days=1)):
        ticker.tick(now)
    expected: Counter[tuple[int, int | None, bool]] = Counter(
        {(goal_of(factory, t), 30, False): 1 for t in TITLES[1:]}
    )
    expected[(goal_of(factory, "Run Plan A"), None, True)] = 1
    assert alerted(poster_of(ticker)) == expected
    assert unsettled(factory) == []


def test_a_deadline_moved_out_of_the_interval_before_prepare(
    factory: sessionmaker[Session], unit: str
) -> None:
    """Brief A's deadline moves from 2027-03-31 to 2027-04-30 after its 30-day lead was
    planned, before the run's items are fixed. A run leaves it out (its brief is past the
    run's revision; the changed-goal path has nothing due for the new date) and alerts the
    new date's 30-day lead on 2027-03-31. A row per alert posted the planned alert anyway,
    showing the new date ("due in 60 days" under a 30-day lead), then the new lead: the old
    behaviour was itself wrong there."""
    ticker = set_up(factory, "leads 30 tz UTC")
    plan_only(factory, FIRE, unit)
    moved = RAWS["Run Plan A"].replace(b"By March 2027,", b"By April 2027,")
    ingest(factory, moved, FIRE + timedelta(seconds=10))
    for day in (1, 2, 15, 31):
        ticker.tick(datetime(2027, 3, day, 9, 1, tzinfo=UTC))
    a = goal_of(factory, "Run Plan A")
    expected = Counter({(goal_of(factory, t), 30, False): 1 for t in TITLES[1:]})
    expected[(a, 30, False)] = 2 if unit == "rows" else 1
    assert alerted(poster_of(ticker)) == expected
    assert unsettled(factory) == []


def test_alert_times_on_the_days_the_clocks_change(
    factory: sessionmaker[Session], unit: str
) -> None:
    """A rule at 02:30 in Europe/Berlin: on 2027-03-28 that time does not exist (02:00 ->
    03:00), on 2027-10-31 it comes twice (03:00 -> 02:00). Ticks every half hour over both
    days (days between): the 3-day lead of 2027-03-31 and the 30-day lead of 2027-11-30
    come once each, as do the others."""
    with factory() as session, session.begin():
        remind(Request(session, ctx(T0), "leads 30,3 at 02:30 tz Europe/Berlin", 1))
    ingest(factory, issue("Run Plan A"), T0 + timedelta(hours=1))
    ingest(factory, issue("Run Plan B", due=b"By November 2027,"), T0 + timedelta(hours=1))
    ticker = Ticker(factory, KillingPoster(), worker_id="attack", max_workers=1)
    ticker.tick(T0 + timedelta(hours=2))
    ticks = [datetime(2027, 3, 1, 12, 0, tzinfo=UTC)]
    for start in (datetime(2027, 3, 27, 12, tzinfo=UTC), datetime(2027, 10, 30, 12, tzinfo=UTC)):
        ticks += [start + timedelta(minutes=30 * n) for n in range(49)]
    ticks.append(datetime(2027, 11, 28, 12, 0, tzinfo=UTC))
    for now in ticks:
        ticker.tick(now)
    a, b = goal_of(factory, "Run Plan A"), goal_of(factory, "Run Plan B")
    assert alerted(poster_of(ticker)) == Counter(
        {(a, 30, False): 1, (a, 3, False): 1, (b, 30, False): 1, (b, 3, False): 1}
    )
    assert (runs_written(factory) > 0) == (unit == "runs")


def test_a_rule_edited_between_plan_and_post_posts_what_was_planned_once(
    factory: sessionmaker[Session], unit: str
) -> None:
    """The 30-day lead is planned; before the claim the rule is edited in place (other
    words, leads 7, another time and zone). What was planned posts as planned, once; the
    edited rule alerts its own leads later, nothing twice."""
    ticker = set_up(factory, "leads 30 tz UTC")
    plan_only(factory, FIRE, unit)
    with factory() as session, session.begin():
        rule = session.scalars(select(ReminderRule)).one()
        edit_rule(
            session,
            ctx(FIRE + timedelta(seconds=10)),
            rule,
            "storage",
            "leads 30,7 at 18:00 tz America/New_York",
            False,
        )
    for now in (FIRE + timedelta(minutes=1), FIRE + timedelta(days=1), SEVEN_NY):
        ticker.tick(now)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    expected = Counter({(g, lead, False): 1 for g in goals for lead in (30, 7)})
    assert alerted(poster_of(ticker)) == expected
    assert unsettled(factory) == []


SEVEN_NY = datetime(2027, 3, 24, 23, 0, tzinfo=UTC)  # 2027-03-24 18:00 in New York (EDT)


def test_reminders_turned_off_between_plan_and_post_and_on_again(
    factory: sessionmaker[Session], unit: str
) -> None:
    """The 30-day lead is planned; before the claim the channel turns its reminders off and
    on again (a new rule, watching from now): nothing planned by the removed rule is posted,
    the new rule does not alert the lead that came due before it, and it alerts the 7-day
    lead once."""
    ticker = set_up(factory, "leads 30,7 tz UTC")
    plan_only(factory, FIRE, unit)
    with factory() as session, session.begin():
        remind_off(Request(session, ctx(FIRE + timedelta(seconds=10)), "", 1))
        remind(Request(session, ctx(FIRE + timedelta(seconds=20)), "leads 30,7 tz UTC", 1))
    for now in (FIRE + timedelta(minutes=1), FIRE + timedelta(days=1), SEVEN):
        ticker.tick(now)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster_of(ticker)) == Counter({(g, 7, False): 1 for g in goals})
    assert unsettled(factory) == []


def test_downtime_over_two_leads_alerts_the_latest_once(
    factory: sessionmaker[Session], unit: str
) -> None:
    """The scheduler is down from the first plan until a day after the 7-day lead: the
    30-day lead is folded into it, each goal is alerted once at 7 days, nothing follows."""
    ticker = set_up(factory, "leads 30,7 tz UTC")
    for now in (SEVEN + timedelta(days=1), SEVEN + timedelta(days=2), SEVEN + timedelta(days=9)):
        ticker.tick(now)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    assert alerted(poster_of(ticker)) == Counter({(g, 7, False): 1 for g in goals})
    assert unsettled(factory) == []


def test_a_channel_paused_by_its_post_and_resumed_later(
    factory: sessionmaker[Session], unit: str
) -> None:
    """The 30-day lead's post is refused (the bot was removed from the channel): the rule
    pauses, its alerts wait. Resumed (`/policy remind` again) two weeks later, the waiting
    alerts go out once, then the 7-day lead once."""
    ticker = set_up(factory, "leads 30,7 tz UTC")
    poster_of(ticker).fail_with.append(DeliveryError(FailureKind.CHANNEL, "not_in_channel"))
    report = ticker.tick(FIRE)
    assert report.paused and report.sent == 0
    ticker.tick(FIRE + timedelta(days=1))
    resumed = FIRE + timedelta(days=14)
    with factory() as session, session.begin():
        remind(Request(session, ctx(resumed), "leads 30,7 tz UTC", 1))
    for now in (resumed + timedelta(minutes=1), SEVEN, SEVEN + timedelta(days=1)):
        ticker.tick(now)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    expected = Counter({(g, lead, False): 1 for g in goals for lead in (30, 7)})
    assert alerted(poster_of(ticker)) == expected
    assert unsettled(factory) == []


def test_two_rules_of_a_channel_ask_a_follow_up_once(
    factory: sessionmaker[Session], unit: str
) -> None:
    """Two rules of one channel on the same goals, at 09:00 and at 10:00: the deadlines of
    2027-01-31 are followed up once in the channel (a row per follow-up had one key per
    channel, goal and deadline), not once per rule."""
    with factory() as session, session.begin():
        remind(Request(session, ctx(T0), "leads 7 tz UTC", 1))
        remind(Request(session, ctx(T0), "storage leads 7 at 10:00 tz UTC", 1))
    for title in TITLES:
        ingest(factory, issue(title, due=b"By January 2027,"), T0 + timedelta(hours=1))
    ticker = Ticker(factory, KillingPoster(), worker_id="attack", max_workers=1)
    ticker.tick(T0 + timedelta(hours=2))
    ticker.tick(datetime(2027, 1, 24, 12, 0, tzinfo=UTC))  # the 7-day leads
    for now in (ASKED, ASKED + timedelta(hours=1), ASKED + timedelta(days=2)):
        ticker.tick(now)
    goals = sorted(goal_of(factory, t) for t in TITLES)
    asked = Counter(
        g.goal.id for _, _, m in poster_of(ticker).posts if isinstance(m, FollowUp) for g in m.goals
    )
    assert asked == Counter({g: 1 for g in goals})
    assert (runs_written(factory) > 0) == (unit == "runs")


@pytest.mark.postgres
def test_two_schedulers_racing_over_rules_a_day_apart(fresh_postgres_url: str) -> None:
    """Two schedulers without the leader lock tick the same instants against one PostgreSQL
    database; the channel has rules at 09:00 in Pacific/Kiritimati, at 10:00 and at 09:00
    in Pacific/Pago_Pago on the same goals (deadlines 2027-01-31 and 2027-03-31): each
    (goal, lead) is alerted once (at most), each passed deadline followed up once."""
    engines = [make_engine(fresh_postgres_url) for _ in range(2)]
    factories = [session_factory(e) for e in engines]
    with factories[0]() as session, session.begin():
        for text in (
            "leads 30,7 tz Pacific/Kiritimati",
            "storage leads 30,7 at 10:00 tz UTC",
            "energy leads 30,7 tz Pacific/Pago_Pago",
        ):
            remind(Request(session, ctx(T0), text, 1))
    for title in TITLES:
        ingest(factories[0], issue(title), T0 + timedelta(hours=1))
        ingest(factories[0], issue(f"{title} J", due=b"By January 2027,"), T0 + timedelta(hours=1))
    poster = RecordingPoster()
    tickers = [
        Ticker(f, poster, worker_id=f"replica-{i}", max_workers=2, leader_lock=False)
        for i, f in enumerate(factories)
    ]
    instants = [T0 + timedelta(hours=2)]
    for day in (datetime(2027, 1, 23, tzinfo=UTC), datetime(2027, 2, 6, tzinfo=UTC)):
        instants += [day + timedelta(hours=h) for h in range(0, 48, 2)]
    for day in (datetime(2027, 2, 28, tzinfo=UTC), datetime(2027, 3, 23, tzinfo=UTC)):
        instants += [day + timedelta(hours=h) for h in range(0, 48, 2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(ticker: Ticker) -> None:
        try:
            for now in instants:
                barrier.wait()
                ticker.tick(now)
        except BaseException as error:  # surfaced below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(t,)) for t in tickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors
    march = sorted(goal_of(factories[0], t) for t in TITLES)
    january = sorted(goal_of(factories[0], f"{t} J") for t in TITLES)
    for engine in engines:
        engine.dispose()
    # January's 30-day lead came due at Kiritimati's 09:00 before the briefs were known:
    # "newly tracked" there, the lead's key folded, so the other rules' 30-day lead of the
    # same deadline later that day is not alerted either (as with a row per alert).
    expected: Counter[tuple[int, int | None, bool]] = Counter(
        {(g, lead, False): 1 for g in march for lead in (30, 7)}
    )
    expected.update({(g, 7, False): 1 for g in january})
    expected.update({(g, None, True): 1 for g in january})
    assert alerted(poster) == expected
    asked = Counter(
        g.goal.id for _, _, m in poster.posts if isinstance(m, FollowUp) for g in m.goals
    )
    assert asked == Counter({g: 1 for g in january})


def test_a_deadline_moved_into_the_interval_before_prepare(
    factory: sessionmaker[Session], unit: str
) -> None:
    """Brief D, due 2027-05-31, is edited to 2027-03-31 after the 30-day lead of March was
    planned (without it) and before the claim: the changed-goal path alerts its 30-day lead
    once, with B and C's; its May lead never comes."""
    ticker = set_up(factory, "leads 30 tz UTC")
    raw = issue("Run Plan D", due=b"By May 2027,")
    ingest(factory, raw, T0 + timedelta(hours=1))
    ticker.tick(T0 + timedelta(hours=3))
    plan_only(factory, FIRE, unit)
    ingest(factory, raw.replace(b"By May 2027,", b"By March 2027,"), FIRE + timedelta(seconds=10))
    for now in (FIRE + timedelta(minutes=1), FIRE + timedelta(days=1), FIRE + timedelta(days=61)):
        ticker.tick(now)
    titles = [*TITLES, "Run Plan D"]
    expected = Counter({(goal_of(factory, t), 30, False): 1 for t in titles})
    assert alerted(poster_of(ticker)) == expected
    assert unsettled(factory) == []
