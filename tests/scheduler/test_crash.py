"""SIGKILL a scheduler process at random points; after restarts every brief is delivered,
and duplicates can only come from the one documented window (posted, not yet marked)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policybot.data.db import make_engine, session_factory, upgrade
from policybot.handlers.context import Context
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler import ledger
from tests.fakeslack import FakeSlack
from tests.scheduler.conftest import ingest, shown_briefs, tracker_issue

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# One message per channel per slot: many channels give each run many posts to die between.
CHANNELS = [f"C{n}" for n in range(20)]
TRIALS = 20


def posted_refs(fake: FakeSlack) -> Counter[tuple[str, str]]:
    refs: Counter[tuple[str, str]] = Counter()
    for message in fake.posted_messages():
        for ref in shown_briefs(message):
            refs[(message["channel"], ref)] += 1
    return refs


def run_child(url: str, fake: FakeSlack, now: datetime, kill_after: float | None) -> bool:
    """Run one scheduler process; kill it `kill_after` seconds after it is ready."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.scheduler.crash_child", url, fake.url, now.isoformat()],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    with child.stdout:
        assert child.stdout.readline().strip() == "ready"
        if kill_after is None:
            child.wait(60)
            return False
        time.sleep(kill_after)  # a random point in the middle of real work, not a schedule wait
        killed = child.poll() is None
        if killed:
            child.send_signal(signal.SIGKILL)
        child.wait(30)
    return killed


def test_sigkill_at_random_points_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    for channel in CHANNELS:
        with factory() as session, session.begin():
            subscribe(session, Context(now=START, team_id="T1", channel_id=channel), "instant", 1)
    ingest(
        factory,
        tracker_issue(*(f"Crash Brief {n}" for n in range(60))),
        START + timedelta(seconds=5),
    )
    engine.dispose()

    rng = random.Random(20261129)
    kills = 0
    with FakeSlack(latency=0.03) as fake:
        for trial in range(TRIALS):
            # Each run starts a lease later, so it may reclaim what a killed run held.
            now = START + timedelta(minutes=1) + trial * (ledger.CLAIM_LEASE + timedelta(seconds=1))
            kills += run_child(url, fake, now, kill_after=rng.uniform(0.0, 0.25))
        final = (
            START
            + timedelta(minutes=1)
            + (TRIALS + 1) * (ledger.CLAIM_LEASE + timedelta(seconds=1))
        )
        run_child(url, fake, final, kill_after=None)
        refs = posted_refs(fake)
        history_checks = len(fake.calls_to("conversations.history"))

    expected = {(c, f"b{n}") for c in CHANNELS for n in range(1, 61)}
    assert set(refs) == expected, f"missing: {sorted(expected - set(refs))[:10]}"
    duplicated = {key: n for key, n in refs.items() if n > 1}
    # A kill between Slack accepting a post and the ledger recording it leaves the rows
    # claimed; the next worker finds the post in the channel's history (messages carry
    # their ledger ids) instead of posting again. Reported, and required to be zero.
    print(
        f"\ncrash test: {TRIALS} trials, {kills} kills mid-run, {history_checks} history "
        f"checks, {len(duplicated)} duplicated items"
    )
    assert kills >= 5, "the kills did not land mid-run; the test would prove nothing"
    assert history_checks > 0, "no run found rows a killed run had claimed"
    assert duplicated == {}
