"""A scheduler process killed (SIGKILL) at named points: after its claim, before a post,
after Slack accepted a post and before the ledger recorded it, after a message was recorded
with the rest of its batch untried. After restarts every brief reaches every channel
exactly once, and what each kill leaves is the same on every run (scheduler/faults.py: the
process kills itself at the armed point, no timer).

The one documented window (ledger.py): a post accepted and not yet recorded is found again
in the channel's history; only when the history cannot be read is it posted a second time.
That duplicate is asserted exactly: the killed message's briefs in its channel, nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.models import Delivery, DeliveryStatus
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler import ledger
from policybot.scheduler.faults import ENVIRONMENT
from tests.fakeslack import FakeSlack, Fault
from tests.scheduler.conftest import ingest, shown_briefs, tracker_issue

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# One message per channel per slot; a claim takes about nine channels' rows (500 rows of
# 60 a channel), so a tick makes three claims and twenty posts to die between.
CHANNELS = [f"C{n:02d}" for n in range(20)]
BRIEFS = 60


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    else:
        url = str(request.getfixturevalue("fresh_postgres_url"))
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    for channel in CHANNELS:
        with factory() as session, session.begin():
            subscribe(
                Request(session, Context(now=START, team_id="T1", channel_id=channel), "instant", 1)
            )
    titles = [f"Crash Brief {n}" for n in range(BRIEFS)]
    ingest(factory, tracker_issue(*titles), START + timedelta(seconds=5))
    engine.dispose()
    return url


def run_at(run: int) -> datetime:
    """Each run starts a lease after the last, so it takes over what a killed run held."""
    return START + timedelta(minutes=1) + run * (ledger.CLAIM_LEASE + timedelta(seconds=1))


def run_child(url: str, fake: FakeSlack, now: datetime, kill_at: str | None) -> int:
    """One scheduler process ticking at `now`, armed to die at `kill_at`; its exit code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(ENVIRONMENT, None)
    if kill_at is not None:
        env[ENVIRONMENT] = kill_at
    child = subprocess.run(
        [sys.executable, "-m", "tests.scheduler.crash_child", url, fake.url, now.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if kill_at is None:
        assert child.returncode == 0, child.stderr[-2000:]
    return child.returncode


def posted(fake: FakeSlack) -> Counter[tuple[str, str]]:
    """How often each (channel, brief) was posted."""
    refs: Counter[tuple[str, str]] = Counter()
    for message in fake.posted_messages():
        for ref in shown_briefs(message):
            refs[(message["channel"], ref)] += 1
    return refs


def posts(fake: FakeSlack) -> list[str]:
    """The channels posted to, oldest first."""
    return [c.params["channel"] for c in fake.calls_to("chat.postMessage") if c.status == 200]


def rows(url: str, **where: object) -> int:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        statement = select(func.count()).select_from(Delivery).filter_by(**where)
        found = int(session.scalar(statement) or 0)
    engine.dispose()
    return found


KILLED = -signal.SIGKILL


def test_kills_at_each_named_point_lose_nothing_and_post_nothing_twice(database: str) -> None:
    url = database
    total = len(CHANNELS) * BRIEFS
    with FakeSlack() as fake:
        # Killed right after its first claim committed: nothing posted, the rows held.
        assert run_child(url, fake, run_at(0), "after_claim") == KILLED
        assert posts(fake) == []
        held = rows(url, status=DeliveryStatus.CLAIMED)
        assert 500 <= held < total  # whole channels: at least one batch, not everything

        # Killed after Slack accepted the first message, before the ledger recorded it.
        assert run_child(url, fake, run_at(1), "after_post") == KILLED
        (first,) = posts(fake)
        assert rows(url, status=DeliveryStatus.SENT) == 0

        # The next run finds that message in the channel's history (records it, posts it
        # not again), posts the next channel and dies after recording it: mid-batch.
        assert run_child(url, fake, run_at(2), "after_mark:2") == KILLED
        assert posts(fake)[0] == first and len(posts(fake)) == 2
        assert rows(url, message_ts="recovered") == BRIEFS  # the first channel's rows
        assert fake.calls_to("conversations.history")

        # Killed before its third post: two more messages out and recorded.
        assert run_child(url, fake, run_at(3), "before_post:3") == KILLED
        assert len(posts(fake)) == 4
        # Killed after the 6th post of a claim mixing rows a killed run held (looked up in
        # the history first) with fresh ones; then after its second claim committed.
        assert run_child(url, fake, run_at(4), "after_post:6") == KILLED
        assert len(posts(fake)) == 10
        # Its first claim: the 10th channel (posted, found in the history) and eight more
        # posted; killed once the second claim, the last two channels' rows, committed.
        assert run_child(url, fake, run_at(5), "after_claim:2") == KILLED
        assert len(posts(fake)) == 18
        assert rows(url, status=DeliveryStatus.CLAIMED) == 2 * BRIEFS

        assert run_child(url, fake, run_at(6), None) == 0  # nothing armed: it finishes
        refs = posted(fake)
    assert set(refs) == {(c, f"b{n}") for c in CHANNELS for n in range(1, BRIEFS + 1)}
    assert max(refs.values()) == 1, "a brief was posted twice"
    assert len(posts(fake)) == len(CHANNELS)  # one message per channel, none repeated
    assert rows(url, status=DeliveryStatus.SENT) == total


def test_the_one_documented_window_when_history_cannot_be_read(database: str) -> None:
    """A post accepted and not recorded, in a channel whose history the bot may not read:
    posted once more after the lease, exactly that message and nothing else."""
    url = database
    with FakeSlack() as fake:
        fake.fail_randomly(
            1.0, [Fault("error", error="missing_scope")], methods=("conversations.history",)
        )
        assert run_child(url, fake, run_at(0), "after_post:2") == KILLED
        first, second = posts(fake)
        window = {key for key in posted(fake) if key[0] == second}
        assert run_child(url, fake, run_at(1), None) == 0
        refs = posted(fake)
    assert set(refs) == {(c, f"b{n}") for c in CHANNELS for n in range(1, BRIEFS + 1)}
    duplicated = {key for key, count in refs.items() if count > 1}
    assert duplicated == window and len(window) == BRIEFS
    assert max(refs.values()) == 2
    assert posts(fake).count(first) == 1 and posts(fake).count(second) == 2
